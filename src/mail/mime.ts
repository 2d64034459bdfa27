/**
 * The MIME tree of a message, by offsets into its bytes (no copies). Handles
 * CRLF and bare LF, missing header/body separators, multiparts of any depth
 * with odd boundaries, a missing final boundary, message/rfc822 and
 * message/global with their own trees. Never throws.
 */
import { parseHeaderFields, fieldsNamed, fieldValue, firstField, parseParams, type HeaderField } from './header.js';

export interface Part {
  /** Offset of the part's header. */
  start: number;
  /** Offset where the body starts (after the blank line). */
  bodyStart: number;
  /** End of the part (exclusive). */
  end: number;
  fields: HeaderField[];
  type: string; // lower case
  subtype: string; // lower case
  params: Array<[string, string]>;
  encoding: string; // lower case, '' when absent
  /** Multipart children. */
  children?: Part[];
  /** message/rfc822 (and message/global): the encapsulated message. */
  message?: Part;
}

export interface ParsedMessage {
  data: Buffer;
  root: Part;
}

const MAX_DEPTH = 64;

/** End of the header: offset of the body start, given a part starting at `start`. */
function findBodyStart(buf: Buffer, start: number, end: number): { headerEnd: number; bodyStart: number } {
  if (start >= end) return { headerEnd: start, bodyStart: start };
  // Empty header: the part begins with a blank line.
  if (buf[start] === 10) return { headerEnd: start, bodyStart: start + 1 };
  if (buf[start] === 13 && buf[start + 1] === 10) return { headerEnd: start, bodyStart: start + 2 };
  let pos = start;
  while (pos < end) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= end) return { headerEnd: end, bodyStart: end };
    const next = nl + 1;
    if (next >= end) return { headerEnd: end, bodyStart: end };
    if (buf[next] === 10) return { headerEnd: next, bodyStart: next + 1 };
    if (buf[next] === 13 && buf[next + 1] === 10) return { headerEnd: next, bodyStart: next + 2 };
    pos = next;
  }
  return { headerEnd: end, bodyStart: end };
}

