/**
 * Scanning a traditional UNIX mailbox: one pass over the file in fixed-size
 * chunks (bounded memory), recording for each message its offsets, the
 * c-client status headers and its RFC822.SIZE (each LF counts as CRLF, stored
 * CRs ignored, private headers excluded, the separator blank line before the
 * next From line excluded), exactly as UW computes them (formats.md §1).
 */
import { readSync } from 'node:fs';
import { parseFromLine } from './fromline.js';
import { MessageTable } from './table.js';
import { INDEXED_FIELDS } from '../../../mail/types.js';

/** Private c-client headers, hidden from clients. */
export const PRIVATE_HEADERS = ['status', 'x-status', 'x-keywords', 'x-uid', 'x-imap', 'x-imapbase'];

export interface ScannedMessage {
  /** Offset of the From line. */
  start: number;
  /** Offset just after the From line's LF. */
  hdrStart: number;
  /** Offset of the header's terminating blank line (= end when there is none). */
  hdrEnd: number;
  /** Offset just after the header's terminating blank line (= end when there is none). */
  bodyStart: number;
  /** End of the message text (exclusive), the separator blank line excluded. */
  end: number;
  /** Start of the next message or end of file. */
  next: number;
  /** Date of the From line in ms since the epoch; NaN when it had none that parses. (The line itself is read again when needed.) */
  date: number;
  zone: number | null;
  /**
   * Ranges [start, end) of private header lines (LF included), flat: start0,
   * end0, start1, end1, … Adjacent lines make one range (usually the whole
   * status block), so most messages hold one pair, not an array per line.
   */
  priv: number[];
  status?: string;
  xstatus?: string;
  xkeywords?: string;
  xuid?: string;
  ximap?: string;
  ximapbase?: string;
  /** Offset of the value of the X-IMAP header (pseudo-message: fixed-width fields). */
  ximapValueAt?: number;
  /** RFC822.SIZE. */
  size: number;
  /** Size of the header part in CRLF form (private headers excluded), incl. the blank line. */
  headerSize: number;
}

const CHUNK = 1 << 20;

/** Add [a, b) to flat ranges, joining it to the last range when they touch. */
export function addRange(ranges: number[], a: number, b: number): void {
  const n = ranges.length;
  if (n && ranges[n - 1] === a) ranges[n - 1] = b;
  else ranges.push(a, b);
}

function headerName(line: Buffer): string | undefined {
  const colon = line.indexOf(0x3a);
  if (colon <= 0 || colon > 12) return undefined;
  const c = line[0] | 0x20;
  if (c !== 0x73 && c !== 0x78) return undefined; // s / x
  const name = line.subarray(0, colon).toString('latin1').toLowerCase();
  return PRIVATE_HEADERS.includes(name) ? name : undefined;
}

/** A message whose kept lines would pass this many bytes keeps none (its header is read instead). */
const FIELDS_CAP = 16384;

/** First letters (lower case) and the name lengths of INDEXED_FIELDS: most lines are ruled out without a string. */
const FIELD_FIRST = new Set([...INDEXED_FIELDS].map((n) => n.charCodeAt(0)));
const FIELD_MIN = Math.min(...[...INDEXED_FIELDS].map((n) => n.length));
const FIELD_MAX = Math.max(...[...INDEXED_FIELDS].map((n) => n.length));

function indexedField(line: Buffer): boolean {
  if (!FIELD_FIRST.has(line[0] | 0x20)) return false;
  const colon = line.indexOf(0x3a);
  if (colon < FIELD_MIN || colon > FIELD_MAX) return false;
  return INDEXED_FIELDS.has(line.toString('latin1', 0, colon).toLowerCase()); // what SEARCH FROM … SUBJECT, SENT* read
}

/**
 * The lines of the indexed header fields of each message a scan finds, as
 * IMAP shows them (CRs out, CRLF line ends, a blank line after them),
 * copied into one growing buffer as the records of a field index
 * (fields.ts): u32 UID and u32 header size (filled in by whoever knows the
 * UIDs), u32 length, the bytes. No string or object per message.
 */
