/**
 * The messages of an open traditional mailbox, one typed array per field
 * (a column) instead of one object per message. A message costs about 75
 * bytes here (120 while offsets were 64-bit); as JavaScript objects
 * (offsets, status strings, a flag set, a Date) it cost over 1 KB, and
 * opening a 50,000-message mailbox meant making, promoting and later
 * collecting 150,000 objects. Columns are also
 * what the scan cache stores, so a cached scan is read with a few copies.
 *
 * Rows are in file order (which is ascending UID order once UIDs are
 * assigned). The pseudo-message is not a row: the mailbox keeps it apart.
 */
import type { ScannedMessage } from './scan.js';

/** Bits of the `sys` column: the system flags and O as UW's mbx/mix store them (flagbits.ts), and \Recent for this session. */
export { fSEEN as SEEN, fDELETED as DELETED, fFLAGGED as FLAGGED, fANSWERED as ANSWERED, fDRAFT as DRAFT, fOLD as OLD } from '../flagbits.js';
export const RECENT = 0x40;

/** A From line without a zone (local time of the server). */
const NO_ZONE = -32768;

/**
 * Offsets and sizes: 32 bits while every value fits (any mailbox under 4 GB),
 * 64-bit floats from the first value that does not (widen()). At 50,000
 * messages the narrow columns save 2 MB of every session's memory and of
 * the scan cache. In a narrow privA/privB, NONE stands for NaN (no range).
 */
const NARROWABLE = ['start', 'hdrStart', 'hdrEnd', 'bodyStart', 'end', 'next', 'size', 'headerSize', 'privA', 'privB'] as const;
const F64 = ['date'] as const;
/** UIDs are 32-bit numbers (RFC 3501); an X-UID above that is no X-UID. */
const U32 = ['xuid', 'uid', 'status', 'xstatus', 'xkeywords', 'kw'] as const;
type Narrowable = (typeof NARROWABLE)[number];
type ColumnName = Narrowable | (typeof F64)[number] | (typeof U32)[number] | 'zone' | 'sys';
/** The largest value a narrow column holds; NONE (one more) marks "no range" in privA/privB. */
const NARROW_MAX = 0xfffffffe;
const NONE = 0xffffffff;
export const MAX_UID = 0xffffffff;
type Column = Float64Array | Uint32Array | Int16Array | Uint8Array;
interface ColumnType {
  new (n: number): Column;
  new (b: ArrayBufferLike, offset: number, n: number): Column;
  readonly BYTES_PER_ELEMENT: number;
}
/** Every column with its type (narrowable ones narrow): what growing, trimming, filtering, copying and the cache image go through. */
const COLUMNS: ReadonlyArray<readonly [ColumnName, ColumnType]> = [
  ...NARROWABLE.map((n) => [n, Uint32Array] as const),
  ...F64.map((n) => [n, Float64Array] as const),
  ...U32.map((n) => [n, Uint32Array] as const),
  ['zone', Int16Array],
  ['sys', Uint8Array],
];
const IS_NARROWABLE = new Set<ColumnName>(NARROWABLE);

/** What the scan cache needs to write a table and make it again. */
export interface TableImage {
  length: number;
  strings: string[];
  headImap?: string;
  headImapBase?: string;
  headImapValueAt?: number;
  more: Array<[number, number[]]>;
  columns: Array<{ name: string; bytes: Buffer }>;
}

