/**
 * ENVELOPE and BODYSTRUCTURE/BODY (RFC 3501 §7.4.2), computed from the MIME
 * tree. Types, subtypes, encodings and parameter names are upper-cased as
 * UW c-client sends them; values and encoded words are left as sent.
 */
import type { ImapValue } from './types.js';
import type { ParsedMessage, Part } from './mime.js';
import { countLines } from './mime.js';
import { fieldValue, firstField, parseParams, type HeaderField } from './header.js';
import { parseAddressList, addressesToImap } from './address.js';

function fieldText(data: Buffer, fields: HeaderField[], name: string): string | null {
  const f = firstField(fields, name);
  return f ? fieldValue(data, f) : null;
}
function text(msg: ParsedMessage, part: Part, name: string): string | null {
  return fieldText(msg.data, part.fields, name);
}

function addresses(data: Buffer, fields: HeaderField[], name: string): ImapValue {
  const v = fieldText(data, fields, name);
  if (v === null || v.trim() === '') return null;
  return addressesToImap(parseAddressList(v));
}

/** ENVELOPE from a header's fields (a message's own, or one inside message/rfc822). */
export function envelopeFields(data: Buffer, fields: HeaderField[]): ImapValue {
  const from = addresses(data, fields, 'from');
  const sender = addresses(data, fields, 'sender') ?? from;
  const replyTo = addresses(data, fields, 'reply-to') ?? from;
  return [
    fieldText(data, fields, 'date'),
    fieldText(data, fields, 'subject'),
    from,
    sender,
    replyTo,
    addresses(data, fields, 'to'),
    addresses(data, fields, 'cc'),
    addresses(data, fields, 'bcc'),
    fieldText(data, fields, 'in-reply-to'),
    fieldText(data, fields, 'message-id'),
  ];
}

/** ENVELOPE of a message part (the root, or the message inside message/rfc822). */
export function envelopeOf(msg: ParsedMessage, part: Part): ImapValue {
  return envelopeFields(msg.data, part.fields);
}

export function envelope(msg: ParsedMessage): ImapValue {
  return envelopeOf(msg, msg.root);
}

function paramList(params: Array<[string, string]>): ImapValue {
  if (!params.length) return null;
  const out: ImapValue[] = [];
  for (const [k, v] of params) out.push(k.toUpperCase(), v);
  return out;
}

function disposition(msg: ParsedMessage, part: Part): ImapValue {
  const v = text(msg, part, 'content-disposition');
  if (!v) return null;
  const p = parseParams(v);
  if (!p.value) return null;
  return [p.value.toUpperCase(), paramList(p.params)];
}

function language(msg: ParsedMessage, part: Part): ImapValue {
  const v = text(msg, part, 'content-language');
  if (!v) return null;
  const langs = v
    .replace(/\([^)]*\)/g, '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!langs.length) return null;
  return langs.length === 1 ? langs[0] : langs;
}

function structure(msg: ParsedMessage, part: Part, ext: boolean): ImapValue {
  if (part.children && part.children.length) {
    const out: ImapValue[] = part.children.map((c) => structure(msg, c, ext));
    out.push(part.subtype.toUpperCase());
    if (ext) {
      out.push(paramList(part.params), disposition(msg, part), language(msg, part), text(msg, part, 'content-location'));
    }
    return out;
  }
  const type = part.children ? 'TEXT' : part.type.toUpperCase();
  const subtype = part.children ? 'PLAIN' : part.subtype.toUpperCase();
  let params = part.params;
  if (type === 'TEXT' && !params.some(([k]) => k.toLowerCase() === 'charset')) params = [['charset', 'US-ASCII'], ...params];
  const size = part.end - part.bodyStart;
  const out: ImapValue[] = [
    type,
    subtype,
    paramList(params),
    text(msg, part, 'content-id'),
    text(msg, part, 'content-description'),
    (part.encoding || '7bit').toUpperCase(),
    size,
  ];
  if (part.message) {
    out.push(envelopeOf(msg, part.message), structure(msg, part.message, ext), countLines(msg.data, part.bodyStart, part.end));
  } else if (type === 'TEXT') {
    out.push(countLines(msg.data, part.bodyStart, part.end));
  }
  if (ext) out.push(text(msg, part, 'content-md5'), disposition(msg, part), language(msg, part), text(msg, part, 'content-location'));
  return out;
}

/** BODYSTRUCTURE (extensible = true) or BODY (false). */
export function bodyStructure(msg: ParsedMessage, extensible: boolean): ImapValue {
  return structure(msg, msg.root, extensible);
}
