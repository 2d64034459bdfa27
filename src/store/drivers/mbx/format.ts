/**
 * The mbx file format (UW c-client mbx.c, formats.md §2): a 2048-byte file
 * header, then one record per message:
 *   "<dd-Mmm-yyyy hh:mm:ss +zzzz>,<size>;<kkkkkkkk><ffff>-<uuuuuuuu>\r\n" + <size octets>
 * Flags and UID are the last 21 bytes before the CRLF and are rewritten in place.
 */
import { hex4, hex8, MAX_KEYWORDS } from '../flagbits.js';
import { formatInternalDate, parseInternalDate } from '../../../mail/text.js';

export const HDRSIZE = 2048;
export const MAGIC = '*mbx*\r\n';

export interface MbxHeader {
  uidValidity: number;
  uidLast: number;
  keywords: string[];
  /** PID of the last flag writer (0 when the field is empty). */
  lastPid: number;
}

const isHex = (s: string) => /^[0-9a-fA-F]+$/.test(s);

/** The validity test of mbx_isvalid: magic, 16 hex digits, CRLF. */
export function isMbxHeader(b: Buffer): boolean {
  if (b.length < 25) return false;
  const s = b.subarray(0, 25).toString('latin1');
  return s.startsWith(MAGIC) && isHex(s.slice(7, 23)) && s.slice(23, 25) === '\r\n';
}

export function parseHeader(b: Buffer): MbxHeader {
  const s = b.subarray(0, HDRSIZE).toString('latin1');
  const uidValidity = parseInt(s.slice(7, 15), 16) >>> 0;
  const uidLast = parseInt(s.slice(15, 23), 16) >>> 0;
  const keywords: string[] = [];
  let p = 25;
  for (let i = 0; i < MAX_KEYWORDS; i++) {
    const e = s.indexOf('\r', p);
    if (e < 0 || e === p) break;
    keywords.push(s.slice(p, e));
    p = e + 2;
  }
  const tail = s.slice(HDRSIZE - 10);
  const lastPid = /^[0-9a-fA-F]{8}\r\n$/.test(tail) ? parseInt(tail.slice(0, 8), 16) : 0;
  return { uidValidity, uidLast, keywords, lastPid };
}

/** The 2048-byte header as mbx_update_header writes it (or mbx_create when pid is undefined). */
export function buildHeader(h: { uidValidity: number; uidLast: number; keywords: readonly string[] }, pid?: number): Buffer {
  const b = Buffer.alloc(HDRSIZE, 0);
  let s = `${MAGIC}${hex8(h.uidValidity)}${hex8(h.uidLast)}\r\n`;
  for (let i = 0; i < MAX_KEYWORDS; i++) s += `${h.keywords[i] ?? ''}\r\n`;
  b.write(s, 0, 'latin1');
  if (pid !== undefined) b.write(`${hex8(pid)}\r\n`, HDRSIZE - 10, 'latin1');
  return b;
}

export interface RecordLine {
  date: Date;
  zone: number;
  size: number;
  kw: number;
  sys: number;
  uid: number;
  /** Length of the record line including CRLF. */
  lineLen: number;
}

/** Parse a record line at the start of `b` (mbx_parse's checks and diagnostics). */
export function parseRecordLine(b: Buffer, at: number): RecordLine | { error: string } {
  const cr = b.indexOf(13);
  const show = (t: string) => t.slice(0, 80);
  if (cr < 0 || b[cr + 1] !== 10) return { error: `Unable to find CRLF at ${at} in ${b.length} bytes, text: ${show(b.toString('latin1'))}` };
  const line = b.subarray(0, cr).toString('latin1');
  const comma = line.indexOf(',');
  const semi = comma < 0 ? -1 : line.indexOf(';', comma + 1);
  if (comma < 0 || semi < 0) return { error: `Unable to parse internal header at ${at}: ${show(line)}` };
  const t = line.slice(semi);
  if (!isHex(t.slice(1, 13)) || t.length < 13) return { error: `Unable to parse message flags at ${at}: ${show(line)}` };
  if (t[13] !== '-' || t.length !== 22 || !isHex(t.slice(14, 22))) return { error: `Unable to parse message UID at ${at}: ${show(line)}` };
  const sizeText = line.slice(comma + 1, semi);
  if (!/^\d+$/.test(sizeText)) return { error: `Unable to parse message size at ${at}: ${show(line)}` };
  const d = parseInternalDate(line.slice(0, comma));
  if (!d) return { error: `Unable to parse message date at ${at}: ${show(line)}` };
  return {
    date: d.date,
    zone: d.zoneMinutes,
    size: Number(sizeText),
    kw: parseInt(t.slice(1, 9), 16) >>> 0,
    sys: parseInt(t.slice(9, 13), 16),
    uid: parseInt(t.slice(14, 22), 16) >>> 0,
    lineLen: cr + 2,
  };
}

export function recordLine(date: Date, zone: number, size: number, kw: number, sys: number, uid: number): string {
  return `${formatInternalDate(date, zone)},${size};${hex8(kw)}${hex4(sys)}-${hex8(uid)}\r\n`;
}

/** The 21 bytes written in place at (line end - 23): "kkkkkkkkffff-uuuuuuuu". */
export function flagField(kw: number, sys: number, uid: number): string {
  return `${hex8(kw)}${hex4(sys)}-${hex8(uid)}`;
}
