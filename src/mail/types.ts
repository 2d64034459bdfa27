/**
 * Shared types of the message engine (src/mail). The engine is pure: it works
 * on the bytes of one message as IMAP presents them (CRLF line ends, the
 * store's private status headers already removed) and knows nothing of
 * mailboxes, sessions or the wire format.
 */

/**
 * A protocol-neutral value tree, produced by ENVELOPE/BODYSTRUCTURE and
 * serialised by the IMAP encoder: `null` is NIL, a number is a number, a
 * string or Buffer is an IMAP string (quoted or literal, the encoder decides),
 * an array is a parenthesised list.
 */
export type ImapValue = null | number | string | Buffer | ImapValue[];

/** System flags as IMAP names them. */
export type SystemFlag = '\\Seen' | '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Draft';

/** A set of message numbers or UIDs: closed ranges, `*` already resolved. */
export type NumberRanges = Array<[number, number]>;

/**
 * SEARCH program (RFC 3501 §6.4.4 plus RFC 5032 WITHIN). The IMAP command
 * parser builds it; `src/mail/search` evaluates it. Sequence sets carry the
 * raw text (`2:4,*`) because `*` depends on the mailbox at evaluation time.
 */
export type SearchKey =
  | { type: 'all' }
  | { type: 'flag'; flag: SystemFlag | '\\Recent'; set: boolean } // ANSWERED/UNANSWERED, SEEN/UNSEEN, RECENT …
  | { type: 'new' } // RECENT UNSEEN
  | { type: 'old' } // NOT RECENT
  | { type: 'keyword'; keyword: string; set: boolean }
  | { type: 'header'; field: string; value: string } // FROM/TO/CC/BCC/SUBJECT map to header with that field
  | { type: 'body'; value: string }
  | { type: 'text'; value: string }
  | { type: 'internaldate'; op: 'before' | 'on' | 'since'; date: string } // date = yyyy-mm-dd
  | { type: 'sentdate'; op: 'before' | 'on' | 'since'; date: string }
  | { type: 'size'; op: 'larger' | 'smaller'; size: number }
  | { type: 'within'; op: 'older' | 'younger'; seconds: number }
  | { type: 'seqset'; set: string }
  | { type: 'uidset'; set: string }
  | { type: 'not'; key: SearchKey }
  | { type: 'or'; a: SearchKey; b: SearchKey }
  | { type: 'and'; keys: SearchKey[] };

/** What SEARCH needs to know about one message besides its bytes. */
export interface SearchMessage {
  seq: number;
  uid: number;
  flags: ReadonlySet<string>; // system flags incl. \Recent, and keywords
  internalDate: Date;
  size: number; // RFC822.SIZE
  /** The message bytes (CRLF form); called only when a key needs them. */
  load(): Promise<Buffer>;
  /** The header part only (CRLF form, with its blank line): used instead of load() when no key looks at the body. */
  loadHeader?(): Promise<Buffer>;
  /**
   * Only the lines of the INDEXED header fields (from, to, cc, bcc, subject,
   * date), as a header with its blank line, when the store keeps them;
   * undefined otherwise. Used when every key looks at those fields only.
   */
  loadFields?(): Buffer | undefined;
}

/** The header fields loadFields() gives. */
export const INDEXED_FIELDS: ReadonlySet<string> = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'date']);

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAY';
export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

/** A thread tree node for THREAD responses: a message number (or UID) and its children. */
export interface ThreadNode {
  id: number | null; // null for a dummy parent (REFERENCES)
  children: ThreadNode[];
}
