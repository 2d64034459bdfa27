/**
 * Local delivery shared by tmail (MTA delivery agent, started as root) and
 * dmail (procmail delivery agent, runs as the user): read the message, add
 * Return-Path/Received as UW does, append it through the store with the same
 * locks as the daemons, and map every failure to a sysexits.h code that
 * Postfix and Sendmail understand. The store's append is all-or-nothing: a
 * failed delivery never leaves part of a message behind.
 */
import type { Store, AppendMessage } from '../store/types.js';
import { StoreError } from '../store/types.js';

export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOUSER = 67;
export const EX_SOFTWARE = 70;
export const EX_OSERR = 71;
export const EX_CANTCREAT = 73;
export const EX_IOERR = 74;
export const EX_TEMPFAIL = 75;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date in the server's local zone. */
export function rfc5322Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.floor(a / 60))}${p(a % 60)}`;
}

export interface PrepareOptions {
  /** Envelope sender (-f/-r): becomes Return-Path. */
  from?: string;
  /** Program name and version for the Received line ("tmail-0.1.0"). */
  via: string;
  /** Recipient for the Received line. */
  recipient?: string;
  /** Login name of the invoking user when it differs from the recipient. */
  invokedBy?: string;
  now?: Date;
}

export interface Prepared {
  data: Buffer;
  /** Sender taken from a leading "From " line when no -f was given. */
  fromLine?: string;
  /** The input used LF-only line ends (UW logs a warning for tmail). */
  lfOnly: boolean;
}

/**
 * Build the message to store: drop a leading "From " line (keeping its sender
 * for Return-Path when none was given), normalise to CRLF, and prepend
 * Return-Path and Received.
 */
export function prepareMessage(raw: Buffer, o: PrepareOptions): Prepared {
  let body = raw;
  let fromLine: string | undefined;
  if (body.subarray(0, 5).toString('latin1') === 'From ') {
    const nl = body.indexOf(10);
    const line = body.subarray(5, nl < 0 ? body.length : nl).toString('latin1').replace(/\r$/, '');
    fromLine = line.split(' ')[0] || undefined;
    body = nl < 0 ? Buffer.alloc(0) : body.subarray(nl + 1);
  }
  // Line ends: count bare LFs; convert to CRLF.
  let lf = 0;
  let crlf = 0;
  for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) {
    if (i > 0 && body[i - 1] === 13) crlf++;
    else lf++;
  }
  const lfOnly = lf > 0 && crlf === 0;
  if (lf > 0) {
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) {
      if (i === 0 || body[i - 1] !== 13) {
        parts.push(body.subarray(start, i), Buffer.from('\r\n'));
        start = i + 1;
      }
    }
    parts.push(body.subarray(start));
    body = Buffer.concat(parts);
  }
  const sender = o.from ?? fromLine;
  let head = '';
  if (sender !== undefined) head += `Return-Path: <${sender.replace(/^<|>$/g, '')}>\r\n`;
  head += `Received: via ${o.via}${o.invokedBy ? ` (invoked by user ${o.invokedBy})` : ''}${o.recipient ? ` for ${o.recipient}` : ''}; ${rfc5322Date(o.now ?? new Date())}\r\n`;
  return { data: Buffer.concat([Buffer.from(head, 'latin1'), body]), fromLine, lfOnly };
}

export interface DeliverTarget {
  store: Store;
  /** Mailbox name; INBOX by default. A folder that does not exist falls back to INBOX (UW). */
  folder?: string;
  flags?: string[];
  /** Per-user quota in bytes (virtual users); checked against INBOX size + message. */
  quota?: number;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Map a failure to a sysexits code: quota → EX_CANTCREAT (UW), everything transient → EX_TEMPFAIL. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof DeliveryError) return e.exitCode;
  if (e instanceof StoreError) {
    if (e.code === 'OVERQUOTA') return EX_CANTCREAT;
    return EX_TEMPFAIL;
  }
  return EX_TEMPFAIL;
}

/** Deliver one prepared message. Throws DeliveryError/StoreError on failure. */
export async function deliver(t: DeliverTarget, data: Buffer, internalDate = new Date()): Promise<{ mailbox: string; uid: number }> {
  let folder = t.folder && t.folder.toUpperCase() !== 'INBOX' ? t.folder : 'INBOX';
  if (folder !== 'INBOX' && !(await t.store.exists(folder).catch(() => false))) folder = 'INBOX';
  if (t.quota !== undefined) {
    const st = await t.store.status('INBOX').catch(() => undefined);
    const used = st?.size ?? 0;
    if (used + data.length > t.quota) throw new DeliveryError(`Quota exceeded (${used + data.length} > ${t.quota} bytes)`, EX_CANTCREAT);
  }
  const msg: AppendMessage = { data, flags: t.flags ?? [], internalDate };
  const r = await t.store.append(folder, [msg]);
  return { mailbox: folder, uid: r.uids[0] ?? 0 };
}

/** Read all of stdin, refusing more than `max` bytes. */
export async function readAll(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    total += b.length;
    if (total > max) throw new DeliveryError(`message larger than ${max} bytes`, EX_DATAERR);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
