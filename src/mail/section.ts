/**
 * Body sections (RFC 3501 §6.4.5) and BINARY (RFC 3516): the bytes a FETCH
 * returns, sliced from the message without copying more than needed.
 */
import type { ParsedMessage, Part } from './mime.js';
import { resolvePart } from './mime.js';

export interface SectionSpec {
  part: number[];
  kind: 'all' | 'header' | 'header.fields' | 'header.fields.not' | 'text' | 'mime';
  fields?: string[];
}

/** "1.2.HEADER.FIELDS (FROM TO)" → spec; null when invalid. */
export function parseSectionSpec(text: string): SectionSpec | null {
  const t = text.trim();
  if (t === '') return { part: [], kind: 'all' };
  const m = /^((?:[1-9]\d*)(?:\.[1-9]\d*)*)?(?:(?:^|\.)(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?(?:\s*\((.*)\))?$/i.exec(t);
  if (!m || (!m[1] && !m[2])) return null;
  const part = m[1] ? m[1].split('.').map(Number) : [];
  const kindRaw = (m[2] ?? '').toLowerCase();
  const kind = (kindRaw || 'all') as SectionSpec['kind'];
  if (kind === 'mime' && part.length === 0) return null;
  if ((kind === 'header.fields' || kind === 'header.fields.not') !== (m[3] !== undefined)) return null;
  if (kind === 'header.fields' || kind === 'header.fields.not') {
    const fields = m[3]!
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((f) => f.replace(/^"(.*)"$/, '$1'));
    if (!fields.length) return null;
    return { part, kind, fields };
  }
  return { part, kind };
}

function slice(msg: ParsedMessage, a: number, b: number): Buffer {
  return msg.data.subarray(a, b);
}

/** The header block of a part including its terminating blank line. */
function headerOf(msg: ParsedMessage, p: Part): Buffer {
  return slice(msg, p.start, p.bodyStart);
}

function filterHeader(msg: ParsedMessage, p: Part, names: string[], not: boolean): Buffer {
  const want = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  for (const f of p.fields) {
    if (want.has(f.name) !== not) {
      let b = slice(msg, f.start, f.end);
      if (b[b.length - 1] !== 10) b = Buffer.concat([b, Buffer.from('\r\n')]);
      out.push(b);
    }
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** Section bytes; a part that does not exist gives an empty buffer (as UW and Dovecot). */
export function fetchSection(msg: ParsedMessage, spec: SectionSpec): Buffer {
  if (spec.part.length === 0) {
    const r = msg.root;
    switch (spec.kind) {
      case 'all':
        return msg.data;
      case 'header':
        return headerOf(msg, r);
      case 'header.fields':
        return filterHeader(msg, r, spec.fields ?? [], false);
      case 'header.fields.not':
        return filterHeader(msg, r, spec.fields ?? [], true);
      case 'text':
        return slice(msg, r.bodyStart, r.end);
      default:
        return Buffer.alloc(0);
    }
  }
  const p = resolvePart(msg, spec.part);
  if (!p) return Buffer.alloc(0);
  switch (spec.kind) {
    case 'all':
      return slice(msg, p.bodyStart, p.end);
    case 'mime':
      return headerOf(msg, p);
    case 'header':
    case 'header.fields':
    case 'header.fields.not':
    case 'text': {
      // Only meaningful for message/rfc822 parts: the encapsulated message.
      const m = p.message;
      if (!m) return Buffer.alloc(0);
      if (spec.kind === 'header') return headerOf(msg, m);
      if (spec.kind === 'text') return slice(msg, m.bodyStart, m.end);
      return filterHeader(msg, m, spec.fields ?? [], spec.kind === 'header.fields.not');
    }
  }
}

// ------------------------------------------------------------- decoding

export function decodeBase64(b: Buffer): Buffer {
  // Node ignores characters outside the alphabet, as a tolerant decoder should.
  return Buffer.from(b.toString('latin1'), 'base64');
}

export function decodeQuotedPrintable(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  let o = 0;
  const hex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x3d) {
      // soft line break: "=" [spaces] CRLF
      let j = i + 1;
      while (j < b.length && (b[j] === 0x20 || b[j] === 0x09)) j++;
      if (b[j] === 13 && b[j + 1] === 10) {
        i = j + 1;
        continue;
      }
      if (b[j] === 10) {
        i = j;
        continue;
      }
      const h = hex(b[i + 1] ?? -1);
      const l = hex(b[i + 2] ?? -1);
      if (h >= 0 && l >= 0) {
        out[o++] = h * 16 + l;
        i += 2;
        continue;
      }
      out[o++] = c;
      continue;
    }
    out[o++] = c;
  }
  return out.subarray(0, o);
}

/** Decoded content of a leaf part by its Content-Transfer-Encoding. */
export function decodedBody(msg: ParsedMessage, p: Part): Buffer | { error: 'UNKNOWN-CTE' } {
  const raw = slice(msg, p.bodyStart, p.end);
  switch (p.encoding) {
    case '':
    case '7bit':
    case '8bit':
    case 'binary':
      return raw;
    case 'base64':
      return decodeBase64(raw);
    case 'quoted-printable':
      return decodeQuotedPrintable(raw);
    default:
      return { error: 'UNKNOWN-CTE' };
  }
}

/** BINARY[part] (RFC 3516). */
export function fetchBinary(msg: ParsedMessage, part: number[]): Buffer | { error: 'UNKNOWN-CTE' } {
  if (part.length === 0) return msg.data;
  const p = resolvePart(msg, part);
  if (!p) return Buffer.alloc(0);
  if (p.children || p.message) return slice(msg, p.bodyStart, p.end);
  return decodedBody(msg, p);
}

export function binarySize(msg: ParsedMessage, part: number[]): number | { error: 'UNKNOWN-CTE' } {
  const b = fetchBinary(msg, part);
  return Buffer.isBuffer(b) ? b.length : b;
}
