/**
 * The mix directory format (UW c-client mix.c, mixfmt.txt, formats.md §3):
 * `.mixmeta` (sequence, UIDVALIDITY, UIDLAST, current data file, keywords),
 * `.mixindex` (static per-message records), `.mixstatus` (flags and modseq
 * per message) and `.mix<hex8>` data files of `:msg:` records. Every text
 * file starts with an `S<hex8>` update sequence; records end in CRLF.
 */
import { hex4, hex8, mixDate, parseMixDate } from '../flagbits.js';

export const MIXDATAROLL = 1024 * 1024;
export const META = '.mixmeta';
export const INDEX = '.mixindex';
export const STATUS = '.mixstatus';
export const SORTCACHE = '.mixsortcache';

export const dataFileName = (n: number) => (n ? `.mix${hex8(n)}` : '.mix');

/** `.mix` followed by nothing or hex digits only: a data file. */
export function isDataFileName(name: string): boolean {
  return /^\.mix[0-9a-fA-F]*$/.test(name);
}

export interface Meta {
  seq: number;
  uidValidity: number;
  uidLast: number;
  newmsg: number;
  keywords: string[];
}

export function parseMeta(text: string): Meta | { error: string } {
  if (!/^S[0-9a-fA-F]+\r\n/.test(text)) return { error: 'Error in mix metadata file sequence record' };
  const m: Meta = { seq: 0, uidValidity: 0, uidLast: 0, newmsg: 0, keywords: [] };
  const lines = text.split('\r\n');
  for (const raw of lines) {
    if (!raw) continue;
    const v = raw.slice(1);
    switch (raw[0]) {
      case 'S':
        m.seq = parseInt(v, 16) >>> 0;
        break;
      case 'V':
        m.uidValidity = parseInt(v, 16) >>> 0;
        break;
      case 'L':
        m.uidLast = parseInt(v, 16) >>> 0;
        break;
      case 'N':
        m.newmsg = parseInt(v, 16) >>> 0;
        break;
      case 'K':
        m.keywords = v.split(' ').filter(Boolean);
        break;
      default:
        // Other keys are reserved for extensions: ignored.
        break;
    }
  }
  if (!m.uidValidity) return { error: 'Error in mix metadata file UIDVALIDITY record' };
  return m;
}

export function buildMeta(m: Meta): string {
  let s = `S${hex8(m.seq)}\r\nV${hex8(m.uidValidity)}\r\nL${hex8(m.uidLast)}\r\nN${hex8(m.newmsg)}\r\n`;
  if (m.keywords.length) s += `K${m.keywords.join(' ')}\r\n`;
  return s;
}

export interface IndexRecord {
  uid: number;
  date: Date;
  zone: number;
  dateText: string;
  size: number;
  file: number;
  pos: number;
  /** Length of the `:msg:` line (offset of the message text from pos). */
  hpos: number;
  /** Header size of the message. */
  hsiz: number;
}

export interface StatusRecord {
  uid: number;
  kw: number;
  sys: number;
  mod: number;
}

/** Sequence of a text file (first record); 1 for an empty file (mix_read_sequence). */
export function readSeq(text: string): number | undefined {
  if (!text.length) return 1;
  const m = /^S([0-9a-fA-F]+)\r?\n/.exec(text);
  return m ? parseInt(m[1], 16) >>> 0 : undefined;
}

const IDX = /^:([0-9a-fA-F]+):(\d{14}[+-]\d{4}):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):/;

export function parseIndex(text: string): { seq: number; records: IndexRecord[] } | { error: string } {
  const seq = readSeq(text);
  if (seq === undefined) return { error: 'Error in mix index file sequence record' };
  const records: IndexRecord[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i].replace(/\r$/, '');
    if (!l) continue;
    if (l[0] !== ':') return { error: `Unknown record in mix index file: ${l.slice(0, 500)}` };
    const m = IDX.exec(l);
    if (!m) return { error: `Error in mix index file: ${l.slice(0, 500)}` };
    const d = parseMixDate(m[2]);
    if (!d) return { error: `Error in internaldate in mix index file: ${l.slice(0, 500)}` };
    records.push({
      uid: parseInt(m[1], 16) >>> 0,
      date: d.date,
      zone: d.zone,
      dateText: m[2],
      size: parseInt(m[3], 16),
      file: parseInt(m[4], 16) >>> 0,
      pos: parseInt(m[5], 16),
      hpos: parseInt(m[6], 16),
      hsiz: parseInt(m[7], 16),
    });
  }
  return { seq, records };
}

export function indexLine(r: Omit<IndexRecord, 'date' | 'zone'>): string {
  return `:${hex8(r.uid)}:${r.dateText}:${hex8(r.size)}:${hex8(r.file)}:${hex8(r.pos)}:${hex8(r.hpos)}:${hex8(r.hsiz)}:\r\n`;
}

const STA = /^:([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):/;

export function parseStatus(text: string): { seq: number; records: StatusRecord[]; bad?: string } | { error: string } {
  const seq = readSeq(text);
  if (seq === undefined) return { error: 'Error in mix status sequence record' };
  const records: StatusRecord[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i].replace(/\r$/, '');
    if (!l) continue;
    const m = STA.exec(l);
    if (!m) return { seq, records, bad: l.slice(0, 80) };
    records.push({ uid: parseInt(m[1], 16) >>> 0, kw: parseInt(m[2], 16) >>> 0, sys: parseInt(m[3], 16), mod: parseInt(m[4], 16) >>> 0 });
  }
  return { seq, records };
}

export function statusLine(r: StatusRecord): string {
  return `:${hex8(r.uid)}:${hex8(r.kw)}:${hex4(r.sys)}:${hex8(r.mod)}:\r\n`;
}

/** The `:msg:` line that precedes each message in a data file. */
export function msgLine(uid: number, date: Date, zone: number, size: number): string {
  return `:msg:${hex8(uid)}:${mixDate(date, zone)}:${hex8(size)}:\r\n`;
}

export const seqLine = (n: number) => `S${hex8(n)}\r\n`;