export class MessageTable {
  length = 0;
  private cap = 0;
  // Where the message lies in the file, its sizes (see ScannedMessage), the
  // From line's date (ms, NaN if none), the first private-header range
  // (NaN if none), the X-UID value (0 if absent or not a number), the UID.
  start: Float64Array | Uint32Array = new Uint32Array(0);
  hdrStart: Float64Array | Uint32Array = new Uint32Array(0);
  hdrEnd: Float64Array | Uint32Array = new Uint32Array(0);
  bodyStart: Float64Array | Uint32Array = new Uint32Array(0);
  end: Float64Array | Uint32Array = new Uint32Array(0);
  next: Float64Array | Uint32Array = new Uint32Array(0);
  size: Float64Array | Uint32Array = new Uint32Array(0);
  headerSize: Float64Array | Uint32Array = new Uint32Array(0);
  date = new Float64Array(0);
  /** Read through priv() / privIsOneRun(); read directly only when the row has one run. */
  privA: Float64Array | Uint32Array = new Uint32Array(0);
  privB: Float64Array | Uint32Array = new Uint32Array(0);
  xuid = new Uint32Array(0);
  uid = new Uint32Array(0);
  /** Offsets and sizes in 32 bits (see NARROWABLE). */
  private narrow = true;
  /** Status, X-Status and X-Keywords values as stored: indexes into `strings` (0: no such header). */
  status = new Uint32Array(0);
  xstatus = new Uint32Array(0);
  xkeywords = new Uint32Array(0);
  /** Keyword mask over the mailbox's keyword slots. */
  kw = new Uint32Array(0);
  /** Zone of the From line's date in minutes east of UTC. */
  zone = new Int16Array(0);
  /** SEEN … RECENT bits. */
  sys = new Uint8Array(0);
  /** Messages whose private headers are not one run: all their ranges (rare). */
  private more = new Map<number, number[]>();
  /** The X-IMAP / X-IMAPbase values of the first row (the only place they mean anything). */
  headImap: string | undefined;
  headImapBase: string | undefined;
  headImapValueAt: number | undefined;
  private strings: string[] = [''];
  private stringIds = new Map<string, number>();

  /** A table with room for `capacity` rows (it grows as needed). */
  constructor(capacity = 0) {
    if (capacity > 0) this.grow(capacity, true);
  }

  /** The columns by name. */
  private get cols(): Record<ColumnName, Column> {
    return this as unknown as Record<ColumnName, Column>;
  }

  private grow(min: number, exact = false): void {
    if (min <= this.cap) return;
    const cap = exact ? min : Math.max(min, this.cap < 1024 ? 1024 : this.cap * 2);
    const cols = this.cols;
    for (const [name, C] of COLUMNS) {
      const a = new (this.typeOf(name, C))(cap);
      a.set(cols[name].subarray(0, this.length) as never);
      cols[name] = a;
    }
    this.cap = cap;
  }
  private typeOf(name: ColumnName, C: ColumnType): ColumnType {
    return !this.narrow && IS_NARROWABLE.has(name) ? Float64Array : C;
  }

  /** Offsets and sizes as 64-bit floats from now on (a value over NARROW_MAX is coming). */
  private widen(): void {
    if (!this.narrow) return;
    const cols = this.cols;
    for (const name of NARROWABLE) {
      const from = cols[name];
      const a = new Float64Array(this.cap);
      const priv = name === 'privA' || name === 'privB';
      for (let i = 0; i < this.length; i++) a[i] = priv && from[i] === NONE ? NaN : from[i];
      cols[name] = a;
    }
    this.narrow = false;
  }
  /** Room in the columns for a value this large (widening when it does not fit 32 bits); callers pass the largest of theirs. */
  private fits(max: number): void {
    if (this.narrow && max > NARROW_MAX) this.widen();
  }
  /** Store a private-range bound: NaN (none) as NONE in a narrow column. */
  private setPriv(col: 'privA' | 'privB', i: number, v: number): void {
    this[col][i] = Number.isNaN(v) && this.narrow ? NONE : v;
  }
  /** A private-range bound as a number, NaN for none. */
  private privAt(col: 'privA' | 'privB', i: number): number {
    const v = this[col][i];
    return this.narrow && v === NONE ? NaN : v;
  }

  /** Row j's place in the file after a rewrite wrote it at `at` (the rest of the row is copied or set apart). */
  setPlace(j: number, at: number, hdrStart: number, hdrEnd: number, bodyStart: number, end: number): void {
    this.fits(Math.max(at, hdrStart, hdrEnd, bodyStart, end + 1));
    this.start[j] = at;
    this.hdrStart[j] = hdrStart;
    this.hdrEnd[j] = hdrEnd;
    this.bodyStart[j] = bodyStart;
    this.end[j] = end;
    this.next[j] = end + 1;
  }

  /** Room for exactly the rows there are (after a scan: the doubling leaves up to half unused). */
  trim(): void {
    if (this.cap === this.length) return;
    const cols = this.cols;
    for (const [name] of COLUMNS) cols[name] = cols[name].slice(0, this.length) as never;
    this.cap = this.length;
  }

