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
imapKeys.push(
  {
    key: 'max-literal-size',
    type: 'int',
    default: 10000,
    min: 1000,
    section: 'IMAP',
    description: 'Largest literal accepted outside APPEND (UW: 10000); larger ones get "* NO Absurdly long client literal".',
  },
  {
    key: 'max-append-size',
    type: 'int',
    default: 64 * 1024 * 1024,
    min: 1024,
    section: 'IMAP',
    description: 'Largest message APPEND accepts, in bytes; larger ones get "NO Excessively large message".',
  },
  {
    key: 'alert-file',
    type: 'path',
    default: '/etc/imapd.alert',
    section: 'IMAP',
    description: 'Each line of this file is shown to every session as * OK [ALERT] (UW /etc/imapd.alert), again whenever it changes.',
  },
  {
    key: 'login-referrals',
    type: 'path',
    default: '',
    section: 'IMAP',
    description: 'File of "<user> <imap URL>" lines: those users are sent to another server at login with NO [REFERRAL url] (RFC 2221 LOGIN-REFERRALS).',
  },
  {
    key: 'mailbox-referrals',
    type: 'path',
    default: '',
    section: 'IMAP',
    description: 'File of "<mailbox name prefix> <imap URL prefix>" lines: SELECT, EXAMINE, STATUS, APPEND, CREATE and COPY/MOVE to such names answer NO [REFERRAL url] (RFC 2193 MAILBOX-REFERRALS).',
  },
  {
    key: 'idle-poll-interval',
    type: 'seconds',
    default: 5,
    min: 1,
    section: 'IMAP',
    description: 'How often IDLE looks for new mail and changes (UW: 60 s).',
  },
);
