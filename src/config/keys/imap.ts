import type { KeyDef } from '../schema.js';

/** imapd (src/imap). */
export const imapKeys: KeyDef[] = [
  {
    key: 'max-line-length',
    type: 'int',
    default: 65536,
    min: 1024,
    section: 'IMAP',
    description: 'Longest command line accepted (UW: 65536); longer lines get BAD and are discarded.',
  },
];
