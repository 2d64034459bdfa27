/**
 * Header fields of a message or MIME part: located by offset, unfolded on
 * demand, never throwing on junk.
 */

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** Offset of the field's first byte in the message. */
  start: number;
  /** Offset just after the field's last line (its CRLF included). */
  end: number;
  /** Offset of the value (after the colon). */
  valueStart: number;
}

/** Split the header block [start, end) into fields. Lines without a colon are skipped, as c-client does. */
export function parseHeaderFields(buf: Buffer, start: number, end: number): HeaderField[] {
  return walkFields(buf, start, end);
}

/**
 * The fields named `name` (lower case) in the header block [start, end):
 * what parseHeaderFields gives, filtered by name, but without making a
 * name string or an object for every other field (SEARCH FROM over 50,000
 * headers).
 */
export function fieldsNamed(buf: Buffer, start: number, end: number, name: string): HeaderField[] {
  return walkFields(buf, start, end, name);
}

/** The fields of [start, end): all of them, or only those named `only` (lower case). */
function walkFields(buf: Buffer, start: number, end: number, only?: string): HeaderField[] {
  const out: HeaderField[] = [];
  const want = only === undefined ? undefined : nameBytes(only);
  let pos = start;
  let cur: HeaderField | undefined; // the field being continued, when it is one we keep
  let inField = false; // a field (kept or not) is being continued
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= end) nl = end - 1;
    const lineEnd = nl + 1;
    const c = buf[pos];
    if ((c === 0x20 || c === 0x09) && inField) {
      if (cur) cur.end = lineEnd;
    } else {
      let colon = -1;
      for (let i = pos; i < nl; i++) {
        const b = buf[i];
        if (b === 0x3a) {
          colon = i;
          break;
        }
        if (b <= 0x20 || b >= 0x7f) break; // a field name has no spaces or controls
      }
      inField = colon > pos;
      cur = undefined;
      if (inField && (!want || sameName(buf, pos, colon, want))) {
        cur = { name: only ?? buf.toString('latin1', pos, colon).toLowerCase(), start: pos, end: lineEnd, valueStart: colon + 1 };
        out.push(cur);
      }
    }
    pos = lineEnd;
  }
  return out;
}

/** A field name as bytes, made once per name (a search asks for the same one per message). */
const names = new Map<string, Buffer>();
function nameBytes(name: string): Buffer {
  let b = names.get(name);
  if (!b) {
    b = Buffer.from(name, 'latin1');
    if (names.size < 256) names.set(name, b);
  }
  return b;
}

/** Whether buf[from, to) is `want` (lower case), letters compared without case. */
function sameName(buf: Buffer, from: number, to: number, want: Buffer): boolean {
  if (to - from !== want.length) return false;
  for (let k = 0; k < want.length; k++) {
    const b = buf[from + k];
    if ((b >= 0x41 && b <= 0x5a ? b + 32 : b) !== want[k]) return false;
  }
  return true;
}

/** The unfolded value: CRLF (and bare LF) before whitespace removed, leading whitespace trimmed. */
export function fieldValue(buf: Buffer, f: HeaderField): string {
  // One line (most fields): trimmed by offsets, no regular expressions.
  let a = f.valueStart;
  let e = f.end;
  if (e > a && buf[e - 1] === 10) e--;
  let folded = false;
  for (let i = a; i < e; i++) {
    if (buf[i] === 10) {
      folded = true;
      break;
    }
  }
  if (!folded) {
    while (a < e && (buf[a] === 0x20 || buf[a] === 0x09)) a++;
    while (e > a && (buf[e - 1] === 0x20 || buf[e - 1] === 0x09 || buf[e - 1] === 0x0d)) e--;
    return buf.toString('latin1', a, e);
  }
  let s = buf.toString('latin1', f.valueStart, f.end);
  s = s.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '');
  return s.replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
}

/** The raw value bytes as UTF-8/latin1-safe string (unfolded), for 8-bit headers. */
export function fieldValueBytes(buf: Buffer, f: HeaderField): Buffer {
  return Buffer.from(fieldValue(buf, f), 'latin1');
}

export function firstField(fields: HeaderField[], name: string): HeaderField | undefined {
  return fields.find((f) => f.name === name);
}

/** Parse a Content-Type / Content-Disposition style value: token and parameters (RFC 2045, RFC 2231 kept as sent). */
export function parseParams(value: string): { value: string; params: Array<[string, string]> } {
  let i = 0;
  const n = value.length;
  const skipWs = () => {
    for (;;) {
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      if (value[i] === '(') {
        let depth = 0;
        while (i < n) {
          if (value[i] === '\\') i += 2;
          else {
            if (value[i] === '(') depth++;
            else if (value[i] === ')') {
              depth--;
              if (depth === 0) {
                i++;
                break;
              }
            }
            i++;
          }
        }
        continue;
      }
      break;
    }
  };
  skipWs();
  let v = '';
  while (i < n && value[i] !== ';' && value[i] !== ' ' && value[i] !== '\t' && value[i] !== '(') v += value[i++];
  const params: Array<[string, string]> = [];
  for (;;) {
    skipWs();
    if (value[i] !== ';') {
      // Tolerate junk before the next ';'
      const semi = value.indexOf(';', i);
      if (semi < 0) break;
      i = semi;
    }
    i++; // ;
    skipWs();
    let name = '';
    while (i < n && value[i] !== '=' && value[i] !== ';' && value[i] !== ' ' && value[i] !== '\t') name += value[i++];
    skipWs();
    if (value[i] !== '=') {
      if (i >= n) break;
      continue;
    }
    i++;
    skipWs();
    let val = '';
    if (value[i] === '"') {
      i++;
      while (i < n && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < n) i++;
        val += value[i++];
      }
      i++;
    } else {
      while (i < n && value[i] !== ';' && value[i] !== ' ' && value[i] !== '\t') val += value[i++];
    }
    if (name) params.push([name, val]);
  }
  return { value: v, params };
}
