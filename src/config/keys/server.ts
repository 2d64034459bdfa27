import type { KeyDef } from '../schema.js';

/** Process-wide settings shared by every daemon. */
export const serverKeys: KeyDef[] = [
  {
    key: 'hostname',
    type: 'string',
    default: '',
    section: 'Server',
    description: 'Host name used in greetings, log lines and the mbox pseudo-message (UW local-host). Empty: the system host name.',
  },
  {
    key: 'state-directory',
    type: 'path',
    default: '/var/lib/uwimap',
    section: 'Server',
    description: 'Directory for the server\'s own state: throttling database, virtual users, self-signed certificates of the demo setup.',
  },
  {
    key: 'nologin-file',
    type: 'path',
    default: '/etc/nologin',
    section: 'Server',
    description: 'When this file exists the daemons refuse service with a BYE/-ERR (UW behaviour).',
  },
  {
    key: 'umask',
    type: 'mode',
    default: 0o022,
    section: 'Server',
    description: 'umask applied after login when the inherited umask is 0 (UW forces 022 only in that case).',
  },
  {
    key: 'preauth',
    type: 'enum',
    values: ['auto', 'never'],
    default: 'auto',
    section: 'Server',
    description: 'auto: when started as a non-root user (ssh host imapd), the IMAP daemon pre-authenticates as that user (* PREAUTH). never: always ask for a login.',
  },
];

/** Logging. */
export const logKeys: KeyDef[] = [
  {
    key: 'log-target',
    type: 'enum',
    values: ['syslog', 'file', 'none'],
    default: 'syslog',
    section: 'Logging',
    description: 'Where log lines go. Never stdout or stderr: under inetd and systemd both are the client\'s socket.',
  },
  {
    key: 'log-file',
    type: 'path',
    default: '',
    section: 'Logging',
    description: 'File to append log lines to when log-target is file.',
  },
  {
    key: 'syslog-facility',
    type: 'enum',
    values: ['mail', 'auth', 'authpriv', 'daemon', 'user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'],
    default: 'mail',
    section: 'Logging',
    description: 'Syslog facility (UW uses mail).',
  },
  {
    key: 'log-level',
    type: 'enum',
    values: ['debug', 'info', 'notice', 'warning', 'error'],
    default: 'info',
    section: 'Logging',
    description: 'Lowest level that is logged.',
  },
];

/** TLS for STARTTLS/STLS and the implicit-TLS ports. */
export const tlsKeys: KeyDef[] = [
  {
    key: 'tls-cert',
    type: 'path',
    default: '/etc/ssl/certs/imapd.pem',
    section: 'TLS',
    description: 'PEM certificate chain. When missing, STARTTLS/STLS answer "Server certificate not installed" (UW behaviour) and implicit-TLS service refuses to start.',
  },
  {
    key: 'tls-key',
    type: 'path',
    default: '',
    section: 'TLS',
    description: 'PEM private key. Empty: the key is read from tls-cert (UW falls back the same way).',
  },
  {
    key: 'tls-min-version',
    type: 'enum',
    values: ['TLSv1.2', 'TLSv1.3'],
    default: 'TLSv1.2',
    section: 'TLS',
    description: 'Oldest TLS version accepted.',
  },
  {
    key: 'tls-ciphers',
    type: 'string',
    default: '',
    section: 'TLS',
    description: 'OpenSSL cipher list for TLS 1.2. Empty: Node\'s default (modern, forward-secret).',
  },
  {
    key: 'implicit-tls',
    type: 'bool',
    default: false,
    section: 'TLS',
    description: 'Start TLS at once (imaps/pop3s). Also implied when the program is invoked as imapsd, ipop3sd or simapd/spop3d.',
  },
];

/** Session timers (UW values by default). */
export const timerKeys: KeyDef[] = [
  {
    key: 'login-timeout',
    type: 'seconds',
    default: 180,
    min: 10,
    section: 'Timers',
    description: 'Time allowed from the greeting to a successful login, and per command before login (UW LOGINTIMEOUT: 3 minutes).',
  },
  {
    key: 'imap-idle-timeout',
    type: 'seconds',
    default: 1800,
    min: 60,
    section: 'Timers',
    description: 'IMAP autologout after this much inactivity once logged in (RFC 3501 minimum and UW default: 30 minutes).',
  },
  {
    key: 'pop-idle-timeout',
    type: 'seconds',
    default: 600,
    min: 60,
    section: 'Timers',
    description: 'POP3/POP2 autologout after this much inactivity once logged in (UW: 10 minutes).',
  },
];
