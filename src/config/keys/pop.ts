import type { KeyDef } from '../schema.js';

/** ipop3d and ipop2d (src/pop3, src/pop2). */
export const popKeys: KeyDef[] = [
  {
    key: 'pop3-login-delay',
    type: 'seconds',
    default: 180,
    section: 'POP',
    description: 'LOGIN-DELAY advertised in CAPA (RFC 2449; UW advertises 180 s). 0: not advertised.',
  },
  {
    key: 'pop3-login-delay-enforce',
    type: 'bool',
    default: false,
    section: 'POP',
    description: 'Refuse a POP3 login sooner than pop3-login-delay after the same user\'s previous one, with -ERR [LOGIN-DELAY] (UW only advertises it).',
  },
  {
    key: 'pop3-expire',
    type: 'string',
    default: '',
    section: 'POP',
    description: 'EXPIRE policy (RFC 2449): empty = not advertised; NEVER; or a number of days after retrieval when messages are deleted (0 = at the end of the session that retrieved them, as if DELE had been given).',
  },
  {
    key: 'pop3-kiss-of-death-idle',
    type: 'seconds',
    default: 300,
    section: 'POP',
    description: 'A POP3 session gives its mailbox to a newcomer (the kiss of death) only when it has been idle this long (UW: 5 minutes); an active one keeps it and the newcomer gets [IN-USE].',
  },
];
