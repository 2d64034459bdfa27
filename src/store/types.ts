/**
 * The store boundary (the c-client DRIVER idea made explicit).
 *
 * A Store belongs to one logged-in user and resolves mailbox names (UW naming
 * rules, src/store/naming) to a driver and a path. A driver opens a Mailbox.
 * Protocols (IMAP, POP3, POP2) and tools (mailutil, tmail, dmail) talk only
 * to these interfaces; nothing here knows a protocol.
 *
 * Messages are identified by UID inside a Mailbox. Message numbers (sequence
 * numbers) are a protocol matter and live in the protocol sessions.
 */
import type { Slab } from './io.js';

/** System flags kept by every driver. `\Recent` is session state, see MessageInfo.recent. */
export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
export type SystemFlagName = (typeof SYSTEM_FLAGS)[number];

export interface MessageInfo {
  uid: number;
  /**
   * System flags (names from SYSTEM_FLAGS) and keywords, as stored. Drivers
   * share one set between messages with the same flags: read it, copy it,
   * never change it in place.
   */
  flags: Set<string>;
  /** \Recent for this session (UW semantics: exactly one session sees a message as recent). */
  recent: boolean;
  internalDate: Date;
  /** The internal date in milliseconds since the epoch, when the driver keeps it as a number (saves a Date per message). */
  internalTime?: number;
  /** Zone of the internal date in minutes east of UTC (UW keeps the APPEND zone). */
  internalDateZone: number;
  /** RFC822.SIZE: octets of the message in CRLF form, private status headers excluded. */
  size: number;
}

export interface AppendMessage {
  /** Message bytes as the client sent them (CRLF or LF). */
  data: Buffer;
  /** System flags and keywords to set. */
  flags?: string[];
  /** Internal date; default now. */
  internalDate?: Date;
  /** Zone in minutes east of UTC for the stored date; default the server's local zone. */
  internalDateZone?: number;
  /**
   * UID wanted for the message (format conversion keeps UIDs). Honoured when
   * it is above every UID the mailbox has used; otherwise the next UID is given.
   */
  uid?: number;
  /**
   * The same message already in the unix driver's stored form (what that
   * driver makes of `data`): set by a copy between two unix mailboxes, which
   * then skips the conversion to IMAP form and back. The unix driver appends
   * it as it is; `data` must still give the message to any other driver.
   */
  mbox?: MboxForm;
}

/**
 * A message as a UNIX mailbox stores it (formats.md §1.2): no CRs, NULs as
 * 0x80, incoming private headers renamed, "From " lines quoted; header (up
 * to its last LF) and body, without the empty line between them.
 */
export interface MboxForm {
  header: Buffer;
  body: Buffer;
}

export interface AppendResult {
  uidValidity: number;
  /** One UID per appended message; 0 when the driver could not assign one (UIDNOTSTICKY cases). */
  uids: number[];
  /** Warnings for the client, e.g. "Unknown flag: $Work" when a keyword could not be created. */
  warnings: string[];
}

/** What changed since the previous sync() (or since open). */
export interface MailboxChanges {
  /** UIDs that are gone (expunged by this or another session). */
  expunged: number[];
  /** Messages that appeared, in mailbox order (ascending UID). */
  added: MessageInfo[];
  /** UIDs whose flags were changed by someone else (current flags are in messages()). */
  flagsChanged: number[];
  /** Keyword list changed (new PERMANENTFLAGS/FLAGS to report). */
  keywordsChanged: boolean;
  /** UIDVALIDITY changed: the session must treat the mailbox as new. */
  uidValidityChanged: boolean;
  /** Untagged warnings for the client (`* NO …`/`* OK …` texts). */
  notices: string[];
}

export type FlagOp = 'set' | 'add' | 'remove';

/** One flag change of update(): as store(uids, op, flags). */
export interface StoreRequest {
  uids: number[];
  op: FlagOp;
  flags: string[];
}

export interface Mailbox {
  /** The name as the client gave it (canonical INBOX). */
  readonly name: string;
  /** Driver name: 'unix', 'mbx', 'mix', 'dummy'. */
  readonly driver: string;
  readonly readOnly: boolean;
  /** Why the mailbox is read-only, as UW words it ("Mailbox is open by another process, access is readonly"). */
  readonly readOnlyReason?: string;
  readonly uidValidity: number;
  /** Next UID to be assigned (UIDNEXT). */
  readonly uidNext: number;
  /** Keywords defined in this mailbox, in slot order. */
  keywords(): string[];
  /** Whether new keywords may be created (PERMANENTFLAGS `\*`). */
  canCreateKeywords(): boolean;
  /**
   * The current messages in mailbox order (ascending UID). Do not mutate.
   * Each call may make every object anew: where only UIDs or counts are
   * wanted, uids(), recentCount() and firstUnseen() are far cheaper.
   */
  messages(): readonly MessageInfo[];
  /** The UIDs of the current messages, ascending (a copy: 4 bytes a message, made with one memcpy by the unix driver). */
  uids(): Uint32Array;
  /** How many messages there are and the highest UID (0 when empty): what a session checks after every command, without copying the UIDs. */
  extent(): { count: number; lastUid: number };
  /** How many messages are \Recent for this session. */
  recentCount(): number;
  /** Index (0-based, mailbox order) of the first message without \Seen, or -1. */
  firstUnseen(): number;
  /** Message by UID, undefined if not present. */
  get(uid: number): MessageInfo | undefined;