  private id(v: string | undefined): number {
    if (v === undefined) return 0;
    let i = this.stringIds.get(v);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(v);
      this.stringIds.set(v, i);
    }
    return i;
  }
  str(id: number): string | undefined {
    return id === 0 ? undefined : this.strings[id];
  }

  /** Add a scanned message as the last row. */
  push(r: ScannedMessage): void {
    this.grow(this.length + 1);
    this.fits(Math.max(r.start, r.hdrStart, r.hdrEnd, r.bodyStart, r.end, r.next, r.size, r.headerSize));
    const i = this.length++;
    this.start[i] = r.start;
    this.hdrStart[i] = r.hdrStart;
    this.hdrEnd[i] = r.hdrEnd;
    this.bodyStart[i] = r.bodyStart;
    this.end[i] = r.end;
    this.next[i] = r.next;
    this.size[i] = r.size;
    this.headerSize[i] = r.headerSize;
    this.date[i] = r.date;
    this.zone[i] = r.zone ?? NO_ZONE;
    this.uid[i] = 0;
    this.sys[i] = 0;
    this.kw[i] = 0;
    this.setBlock(i, r);
    if (i === 0) {
      this.headImap = r.ximap;
      this.headImapValueAt = r.ximapValueAt;
    }
  }

  /** Add row i of another table as the last row (the first row's X-IMAP values come along when it stays first). */
  copyRow(src: MessageTable, i: number): void {
    this.grow(this.length + 1);
    const j = this.length++;
    if (this.narrow && !src.narrow) this.fits(Math.max(src.start[i], src.hdrStart[i], src.hdrEnd[i], src.bodyStart[i], src.end[i], src.next[i], src.size[i], src.headerSize[i], src.privA[i] || 0, src.privB[i] || 0));
    const to = this.cols;
    const from = src.cols;
    for (const [name] of COLUMNS) to[name][j] = from[name][i];
    // "No range" is NaN in a wide column and NONE in a narrow one.
    if (this.narrow !== src.narrow) {
      this.setPriv('privA', j, src.privAt('privA', i));
      this.setPriv('privB', j, src.privAt('privB', i));
    }
    // Stored values are indexes into each table's own strings.
    this.status[j] = this.id(src.str(src.status[i]));
    this.xstatus[j] = this.id(src.str(src.xstatus[i]));
    this.xkeywords[j] = this.id(src.str(src.xkeywords[i]));
    const m = src.more.get(i);
    if (m) this.more.set(j, m);
    if (j === 0 && i === 0) {
      this.headImap = src.headImap;
      this.headImapBase = src.headImapBase;
      this.headImapValueAt = src.headImapValueAt;
    }
  }

  /** Set the private-header ranges and values of row i (from a scan, or from a status block just written). */
  setBlock(i: number, r: Pick<ScannedMessage, 'priv' | 'status' | 'xstatus' | 'xkeywords' | 'xuid' | 'ximapbase'>): void {
    if (r.priv.length) this.fits(Math.max(r.priv[0], r.priv[1]));
    this.setPriv('privA', i, r.priv.length ? r.priv[0] : NaN);
    this.setPriv('privB', i, r.priv.length ? r.priv[1] : NaN);
    if (r.priv.length > 2) this.more.set(i, r.priv.slice());
    else this.more.delete(i);
    this.status[i] = this.id(r.status);
    this.xstatus[i] = this.id(r.xstatus);
    this.xkeywords[i] = this.id(r.xkeywords);
    const x = r.xuid !== undefined && /^\d+$/.test(r.xuid) ? Number(r.xuid) : 0;
    this.xuid[i] = x <= MAX_UID ? x : 0;
    if (i === 0) this.headImapBase = r.ximapbase;
  }

  /** setBlock for a block that is the one run [a, b) stating these values (what parsing it finds). */
  setBlockRun(i: number, a: number, b: number, status: string, xstatus: string, xkeywords: string, xuid: number): void {
    this.fits(Math.max(a, b));
    this.privA[i] = a;
    this.privB[i] = b;
    this.more.delete(i);
    this.status[i] = this.id(status);
    this.xstatus[i] = this.id(xstatus);
    this.xkeywords[i] = this.id(xkeywords);
    this.xuid[i] = xuid;
  }

  /** Private-header ranges of row i, flat [start, end) pairs. */
  priv(i: number): number[] {
    const m = this.more.get(i);
    if (m) return m;
    const a = this.privAt('privA', i);
    return Number.isNaN(a) ? [] : [a, this.privB[i]];
  }
  /** Whether row i's private headers are one run (then privA/privB hold it). */
  privIsOneRun(i: number): boolean {
    return !Number.isNaN(this.privAt('privA', i)) && !this.more.has(i);
  }
  zoneOf(i: number): number | null {
    const z = this.zone[i];
    return z === NO_ZONE ? null : z;
  }

  /** Row i as the scanner reported it (tests, the pseudo-message). */
  row(i: number): ScannedMessage {
    const x = this.xuid[i];
    return {
      start: this.start[i],
      hdrStart: this.hdrStart[i],
      hdrEnd: this.hdrEnd[i],
      bodyStart: this.bodyStart[i],
      end: this.end[i],
      next: this.next[i],
      date: this.date[i],
      zone: this.zoneOf(i),
      priv: this.priv(i).slice(),
      status: this.str(this.status[i]),
      xstatus: this.str(this.xstatus[i]),
      xkeywords: this.str(this.xkeywords[i]),
      xuid: x ? String(x) : undefined,
      ximap: i === 0 ? this.headImap : undefined,
      ximapbase: i === 0 ? this.headImapBase : undefined,
      ximapValueAt: i === 0 ? this.headImapValueAt : undefined,
      size: this.size[i],
      headerSize: this.headerSize[i],
    };
  }

  /** Keep only the rows for which `keep(i)` holds, in order. Head values stay only if row 0 does. */
  filter(keep: (i: number) => boolean): void {
    const n = this.length;
    const cols = this.cols;
    let o = 0;
    const more = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      if (!keep(i)) {
        if (i === 0) this.headImap = this.headImapBase = this.headImapValueAt = undefined;
        continue;
      }
      if (o !== i) for (const [name] of COLUMNS) cols[name][o] = cols[name][i];
      const m = this.more.get(i);
      if (m) more.set(o, m);
      o++;
    }
    this.length = o;
    this.more = more;
  }

  /** Row index of a UID (rows in ascending UID order), or -1. */
  find(uid: number): number {
    return sortedIndexOf(this.uid, this.length, uid);
  }

  /** The table as bytes and a small description, for the scan cache. */
  image(): TableImage {
    const n = this.length;
    const cols = this.cols;
    return {
      length: n,
      strings: this.strings,
      headImap: this.headImap,
      headImapBase: this.headImapBase,
      headImapValueAt: this.headImapValueAt,
      more: [...this.more],
      columns: COLUMNS.map(([name]) => ({ name, bytes: Buffer.from(cols[name].buffer, cols[name].byteOffset, n * cols[name].BYTES_PER_ELEMENT) })),
    };
  }

  /**
   * A table from an image. Column bytes that lie aligned for their type
   * (the scan cache is laid out so) are used where they are, without a
   * copy; others are copied. Undefined if the image does not fit.
   */
  static fromImage(img: TableImage): MessageTable | undefined {
    const n = img.length;
    const t = new MessageTable();
    const bytes = new Map(img.columns.map((c) => [c.name, c.bytes]));
    const cols = t.cols;
    // Narrow or wide as the table was when it was saved.
    t.narrow = n === 0 || bytes.get('start')?.length === n * 4;
    for (const [name, C0] of COLUMNS) {
      const C = t.typeOf(name, C0);
      const b = bytes.get(name);
      if (!b || b.length !== n * C.BYTES_PER_ELEMENT) return undefined;
      if (b.byteOffset % C.BYTES_PER_ELEMENT === 0) cols[name] = new C(b.buffer, b.byteOffset, n);
      else {
        const a = new C(n);
        new Uint8Array(a.buffer, a.byteOffset, b.length).set(b);
        cols[name] = a;
      }
    }
    t.length = t.cap = n;
    t.strings = img.strings.slice();
    if (t.strings[0] !== '') return undefined;
    t.strings.forEach((s, i) => i && t.stringIds.set(s, i));
    // The string columns are not checked row by row (a pass over every
    // message of every open): str() reads an index beyond the table as
    // no value, and the cache syncs its files before they take their name.
    t.headImap = img.headImap;
    t.headImapBase = img.headImapBase;
    t.headImapValueAt = img.headImapValueAt;
    for (const [i, r] of img.more) if (i < n) t.more.set(i, r);
    return t;
  }
}

/** Index of `v` in the ascending a[0, n), or -1 (binary search). */
export function sortedIndexOf(a: Uint32Array, n: number, v: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[mid];
    if (x === v) return mid;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
