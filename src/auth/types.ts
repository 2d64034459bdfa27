/**
 * Authentication boundary: password-check modules ("checkpw" in UW terms),
 * SASL mechanisms and the identity a successful login yields. Protocol
 * sessions see only Authenticator (src/auth/authenticator.ts).
 */

/** Who the process becomes after a successful login. */
export interface Identity {
  /** Login name (for virtual users `user@domain` as configured). */
  user: string;
  uid: number;
  gid: number;
  /** Supplementary groups (initgroups for system users). */
  groups: number[];
  home: string;
  /** Root of the user's mailboxes when it is not the home directory (virtual users: e.g. /var/mail/virtual/dom/user). */
  mailRoot?: string;
  /** Spool INBOX path override (virtual users keep INBOX under mailRoot). */
  inbox?: string;
  /** Confine mailbox names to the user's tree (UW restrictBox "all"). */
  restrict: boolean;
  /** True for users from the sqlite virtual-user module. */
  virtual: boolean;
  /** Per-user quota in bytes, if any. */
  quota?: number;
  /** The module that accepted the login. */
  module: string;
  /** Anonymous login (UW /etc/anonymous.newsgroups). */
  anonymous?: boolean;
  /** Untagged alerts to show after login ("Password expires in 3 days"). */
  alerts?: string[];
}

/** Facts about the connection a login arrives on. */
export interface AuthContext {
  /** 'imap' or 'pop' (UW's PAM service names; POP2 uses 'pop'). */
  service: 'imap' | 'pop';
  remoteAddress: string;
  /** TLS is active on the session (implicit or STARTTLS/STLS). */
  tls: boolean;
  /** The client is on this host (loopback or pipe): plaintext allowed under tls-only policy. */
  local: boolean;
}

export type CheckResult =
  | { status: 'ok'; identity: Identity }
  /** The module knows the user and refuses (wrong password, locked, expired). */
  | { status: 'fail'; reason: string }
  /** The module does not know the user: the next module decides. */
  | { status: 'unknown' };

export interface CheckpwModule {
  readonly name: string;
  /** Verify a plaintext password. */
  checkPassword(user: string, password: string, ctx: AuthContext): Promise<CheckResult>;
  /**
   * The shared secret for CRAM-MD5/APOP (the plaintext password), when this
   * module keeps one. undefined = not known here.
   */
  getSecret?(user: string, ctx: AuthContext): Promise<{ secret: string; identity: Identity } | undefined>;
  /** SCRAM-SHA-256 stored credentials (RFC 5802/7677), when kept. */
  getScram?(user: string, ctx: AuthContext): Promise<ScramCredentials | undefined>;
  /** Look a user up without a password (PREAUTH, authorisation identities, admin). */
  lookup?(user: string): Promise<Identity | undefined>;
  /** Whether this module forbids plaintext entirely (UW "nul"). */
  readonly forbidsPlaintext?: boolean;
}

export interface ScramCredentials {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
  identity: Identity;
}

/** One step of a SASL exchange, protocol-neutral (the protocol does base64). */
export type SaslStep =
  | { type: 'challenge'; data: Buffer }
  | { type: 'success'; identity: Identity; /** final server data (SCRAM) */ data?: Buffer }
  | { type: 'failure'; reason: string };

export interface SaslExchange {
  readonly mechanism: string;
  /** Whether the mechanism accepts an initial response (SASL-IR); CRAM-MD5 does not. */
  readonly clientFirst: boolean;
  /** First call with the initial response (or null); then with each client reply. */
  step(response: Buffer | null): Promise<SaslStep>;
}

/** Thrown/returned when a login is refused; `message` is safe to show to the client. */
export class AuthError extends Error {
  constructor(
    message: string,
    /** The reason for the log (never the password). */
    readonly logReason: string,
    /** POP3/IMAP response-code hint: AUTH (credentials), SYS/TEMP (throttled, try later). */
    readonly code: 'AUTHENTICATIONFAILED' | 'UNAVAILABLE' | 'PRIVACYREQUIRED' | 'LOGIN-DELAY' = 'AUTHENTICATIONFAILED',
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * What protocol sessions use (src/auth/authenticator.ts implements it from
 * the configured module list, policy and throttling).
 */
export interface Authenticator {
  /** Plaintext passwords (LOGIN, USER/PASS, AUTH PLAIN/LOGIN) allowed on this connection now. */
  plaintextAllowed(ctx: AuthContext): boolean;
  /** SASL mechanisms to advertise now (IMAP AUTH=…, POP3 SASL …), in UW's order. */
  mechanisms(ctx: AuthContext): string[];
  /** Plaintext login. Resolves to the identity or throws AuthError (after the failure delay). */
  login(user: string, password: string, ctx: AuthContext): Promise<Identity>;
  /** Start a SASL exchange; undefined when the mechanism is unknown or not allowed now. */
  startSasl(mechanism: string, ctx: AuthContext): SaslExchange | undefined;
  /** APOP is available (a secrets source exists): POP3 puts a challenge in its greeting. */
  apopAvailable(): boolean;
  /** APOP login: digest = hex MD5(challenge + secret). Throws AuthError. */
  apop(user: string, challenge: string, digest: string, ctx: AuthContext): Promise<Identity>;
  /** Identity of a system user without a password (PREAUTH as the invoking user). */
  lookup(user: string): Promise<Identity | undefined>;
  /** Anonymous login allowed (UW: /etc/anonymous.newsgroups exists). */
  anonymousAllowed(): boolean;
}