export class FieldRecords {
  buf: Buffer;
  len = 0;
  /** Per message found, where its record starts; -1 when it keeps none. */
  readonly at: number[] = [];
  private cur = -1;
  private over = false;
  /**
   * `expected`: bytes of mailbox to be scanned. Header fields are a few per
   * cent of a mailbox: room for a twelfth of it (at most 64 MB) is reserved
   * at once (pages never written take no memory), so the buffer is rarely
   * copied to grow.
   */
  constructor(expected: number) {
    this.buf = Buffer.allocUnsafe(Math.min(64 << 20, Math.max(1 << 16, Math.ceil(expected / 12))));
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.len + n, Math.floor(this.buf.length * 1.5)));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
  begin(): void {
    this.room(12);
    this.cur = this.len;
    this.len += 12;
    this.over = false;
  }
  line(line: Buffer): void {
    if (this.over) return;
    if (this.len - this.cur - 12 + line.length + 2 > FIELDS_CAP) {
      this.over = true;
      return;
    }
    this.room(line.length + 2);
    let p = 0;
    for (let cr = line.indexOf(13); cr >= 0; cr = line.indexOf(13, p)) {
      this.len += line.copy(this.buf, this.len, p, cr);
      p = cr + 1;
    }
    this.len += line.copy(this.buf, this.len, p);
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }
  end(): void {
    if (this.over) {
      this.len = this.cur;
      this.at.push(-1);
    } else {
      this.room(2);
      this.buf[this.len++] = 13;
      this.buf[this.len++] = 10;
      this.buf.writeUInt32LE(this.len - this.cur - 12, this.cur + 8);
      this.at.push(this.cur);
    }
    this.cur = -1;
  }
}

function countCR(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(13); i >= 0; i = b.indexOf(13, i + 1)) n++;
  return n;
}

/**
 * Scan [from, size) of the file. `from` must be the start of a message (or 0;
 * leading blank lines are skipped as c-client does). Returns the messages and
 * the offset of any leading text that is not part of a message (-1 if none).
 */
export function scanMailbox(fd: number, from: number, size: number): { messages: ScannedMessage[]; junkAt: number } {
  const messages: ScannedMessage[] = [];
  const { junkAt } = scanEach(fd, from, size, (m) => messages.push(m));
  return { messages, junkAt };
}

/**
 * Scan into a message table: no object is kept per message. With `fields`,
 * also the records of the indexed header fields (FieldRecords), one per row.
 */
export function scanTable(fd: number, from: number, size: number, opts: { fields?: boolean } = {}): { table: MessageTable; junkAt: number; fields?: FieldRecords } {
  const table = new MessageTable();
  const fields = opts.fields ? new FieldRecords(size - from) : undefined;
  const { junkAt } = scanEach(fd, from, size, (m) => table.push(m), fields);
  table.trim();
  return { table, junkAt, fields };
}

