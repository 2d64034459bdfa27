import type { KeyDef } from '../schema.js';

/** Mail store (src/store). */
export const storeKeys: KeyDef[] = [
  {
    key: 'spool-directory',
    type: 'path',
    default: '/var/mail',
    section: 'Mail store',
    description: 'Mail spool directory: INBOX is <spool-directory>/<user> (UW MAILSPOOL; Debian uses /var/mail).',
  },
];
