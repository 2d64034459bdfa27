/**
 * Flag encodings shared by UW's mbx and mix formats: the system flags as bit
 * values (mbx.c/mix.c fSEEN …), keywords as a 32-bit mask over the mailbox's
 * keyword slots, and the helpers both drivers use to present them.
 */

export const fSEEN = 0x0001;
export const fDELETED = 0x0002;
export const fFLAGGED = 0x0004;
export const fANSWERED = 0x0008;
export const fOLD = 0x0010;
export const fDRAFT = 0x0020;
export const fEXPUNGED = 0x8000;

export const MAX_KEYWORDS = 30;
export const MAX_KEYWORD_LENGTH = 50;

const SYSTEM: Array<[string, number]> = [
  ['\\Seen', fSEEN],
  ['\\Deleted', fDELETED],
  ['\\Flagged', fFLAGGED],
  ['\\Answered', fANSWERED],
  ['\\Draft', fDRAFT],
];
const SYSTEM_MASK = fSEEN | fDELETED | fFLAGGED | fANSWERED | fDRAFT;

const shared = new Map<string, Set<string>>();
const SHARED_MAX = 4096;

/**
 * The flag set for these names, in this order, shared by every message that
 * has exactly these flags: a Set per message was a fifth of a large
 * mailbox's memory. Never mutate the result; a change assigns another set.
 */
function sharedFlags(names: readonly string[]): Set<string> {
  const key = names.join(' '); // flag names are atoms: no spaces
  let s = shared.get(key);
  if (!s) {
    s = new Set(names);
    if (shared.size < SHARED_MAX) shared.set(key, s);
  }
  return s;
}

/** Flag names (system flags first, then keywords in slot order) from the stored bits: a shared set (see sharedFlags). */
export function flagsFromBits(sys: number, kwMask: number, keywords: readonly string[]): Set<string> {
  const out: string[] = [];
  for (const [name, bit] of SYSTEM) if (sys & bit) out.push(name);
  for (let i = 0; i < keywords.length && i < 32; i++) if (kwMask & (1 << i)) out.push(keywords[i]);
  return sharedFlags(out);
}

/** System-flag bits of a flag set (without fOLD). */
export function sysBits(flags: Iterable<string>): number {
  let b = 0;
  for (const f of flags) for (const [name, bit] of SYSTEM) if (f.toLowerCase() === name.toLowerCase()) b |= bit;
  return b;
}

/** Keyword mask of a flag set over `keywords`; names not in the list are ignored. */
export function keywordMask(flags: Iterable<string>, keywords: readonly string[]): number {
  let m = 0;
  for (const f of flags) {
    if (f.startsWith('\\')) continue;
    const i = keywords.indexOf(f);
    if (i >= 0) m |= 1 << i;
  }
  return m >>> 0;
}

/**
 * Apply a STORE to (sys, kw). New keywords are added to `keywords` (in place)
 * while there is a free slot and `create` allows. Returns the new values.
 */
export function applyFlagOp(sys: number, kw: number, op: 'set' | 'add' | 'remove', flags: string[], keywords: string[], create: boolean): { sys: number; kw: number } {
  const s = sysBits(flags);
  for (const f of flags) {
    if (f.startsWith('\\') || keywords.includes(f)) continue;
    if (op !== 'remove' && create && keywords.length < MAX_KEYWORDS && f.length <= MAX_KEYWORD_LENGTH) keywords.push(f);
  }
  const k = keywordMask(flags, keywords);
  const keep = sys & ~SYSTEM_MASK; // fOLD, fEXPUNGED
  if (op === 'set') return { sys: keep | s, kw: k };
  if (op === 'add') return { sys: sys | s, kw: (kw | k) >>> 0 };
  return { sys: sys & ~s, kw: (kw & ~k) >>> 0 };
}

export const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
export const hex4 = (n: number) => (n & 0xffff).toString(16).padStart(4, '0');

/** mix internal date: "20230102030405+0100". */
export function mixDate(date: Date, zone: number): string {
  const d = new Date(date.getTime() + zone * 60000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const a = Math.abs(zone);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}${zone < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** Parse "yyyymmddhhmmss±hhmm". */
export function parseMixDate(s: string): { date: Date; zone: number } | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const zone = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - zone * 60000;
  return { date: new Date(t), zone };
}

/** Messages are stored with CRLF line ends: convert bare LF (and bare CR) to CRLF. */
export function toCrlf(data: Buffer): Buffer {
  let bare = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 10 && (i === 0 || data[i - 1] !== 13)) {
      bare = true;
      break;
    }
    if (c === 13 && data[i + 1] !== 10) {
      bare = true;
      break;
    }
  }
  if (!bare) return data;
  const out = Buffer.allocUnsafe(data.length * 2);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 13) {
      out[o++] = 13;
      out[o++] = 10;
      if (data[i + 1] === 10) i++;
    } else if (c === 10) {
      out[o++] = 13;
      out[o++] = 10;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

/** Length of the header (through the CRLF CRLF), or the whole length when there is no blank line. */
export function headerLength(data: Buffer): number {
  const i = data.indexOf('\r\n\r\n', 0, 'latin1');
  return i < 0 ? data.length : i + 4;
}

/** Modseq as UW computes it: the time now, but always beyond the previous value. */
export function nextModseq(old: number): number {
  const now = Math.floor(Date.now() / 1000);
  return now <= old ? (old + 1) >>> 0 : now;
}
