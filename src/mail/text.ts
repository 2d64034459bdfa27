/**
 * Dates (IMAP date-time, RFC 5322 Date, SEARCH dates) and text decoding
 * (charsets, RFC 2047 encoded words) for SEARCH and SORT.
 */
import { iconv } from '../runtime/lazy.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** IMAP date-time: " 2-Jan-2023 03:04:05 +0100" (day space-padded, as UW sends it). */
export function formatInternalDate(date: Date | number, zoneMinutes: number): string {
  // Worked out with integer arithmetic (FETCH 1:* INTERNALDATE formats one per
  // message); the text of a day and of a zone is made once and reused.
  const local = Math.floor((typeof date === 'number' ? date : date.getTime()) / 1000) + zoneMinutes * 60;
  const days = Math.floor(local / 86400);
  const secs = local - days * 86400;
  const h = Math.floor(secs / 3600);
  const mi = Math.floor((secs % 3600) / 60);
  return dayText(days) + P2[h] + ':' + P2[mi] + ':' + P2[secs % 60] + zoneText(zoneMinutes);
}
const P2 = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
const dayTexts = new Map<number, string>();
const zoneTexts = new Map<number, string>();
/** " 2-Jan-2023 " for a day number (days since 1970-01-01), from H. Hinnant's civil_from_days, no Date. */
function dayText(n: number): string {
  let t = dayTexts.get(n);
  if (t !== undefined) return t;
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 2 : mp - 10; // 0-based
  const year = yoe + era * 400 + (month < 2 ? 1 : 0);
  t = `${day < 10 ? ' ' : ''}${day}-${MONTHS[month]}-${year} `;
  if (dayTexts.size >= 4096) dayTexts.clear(); // a mailbox spans a few thousand days at most
  dayTexts.set(n, t);
  return t;
}
/** " +0100" for minutes east of UTC. */
function zoneText(zoneMinutes: number): string {
  let t = zoneTexts.get(zoneMinutes);
  if (t !== undefined) return t;
  const a = Math.abs(zoneMinutes);
  t = ` ${zoneMinutes < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
  if (zoneTexts.size >= 256) zoneTexts.clear();
  zoneTexts.set(zoneMinutes, t);
  return t;
}

/** Parse an APPEND date-time ("dd-Mon-yyyy hh:mm:ss +zzzz", day may be space-padded). */
export function parseInternalDate(text: string): { date: Date; zoneMinutes: number } | null {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  const day = Number(m[1]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  const zh = Number(m[8]);
  const zm = Number(m[9]);
  if (mon < 0 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60 || zm > 59) return null;
  const zone = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  const utc = Date.UTC(Number(m[3]), mon, day, h, mi, s) - zone * 60000;
  const date = new Date(utc);
  if (new Date(Date.UTC(Number(m[3]), mon, day)).getUTCDate() !== day) return null;
  return { date, zoneMinutes: zone };
}

const ZONES: Record<string, number> = {
  UT: 0, GMT: 0, UTC: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
  CET: 60, CEST: 120, MET: 60, MEST: 120, BST: 60, EET: 120, EEST: 180, JST: 540, IST: 330,
};

/** RFC 5322 Date, tolerant of the usual junk (missing day name, two-digit years, zone names, comments). */
export function parseRfc5322Date(text: string): { date: Date; zoneMinutes: number } | null {
  const s = text.replace(/\([^)]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  const m = /(?:[A-Za-z]{3},?\s*)?(\d{1,2})\s*[ -]?([A-Za-z]{3})[a-z]*[ -]?\s*(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?/.exec(s);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  if (mon < 0) return null;
  let year = Number(m[3]);
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3].length === 3) year += 1900;
  const day = Number(m[1]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const sec = m[6] ? Number(m[6]) : 0;
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return null;
  let zone = 0;
  if (m[7]) {
    if (/^[+-]\d{4}$/.test(m[7])) {
      const v = Number(m[7].slice(1, 3)) * 60 + Number(m[7].slice(3, 5));
      zone = m[7][0] === '-' ? -v : v;
    } else zone = ZONES[m[7].toUpperCase()] ?? 0;
  }
  return { date: new Date(Date.UTC(year, mon, day, h, mi, sec) - zone * 60000), zoneMinutes: zone };
}

/** SEARCH date "1-Feb-1994" → "1994-02-01". */
export function parseSearchDate(text: string): string | null {
  const m = /^"?(\d{1,2})-([A-Za-z]{3})-(\d{4})"?$/.exec(text);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  const day = Number(m[1]);
  if (mon < 0 || day < 1 || day > 31) return null;
  return `${m[3]}-${pad2(mon + 1)}-${pad2(day)}`;
}

// ------------------------------------------------------------- charsets

/** The charset families UW lists in its FAQ, plus the common aliases. */
const CHARSETS = [
  'US-ASCII', 'UTF-8', 'UTF-16', 'ISO-8859-1', 'ISO-8859-2', 'ISO-8859-3', 'ISO-8859-4', 'ISO-8859-5', 'ISO-8859-6', 'ISO-8859-7',
  'ISO-8859-8', 'ISO-8859-9', 'ISO-8859-10', 'ISO-8859-13', 'ISO-8859-14', 'ISO-8859-15', 'ISO-8859-16', 'WINDOWS-1250', 'WINDOWS-1251',
  'WINDOWS-1252', 'WINDOWS-1253', 'WINDOWS-1254', 'WINDOWS-1255', 'WINDOWS-1256', 'WINDOWS-1257', 'WINDOWS-1258', 'KOI8-R', 'KOI8-U',
  'ISO-2022-JP', 'EUC-JP', 'SHIFT_JIS', 'GB2312', 'GBK', 'GB18030', 'BIG5', 'EUC-KR', 'TIS-620', 'VISCII',
];

export function supportedCharsets(): string[] {
  return [...CHARSETS];
}
export function isSupportedCharset(name: string): boolean {
  const n = name.toUpperCase();
  if (CHARSETS.includes(n)) return true;
  return iconv().encodingExists(name);
}

/** Bytes in a charset → Unicode string (unknown charsets: UTF-8 with latin1 fallback). */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? 'us-ascii').toLowerCase();
  if (cs === 'us-ascii' || cs === 'utf-8' || cs === 'utf8' || cs === 'ascii') return bytes.toString('utf8');
  if (iconv().encodingExists(cs)) return iconv().decode(bytes, cs);
  // Charsets iconv-lite lacks (ISO-2022-JP and its relatives): the WHATWG decoder of Node's ICU.
  try {
    return new TextDecoder(cs).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** RFC 2047 encoded words → Unicode. Adjacent encoded words separated by whitespace are joined. */
export function decodeMimeWords(text: string): string {
  if (!text.includes('=?')) return text;
  return text
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (all, cs: string, enc: string, data: string) => {
      try {
        const charset = cs.split('*')[0];
        let bytes: Buffer;
        if (enc.toUpperCase() === 'B') bytes = Buffer.from(data, 'base64');
        else
          bytes = Buffer.from(
            data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m: string, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          );
        return decodeCharset(bytes, charset);
      } catch {
        return all;
      }
    });
}

/** Case-folded form for substring search (Unicode, no accents stripped). */
export function fold(s: string): string {
  // ASCII is its own NFC: the check is a third of what normalize() costs.
  return (ASCII.test(s) ? s : s.normalize('NFC')).toLowerCase();
}
const ASCII = /^[\x00-\x7f]*$/;