function scanEach(fd: number, from: number, size: number, emit: (m: ScannedMessage) => void, fields?: FieldRecords): { junkAt: number } {
  let cur: ScannedMessage | undefined;
  let inHeader = false;
  let pendingBlankAt = -1; // offset of a blank body line whose 2 bytes are not yet counted
  let junkAt = -1;
  let lastPriv: string | undefined;
  let sawContent = false;
  let keeping = false; // the current line belongs to an indexed field (fields)

  const finish = (at: number) => {
    if (!cur) return;
    if (pendingBlankAt >= 0) {
      cur.end = pendingBlankAt; // the separator
      pendingBlankAt = -1;
    } else cur.end = at;
    if (inHeader) {
      cur.hdrEnd = cur.end;
      cur.bodyStart = cur.end;
      cur.headerSize = cur.size;
    }
    cur.next = at;
    emit(cur);
    fields?.end();
    cur = undefined;
  };

  const onLine = (line: Buffer, at: number, lineEnd: number, hasLF: boolean) => {
    // line excludes the LF; lineEnd is the offset after the LF (or EOF).
    const len = line.length;
    if (len >= 5 && line[0] === 0x46 && line[1] === 0x72 && line[2] === 0x6f && line[3] === 0x6d && line[4] === 0x20) {
      const info = parseFromLine(line.toString('latin1'));
      if (info) {
        finish(at);
        cur = {
          start: at,
          hdrStart: lineEnd,
          hdrEnd: lineEnd,
          bodyStart: lineEnd,
          end: lineEnd,
          next: lineEnd,
          date: info.date ? info.date.getTime() : NaN,
          zone: info.zone,
          priv: [],
          // Every field in the literal: fields added later would live outside the object.
          status: undefined,
          xstatus: undefined,
          xkeywords: undefined,
          xuid: undefined,
          ximap: undefined,
          ximapbase: undefined,
          ximapValueAt: undefined,
          size: 0,
          headerSize: 0,
        };
        inHeader = true;
        lastPriv = undefined;
        keeping = false;
        fields?.begin();
        return;
      }
    }
    if (!cur) {
      // Text before the first From line: blank lines are skipped, anything else is junk.
      if (!sawContent && (len === 0 || (len === 1 && line[0] === 13))) return;
      sawContent = true;
      if (junkAt < 0) junkAt = at;
      return;
    }
    const empty = len === 0 || (len === 1 && line[0] === 13);
    const contribution = len - (line.indexOf(13) >= 0 ? countCR(line) : 0) + (hasLF ? 2 : 0);
    if (inHeader) {
      if (empty) {
        inHeader = false;
        cur.size += hasLF ? 2 : 0;
        cur.hdrEnd = at;
        cur.bodyStart = lineEnd;
        cur.headerSize = cur.size;
        return;
      }
      const isCont = line[0] === 0x20 || line[0] === 0x09;
      const name = isCont ? undefined : headerName(line);
      if (fields) {
        // A field line and its continuation lines, as walkFields (header.ts) reads them in the IMAP form.
        if (!isCont) keeping = !name && indexedField(line);
        if (keeping) fields.line(line);
      }
      if (name || (isCont && lastPriv)) {
        addRange(cur.priv, at, lineEnd);
        if (name) {
          const value = line.subarray(name.length + 1).toString('latin1').replace(/\r$/, '').trim();
          const key = name === 'x-status' ? 'xstatus' : name === 'x-keywords' ? 'xkeywords' : name === 'x-uid' ? 'xuid' : name === 'x-imapbase' ? 'ximapbase' : name === 'x-imap' ? 'ximap' : 'status';
          // First occurrence wins; later ones are hidden and ignored (UW discards them).
          if ((cur as unknown as Record<string, unknown>)[key] === undefined) {
            (cur as unknown as Record<string, unknown>)[key] = value;
            if (key === 'ximap') {
              let v = name.length + 1;
              while (v < len && (line[v] === 0x20 || line[v] === 0x09)) v++;
              cur.ximapValueAt = at + v;
            }
          }
          lastPriv = name;
        }
        return;
      }
      lastPriv = undefined;
      cur.size += contribution;
      return;
    }
    // Body.
    if (pendingBlankAt >= 0) {
      cur.size += 2;
      pendingBlankAt = -1;
    }
    if (empty && hasLF) {
      pendingBlankAt = at;
      return;
    }
    cur.size += contribution;
  };

  // One buffer for the whole scan: the unfinished last line of a chunk is
  // moved to its start and the next chunk read after it (a Buffer per chunk
  // was 250 MB of garbage for a 250 MB mailbox, and the peak memory of it).
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size - from)));
  let pos = from;
  let have = 0; // bytes of an unfinished line at the start of buf
  let base = from; // file offset of buf[0]
  while (pos < size) {
    if (have === buf.length) {
      // A line longer than the buffer: make room for more of it.
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, have);
      buf = bigger;
    }
    const n = readSync(fd, buf, have, Math.min(buf.length - have, size - pos), pos);
    if (n <= 0) break;
    const data: Buffer = buf.subarray(0, have + n);
    let off = 0;
    let nextCr = -1;
    for (;;) {
      const nl = data.indexOf(10, off);
      if (nl < 0) break;
      const len = nl - off;
      // Body lines (most of a mailbox) are counted here without making a
      // Buffer view for each; header lines and "From " lines go to onLine.
      if (cur && !inHeader && !(len >= 5 && data[off] === 0x46 && data[off + 1] === 0x72 && data[off + 2] === 0x6f && data[off + 3] === 0x6d && data[off + 4] === 0x20)) {
        if (nextCr < off) {
          nextCr = data.indexOf(13, off);
          if (nextCr < 0) nextCr = data.length;
        }
        let crs = 0;
        if (nextCr < nl) {
          for (let i = nextCr; i < nl; i++) if (data[i] === 13) crs++;
          nextCr = -1;
        }
        if (pendingBlankAt >= 0) {
          cur.size += 2;
          pendingBlankAt = -1;
        }
        if (len === 0 || (len === 1 && data[off] === 13)) pendingBlankAt = base + off;
        else cur.size += len - crs + 2;
        off = nl + 1;
        continue;
      }
      onLine(data.subarray(off, nl), base + off, base + nl + 1, true);
      off = nl + 1;
    }
    have = data.length - off;
    if (have > 0) buf.copy(buf, 0, off, data.length);
    base += off;
    pos += n;
  }
  if (have > 0) onLine(buf.subarray(0, have), base, base + have, false);
  finish(size);
  return { junkAt };
}
