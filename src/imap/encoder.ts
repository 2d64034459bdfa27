/**
 * The one IMAP response encoder: strings (quoted when safe, else literals),
 * NIL, numbers, parenthesised lists, flag lists. Quoting rules live here only.
 *
 * Responses are built as "octet strings": JavaScript strings holding one
 * octet per character (latin1), turned into a Buffer once per response line.
 * Building nested lists (ENVELOPE, BODYSTRUCTURE) this way costs a string
 * concatenation per item instead of a Buffer allocation and copy per level.
 */
import type { ImapValue } from '../mail/types.js';

/**
 * The octets of a string as an octet string. Strings from messages already
 * hold octets (8-bit header bytes pass through unchanged); text with code
 * points above U+00FF (server-made Unicode) is sent as UTF-8.
 */
export function octets(v: string): string {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0xff) return Buffer.from(v, 'utf8').toString('latin1');
  return v;
}

/** A string as an IMAP quoted string when possible, else a literal; as an octet string. */
export function strText(v: string | Buffer | null | undefined): string {
  if (v === null || v === undefined) return 'NIL';
  const o = typeof v === 'string' ? v : v.toString('latin1');
  if (o.length < 1024) {
    // One pass: quotable (7-bit, no NUL, CR or LF), and whether " or \ need escaping.
    let escape = false;
    let i = 0;
    for (; i < o.length; i++) {
      const c = o.charCodeAt(i);
      if (c === 0 || c === 10 || c === 13 || c > 0x7e) break;
      if (c === 34 || c === 92) escape = true;
    }
    if (i === o.length) return '"' + (escape ? o.replace(/(["\\])/g, '\\$1') : o) + '"';
  }
  const b = typeof v === 'string' ? octets(v) : o;
  return `{${b.length}}\r\n` + b;
}

/** Encode a string as a quoted string when possible, else as a literal. */
export function str(v: string | Buffer | null | undefined): Buffer {
  return Buffer.from(strText(v), 'latin1');
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

/** NIL, a number, a string or a parenthesised list, as an octet string. */
export function valueText(v: ImapValue): string {
  if (v === null) return 'NIL';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' || Buffer.isBuffer(v)) return strText(v);
  let s = '(';
  for (let i = 0; i < v.length; i++) {
    if (i) s += ' ';
    s += valueText(v[i]);
  }
  return s + ')';
}

export function value(v: ImapValue): Buffer {
  return Buffer.from(valueText(v), 'latin1');
}

export function flagList(flags: Iterable<string>): string {
  return `(${[...flags].join(' ')})`;
}
