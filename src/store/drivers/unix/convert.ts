/**
 * Turning a message as a client or MTA gives it into what c-client stores in
 * a UNIX mailbox (formats.md §1.2): every CR removed, NUL → 0x80, every line
 * beginning "From " quoted as ">From ", and incoming c-client private headers
 * renamed X-Original-<name> (anywhere in the header block: beyond UW, whose
 * renaming stops at the first other X- header and so could be fooled).
 */
import { PRIVATE_HEADERS } from './scan.js';
import { indexIn } from '../../io.js';
import type { MboxForm } from '../../types.js';

export function prepareForMbox(data: Buffer): MboxForm {
  // The bytes are copied once and then worked on in place.
  const clean = Buffer.allocUnsafe(data.length + 1);
  data.copy(clean, 0);
  return mboxParts(clean, dropCRs(clean, data.length));
}

/**
 * Remove every CR from buf[0, end) in place, and the ranges in `skips`
 * (flat [start, end) pairs, ascending, offsets `base` + buffer index);
 * returns the new length. Run by run between the CRs indexOf (memchr) finds:
 * a loop over every byte cost a second per 250 MB COPY.
 */
export function dropCRs(buf: Buffer, end: number, skips: readonly number[] = [], base = 0): number {
  let si = 0;
  let o = 0;
  let p = 0;
  let nextCr = -1;
  while (p < end) {
    if (si < skips.length && p >= skips[si] - base) {
      p = Math.max(p, skips[si + 1] - base);
      si += 2;
      continue;
    }
    const limit = si < skips.length ? Math.min(skips[si] - base, end) : end;
    if (nextCr < p) nextCr = indexIn(buf, 13, p, end);
    const q = Math.min(limit, nextCr);
    if (q > p) {
      if (o !== p) buf.copyWithin(o, p, q);
      o += q - p;
      p = q;
    } else if (p < limit) p++; // a CR: dropped (at a skipped range the loop's head moves on)
  }
  return o;
}

/**
 * The rest of the conversion, for text that has no CR: NULs become 0x80 (in
 * place), a final LF is added when missing (`buf` has room for it after
 * `n`), and the text is split at its first empty line into a header, with
 * incoming private headers renamed and "From " lines quoted, and a body with
 * "From " lines quoted.
 */
export function mboxParts(buf: Buffer, n: number): MboxForm {
  for (let z = indexIn(buf, 0, 0, n); z < n; z = indexIn(buf, 0, z + 1, n)) buf[z] = 0x80;
  if (n === 0 || buf[n - 1] !== 10) buf[n++] = 10;
  const text = buf.subarray(0, n);
  // Split header / body at the first empty line.
  let hdrEnd = -1;
  if (text[0] === 10) hdrEnd = 0;
  else {
    const i = text.indexOf('\n\n');
    if (i >= 0) hdrEnd = i + 1;
  }
  const headerRaw = hdrEnd < 0 ? text : text.subarray(0, hdrEnd);
  const bodyRaw = hdrEnd < 0 ? Buffer.alloc(0) : text.subarray(hdrEnd + 1);
  // Lines that need a prefix are rare: the header is copied only for them.
  const header: Buffer[] = [];
  let kept = 0; // headerRaw[kept, off) not yet in `header`
  let off = 0;
  while (off < headerRaw.length) {
    let nl = headerRaw.indexOf(10, off);
    if (nl < 0) nl = headerRaw.length - 1;
    const line = headerRaw.subarray(off, nl + 1);
    const first = line[0] | 0x20; // every private header name begins with s or x
    const colon = first === 0x73 || first === 0x78 ? line.indexOf(0x3a) : -1;
    const rename = colon > 0 && PRIVATE_HEADERS.includes(line.subarray(0, colon).toString('latin1').toLowerCase());
    const quote = line[0] === 0x46 && line.length >= 5 && line.subarray(0, 5).toString('latin1') === 'From ';
    if (rename || quote) {
      header.push(headerRaw.subarray(kept, off), Buffer.from(rename ? 'X-Original-' : '>', 'latin1'));
      kept = off;
    }
    off = nl + 1;
  }
  if (!header.length) return { header: headerRaw, body: quoteFrom(bodyRaw) };
  header.push(headerRaw.subarray(kept));
  return { header: Buffer.concat(header), body: quoteFrom(bodyRaw) };
}

/** ">From " quoting of every line beginning with "From " (found by indexOf). */
export function quoteFrom(b: Buffer): Buffer {
  const next = (from: number) => {
    const i = b.indexOf('\nFrom ', from);
    return i < 0 ? -1 : i + 1;
  };
  let line = b.length >= 5 && b.toString('latin1', 0, 5) === 'From ' ? 0 : next(0);
  if (line < 0) return b;
  const parts: Buffer[] = [];
  let start = 0;
  while (line >= 0) {
    parts.push(b.subarray(start, line), Buffer.from('>', 'latin1'));
    start = line;
    line = next(line);
  }
  parts.push(b.subarray(start));
  return Buffer.concat(parts);
}
