/**
 * The one IMAP response encoder: strings (quoted when safe, else literals),
 * NIL, numbers, parenthesised lists, flag lists. Quoting rules live here only.
 */
import type { ImapValue } from '../mail/types.js';

/** Encode a string as a quoted string when possible, else as a literal. */
export function str(v: string | Buffer | null | undefined): Buffer {
  if (v === null || v === undefined) return Buffer.from('NIL');
  // Strings from messages are octets held as latin1 (8-bit headers pass through unchanged); only text with
  // code points above U+00FF (server-made Unicode) is sent as UTF-8.
  const b = typeof v === 'string' ? Buffer.from(v, /[^\u0000-\u00ff]/.test(v) ? 'utf8' : 'latin1') : v;
  let safe = b.length < 1024;
  if (safe)
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === 0 || c === 10 || c === 13 || c > 0x7e) {
        safe = false;
        break;
      }
    }
  if (safe) {
    const s = b.toString('latin1');
    return Buffer.from('"' + s.replace(/(["\\])/g, '\\$1') + '"', 'latin1');
  }
  return Buffer.concat([Buffer.from(`{${b.length}}\r\n`, 'latin1'), b]);
}

/** A literal, always (BODY[] data). */
export function literal(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`{${b.length}}\r\n`, 'latin1'), b]);
}

/** Mailbox names: atom-safe names as they are, others quoted or literal (octets kept). */
export function mailbox(name: string): Buffer {
  const b = Buffer.from(name, 'latin1');
  if (/^[A-Za-z0-9!#$&'+,\-./:;<=>?@^_`|~]+$/.test(name) && name.toUpperCase() !== 'NIL') return b;
  return str(b);
}

export function value(v: ImapValue): Buffer {
  if (v === null) return Buffer.from('NIL');
  if (typeof v === 'number') return Buffer.from(String(v));
  if (typeof v === 'string' || Buffer.isBuffer(v)) return str(v);
  const parts: Buffer[] = [Buffer.from('(')];
  v.forEach((x, i) => {
    if (i) parts.push(Buffer.from(' '));
    parts.push(value(x));
  });
  parts.push(Buffer.from(')'));
  return Buffer.concat(parts);
}

export function flagList(flags: Iterable<string>): string {
  return `(${[...flags].join(' ')})`;
}
