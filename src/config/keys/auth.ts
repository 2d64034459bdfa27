import type { KeyDef } from '../schema.js';

/** Authentication (src/auth). */
export const authKeys: KeyDef[] = [
  {
    key: 'auth-modules',
    type: 'list',
    default: ['pam'],
    section: 'Authentication',
    description: 'Password-check modules in the order they are asked: pam, passwd, sqlite, cram-md5, external, nul. The first module that knows the user decides.',
  },
  {
    key: 'plaintext',
    type: 'enum',
    values: ['tls-only', 'always', 'never'],
    default: 'tls-only',
    section: 'Authentication',
    description: 'Plaintext passwords (LOGIN, USER/PASS, AUTH PLAIN/LOGIN): tls-only = UW SSLTYPE=nopwd (allowed under TLS and from loopback), always, never.',
  },
];