function parsePart(buf: Buffer, start: number, end: number, depth: number, defaultType: [string, string]): Part {
  const { headerEnd, bodyStart } = findBodyStart(buf, start, end);
  const fields = parseHeaderFields(buf, start, headerEnd);
  const ct = firstField(fields, 'content-type');
  let type = defaultType[0];
  let subtype = defaultType[1];
  let params: Array<[string, string]> = [];
  if (ct) {
    const p = parseParams(fieldValue(buf, ct));
    const slash = p.value.indexOf('/');
    if (slash > 0 && slash < p.value.length - 1) {
      type = p.value.slice(0, slash).toLowerCase();
      subtype = p.value.slice(slash + 1).toLowerCase();
      params = p.params;
    } else {
      // Malformed Content-Type: c-client falls back to text/plain.
      type = 'text';
      subtype = 'plain';
      params = p.params;
    }
  }
  const cte = firstField(fields, 'content-transfer-encoding');
  const encoding = cte ? fieldValue(buf, cte).toLowerCase().split(/[\s;(]/)[0] : '';
  const part: Part = { start, bodyStart, end, fields, type, subtype, params, encoding };
  if (depth >= MAX_DEPTH) return part;
  if (type === 'multipart') {
    const boundary = params.find(([k]) => k.toLowerCase() === 'boundary')?.[1];
    if (!boundary) {
      // No boundary: treat as text (as mature servers do).
      part.type = 'text';
      part.subtype = 'plain';
      part.params = [];
      return part;
    }
    part.children = splitMultipart(buf, bodyStart, end, boundary, depth, subtype === 'digest' ? ['message', 'rfc822'] : ['text', 'plain']);
    // A multipart with no parts gets one empty text/plain part (UW c-client, Dovecot): IMAP has no empty multipart.
    if (!part.children.length) part.children = [{ start: end, bodyStart: end, end, fields: [], type: 'text', subtype: 'plain', params: [], encoding: '' }];
  } else if (type === 'message' && (subtype === 'rfc822' || subtype === 'global') && !['base64', 'quoted-printable'].includes(encoding)) {
    part.message = parsePart(buf, bodyStart, end, depth + 1, ['text', 'plain']);
  }
  return part;
}

/** Find delimiter lines `--boundary` and split the body into parts. */
function splitMultipart(buf: Buffer, start: number, end: number, boundary: string, depth: number, dflt: [string, string]): Part[] {
  const delim = Buffer.from('--' + boundary, 'latin1');
  const starts: number[] = []; // part content starts
  const ends: number[] = []; // part content ends (before the CRLF preceding a delimiter)
  let pos = start;
  let closed = false;
  while (pos < end && !closed) {
    const i = buf.indexOf(delim, pos);
    if (i < 0 || i >= end) break;
    const atLineStart = i === start || buf[i - 1] === 10;
    const after = i + delim.length;
    if (!atLineStart || after > end) {
      pos = i + 1;
      continue;
    }
    const isClose = buf[after] === 0x2d && buf[after + 1] === 0x2d;
    let p = isClose ? after + 2 : after;
    // Transport padding (spaces/tabs) then end of line.
    while (p < end && (buf[p] === 0x20 || buf[p] === 0x09)) p++;
    let lineEnd: number;
    if (p >= end) lineEnd = end;
    else if (buf[p] === 10) lineEnd = p + 1;
    else if (buf[p] === 13 && buf[p + 1] === 10) lineEnd = p + 2;
    else if (isClose) {
      const nl = buf.indexOf(10, p);
      lineEnd = nl < 0 || nl >= end ? end : nl + 1;
    } else {
      pos = i + 1; // "--boundaryX": a longer boundary, not ours
      continue;
    }
    // The line break before the delimiter belongs to the delimiter.
    let contentEnd = i;
    if (contentEnd > start && buf[contentEnd - 1] === 10) {
      contentEnd--;
      if (contentEnd > start && buf[contentEnd - 1] === 13) contentEnd--;
    }
    if (starts.length > ends.length) ends.push(Math.max(contentEnd, starts[starts.length - 1]));
    if (isClose) closed = true;
    else starts.push(lineEnd);
    pos = lineEnd;
  }
  if (starts.length > ends.length) ends.push(end); // missing final boundary
  const out: Part[] = [];
  for (let k = 0; k < starts.length; k++) out.push(parsePart(buf, starts[k], ends[k], depth + 1, dflt));
  return out;
}

export function parseMessage(data: Buffer): ParsedMessage {
  return { data, root: parsePart(data, 0, data.length, 0, ['text', 'plain']) };
}

/**
 * The message's own header alone — the fields and body start parseMessage
 * gives its root — without the MIME tree (for ENVELOPE and header SEARCH).
 */
export function headerOf(data: Buffer): { fields: HeaderField[]; bodyStart: number } {
  const { headerEnd, bodyStart } = findBodyStart(data, 0, data.length);
  return { fields: parseHeaderFields(data, 0, headerEnd), bodyStart };
}

/** The fields of the message's own header named `name` (lower case): headerOf(data).fields filtered, without the others. */
export function headerFieldsNamed(data: Buffer, name: string): HeaderField[] {
  return fieldsNamed(data, 0, findBodyStart(data, 0, data.length).headerEnd, name);
}

/** Number of lines in [start, end) as IMAP counts them. */
export function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, start); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) n++;
  // Line feeds only, as UW c-client (rfc822.c) and Dovecot count: a last line without its end is not counted.
  return n;
}

/**
 * The part a section path names (RFC 3501 §6.4.5). [] = the message itself.
 * Inside a message/rfc822 part, numbers continue in the encapsulated message.
 */
export function resolvePart(msg: ParsedMessage, path: number[]): Part | undefined {
  let p: Part = msg.root;
  let isMessage = true; // p is a message (root or encapsulated)
  for (const k of path) {
    if (!isMessage && p.message) {
      p = p.message;
      isMessage = true;
    }
    if (p.children) {
      const c = p.children[k - 1];
      if (!c) return undefined;
      p = c;
      isMessage = false;
    } else if (isMessage && k === 1) {
      isMessage = false; // the single body of a non-multipart message
    } else return undefined;
  }
  return p;
}