  /**
   * The message bytes in CRLF form exactly as IMAP presents them (BODY[]):
   * private status headers removed, sizes equal to MessageInfo.size.
   * Resolves to null if the message was expunged meanwhile. With
   * `transient`, the bytes may live in a buffer that the next read reuses:
   * for callers that are done with them before reading again
   * (BODYSTRUCTURE, SEARCH), saving an allocation each.
   */
  read(uid: number, opts?: { transient?: boolean }): Promise<Buffer | null>;
  /** The header part only (up to and including the blank line), CRLF form; `transient` as for read(). */
  readHeader(uid: number, opts?: { transient?: boolean }): Promise<Buffer | null>;
  /**
   * The message in the unix driver's stored form (unix mailboxes only): for
   * appending it to another unix mailbox without converting it to CRLF
   * form and back. With `slab`, the bytes are read into it (they live until
   * the slab is reset).
   */
  readMboxForm?(uid: number, slab?: Slab): Promise<MboxForm | null>;
  /**
   * Only the lines of the header fields From, To, Cc, Bcc, Subject and Date
   * (every occurrence, CRLF form, then a blank line), from an index the
   * driver keeps (unix mailboxes); undefined when it has none for this
   * message (then read the header).
   */
  readFields?(uid: number): Buffer | undefined;

  /** Change flags; returns the UIDs whose flags actually changed. Keywords are created when allowed. */
  store(uids: number[], op: FlagOp, flags: string[]): Promise<number[]>;
  /** Append to this (open) mailbox. */
  append(messages: AppendMessage[]): Promise<AppendResult>;
  /**
   * Flag changes, then an expunge of those of `expunge` that are \Deleted
   * (none when empty), as one update: POP3's UPDATE state. A driver may write
   * them together (the unix driver rewrites once instead of writing the
   * flags in place first). Returns the expunged UIDs.
   */
  update(stores: StoreRequest[], expunge: number[]): Promise<number[]>;
  /** Remove \Deleted messages (only those among `uids` when given). Returns the expunged UIDs. */
  expunge(uids?: number[]): Promise<number[]>;
  /** Write pending changes to disk (CHECK). Returns an informational text, if any. */
  checkpoint(): Promise<string | undefined>;
  /** Look for new mail and changes by others (NOOP/IDLE poll). */
  sync(): Promise<MailboxChanges>;
  /**
   * Close. `expunge` true for IMAP CLOSE / POP3 UPDATE. Pending changes are
   * written. After close, no other method may be called.
   */
  close(opts?: { expunge?: boolean }): Promise<void>;

  /**
   * For a mailbox that has never held a message: take this UIDVALIDITY, so
   * that a converted mailbox keeps its UIDVALIDITY and UIDs and clients need
   * not resynchronise. false (and no change) when the mailbox is not new.
   */
  adoptUidValidity?(uidValidity: number): Promise<boolean>;

  /**
   * Called when the mailbox must be given up (UW "kiss of death" from another
   * process, or the file vanished/shrank). The session says BYE with `reason`.
   */
  onLost(listener: (reason: string) => void): void;
}

export interface OpenOptions {
  readOnly?: boolean;
  /** POP3 wants the mailbox exclusively (UW ipop3d semantics). */
  exclusive?: boolean;
  /** Untagged progress notices while waiting for locks (`* NO Trying to get mailbox lock …`). */
  notify?: (text: string) => void;
  /**
   * An internal open (mailutil, delivery, STATUS): messages are not claimed
   * as seen by a session, so they stay \Recent for the user's next session.
   */
  silent?: boolean;
  /**
   * POP3: when the session was last active (ms since the epoch). A kiss of
   * death is honoured only after five idle minutes, as UW's ipop3d does.
   */
  idleSince?: () => number;
  /** How long (ms) the session must have been idle for a kiss of death to be honoured (default 5 minutes). */
  kodIdleMs?: number;
}

export interface ListEntry {
  name: string;
  /** Hierarchy delimiter, or null (INBOX is listed with NIL). */
  delimiter: string | null;
  /** \NoSelect \NoInferiors \HasChildren \HasNoChildren \Marked \UnMarked … */
  attributes: string[];
}

export interface StatusInfo {
  messages: number;
  recent: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  /** Octets (STATUS SIZE) when cheaply known. */
  size?: number;
}

export interface Namespace {
  prefix: string;
  delimiter: string | null;
}
export interface Namespaces {
  personal: Namespace[];
  otherUsers: Namespace[];
  shared: Namespace[];
}

/** Errors with a protocol meaning. `code` maps to an IMAP response code. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code?: 'TRYCREATE' | 'NONEXISTENT' | 'ALREADYEXISTS' | 'NOPERM' | 'INUSE' | 'CANNOT' | 'LIMIT' | 'OVERQUOTA' | 'SERVERBUG',
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Store {
  readonly namespaces: Namespaces;
  /** Hierarchy delimiter of the personal namespace ("/"). */
  readonly delimiter: string;
  open(name: string, opts?: OpenOptions): Promise<Mailbox>;
  exists(name: string): Promise<boolean>;
  create(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  list(reference: string, pattern: string): Promise<ListEntry[]>;
  lsub(reference: string, pattern: string): Promise<ListEntry[]>;
  subscribe(name: string): Promise<string | undefined>; // returns an untagged warning text, if any
  unsubscribe(name: string): Promise<void>;
  status(name: string): Promise<StatusInfo>;
  /** Append to a mailbox that need not be open (IMAP APPEND, COPY target, delivery). All-or-nothing. */
  append(name: string, messages: AppendMessage[]): Promise<AppendResult>;
  /** The driver append() would use for `name` ('unix', 'mbx', 'mix'); undefined when it does not exist. */
  appendDriver(name: string): Promise<string | undefined>;
  /** Free resources held by the store (lock helpers, caches). */
  close(): Promise<void>;
}
