/**
 * SEARCH evaluation (RFC 3501 §6.4.4, RFC 5032 WITHIN): case-insensitive
 * substring matching on decoded text — RFC 2047 words in headers, base64 and
 * quoted-printable bodies in their declared charsets — all compared in
 * Unicode. Message bytes are loaded only when a key needs them.
 */
import { INDEXED_FIELDS, type NumberRanges, type SearchKey, type SearchMessage } from './types.js';
import { parseMessage, headerOf, headerFieldsNamed, type ParsedMessage, type Part } from './mime.js';
import { fieldValue, type HeaderField } from './header.js';
import { decodedBody } from './section.js';
import { decodeCharset, decodeMimeWords, fold, parseRfc5322Date } from './text.js';

export interface SearchContext {
  charset: string;
  maxSeq: number;
  maxUid: number;
  now: Date;
}

/** "2:4,7,*" → ranges, with * = max. null when malformed. */
export function parseSequenceSet(text: string, max: number): NumberRanges | null {
  if (!/^[0-9*:,]+$/.test(text)) return null;
  const out: NumberRanges = [];
  for (const item of text.split(',')) {
    const m = /^(\d+|\*)(?::(\d+|\*))?$/.exec(item);
    if (!m) return null;
    const a = m[1] === '*' ? max : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === '*' ? max : Number(m[2]);
    if ((m[1] !== '*' && a === 0) || (m[2] !== undefined && m[2] !== '*' && b === 0)) return null;
    out.push(a <= b ? [a, b] : [b, a]);
  }
  return out;
}
export function inSequenceSet(n: number, ranges: NumberRanges): boolean {
  for (const [a, b] of ranges) if (n >= a && n <= b) return true;
  return false;
}

/** Whether any key of the program, through NOT/OR/AND, is one of `types`. */
function usesKey(key: SearchKey, types: ReadonlySet<SearchKey['type']>): boolean {
  switch (key.type) {
    case 'not':
      return usesKey(key.key, types);
    case 'or':
      return usesKey(key.a, types) || usesKey(key.b, types);
    case 'and':
      return key.keys.some((k) => usesKey(k, types));
    default:
      return types.has(key.type);
  }
}
const MESSAGE_KEYS: ReadonlySet<SearchKey['type']> = new Set(['header', 'body', 'text', 'sentdate']);
const BODY_KEYS: ReadonlySet<SearchKey['type']> = new Set(['body', 'text']);

/** Every key that reads the message reads only INDEXED_FIELDS (HEADER with another name does not). */
function onlyIndexedFields(key: SearchKey): boolean {
  switch (key.type) {
    case 'not':
      return onlyIndexedFields(key.key);
    case 'or':
      return onlyIndexedFields(key.a) && onlyIndexedFields(key.b);
    case 'and':
      return key.keys.every(onlyIndexedFields);
    case 'header':
      return INDEXED_FIELDS.has(key.field.toLowerCase());
    case 'sentdate':
      return true; // the Date field
    default:
      return !MESSAGE_KEYS.has(key.type);
  }
}

export function needsMessageData(key: SearchKey): boolean {
  return usesKey(key, MESSAGE_KEYS);
}

/** yyyy-mm-dd of a date in a zone (minutes east). */
function dayOf(d: Date, zone: number): string {
  return new Date(d.getTime() + zone * 60000).toISOString().slice(0, 10);
}


/** Header octets as text: 8-bit bytes read as UTF-8, RFC 2047 words decoded. */
function decodedText(octets: string): string {
  for (let i = 0; i < octets.length; i++) if (octets.charCodeAt(i) >= 0x80) return decodeMimeWords(decodeCharset(Buffer.from(octets, 'latin1'), 'utf-8'));
  return decodeMimeWords(octets); // ASCII reads the same as UTF-8
}

class Loaded {
  private parsed?: ParsedMessage;
  private header?: { fields: HeaderField[]; bodyStart: number };
  private bodyText?: string;
  constructor(readonly data: Buffer) {}
  get msg(): ParsedMessage {
    return (this.parsed ??= parseMessage(this.data));
  }
  /** The message's own header; header keys need no MIME tree. */
  private get head(): { fields: HeaderField[]; bodyStart: number } {
    return (this.header ??= this.parsed ? this.parsed.root : headerOf(this.data));
  }
  headerValues(name: string): string[] {
    return this.rawHeaderValues(name).map(decodedText);
  }
  /** The values of the fields `name` as stored (unfolded, not decoded). */
  rawHeaderValues(name: string): string[] {
    const out: string[] = [];
    const known = this.header?.fields ?? this.parsed?.root.fields;
    const fields = known ? known.filter((f) => f.name === name) : headerFieldsNamed(this.data, name);
    for (const f of fields) out.push(fieldValue(this.data, f));
    return out;
  }
  headerText(): string {
    return decodedText(this.data.toString('latin1', 0, this.head.bodyStart));
  }
  body(): string {
    if (this.bodyText !== undefined) return this.bodyText;
    const parts: string[] = [];
    const walk = (p: Part) => {
      if (p.children) return p.children.forEach(walk);
      if (p.message) {
        const m = p.message;
        parts.push(decodeMimeWords(decodeCharset(this.msg.data.subarray(m.start, m.bodyStart), 'utf-8')));
        return walk(m);
      }
      if (p.type !== 'text' && p.type !== 'message') return; // attachments are not text
      const dec = decodedBody(this.msg, p);
      if (!Buffer.isBuffer(dec)) return;
      const cs = p.params.find(([k]) => k.toLowerCase() === 'charset')?.[1];
      parts.push(decodeCharset(dec, cs));
    };
    walk(this.msg.root);
    this.bodyText = parts.join('\n');
    return this.bodyText;
  }
}

/**
 * A value now or later: evaluators stay synchronous as long as the message
 * data is at hand (the header-field index gives it at once), instead of
 * making promises per message and key.
 */
type Maybe<T> = T | Promise<T>;
const then = <T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> => (v instanceof Promise ? v.then(f) : f(v));

type Evaluator = (m: SearchMessage, l: () => Maybe<Loaded>) => Maybe<boolean>;

function compile(key: SearchKey, ctx: SearchContext): Evaluator {
  switch (key.type) {
    case 'all':
      return () => true;
    case 'flag':
      return (m) => m.flags.has(key.flag) === key.set;
    case 'new':
      return (m) => m.flags.has('\\Recent') && !m.flags.has('\\Seen');
    case 'old':
      return (m) => !m.flags.has('\\Recent');
    case 'keyword':
      return (m) => m.flags.has(key.keyword) === key.set;
    case 'size':
      return (m) => (key.op === 'larger' ? m.size > key.size : m.size < key.size);
    case 'within': {
      const limit = ctx.now.getTime() - key.seconds * 1000;
      return (m) => (key.op === 'older' ? m.internalDate.getTime() <= limit : m.internalDate.getTime() > limit);
    }
    case 'internaldate':
      return (m) => {
        // The internal date's day in the server's zone (as c-client compares).
        const d = dayOf(m.internalDate, -m.internalDate.getTimezoneOffset());
        return key.op === 'before' ? d < key.date : key.op === 'on' ? d === key.date : d >= key.date;
      };
    case 'sentdate':
      return (_m, load) =>
        then(load(), (l) => {
          const v = l.headerValues('date')[0];
          const p = v ? parseRfc5322Date(v) : null;
          if (!p) return false;
          const d = dayOf(p.date, p.zoneMinutes); // the date part in the message's own zone
          return key.op === 'before' ? d < key.date : key.op === 'on' ? d === key.date : d >= key.date;
        });
    case 'header': {
      const name = key.field.toLowerCase();
      const needle = fold(key.value);
      // Whether a field value (as stored) matches, worked out once per
      // distinct value: senders and subjects repeat through a mailbox, and
      // decoding their encoded words was most of a search's time.
      const memo = new Map<string, boolean>();
      const matches = (raw: string) => {
        let hit = memo.get(raw);
        if (hit === undefined) {
          hit = fold(decodedText(raw)).includes(needle);
          if (memo.size < 20000) memo.set(raw, hit);
        }
        return hit;
      };
      return (_m, load) =>
        then(load(), (l) => {
          const values = l.rawHeaderValues(name);
          return needle === '' ? values.length > 0 : values.some(matches);
        });
    }
    case 'body': {
      const needle = fold(key.value);
      return (_m, load) => then(load(), (l) => fold(l.body()).includes(needle));
    }
    case 'text': {
      const needle = fold(key.value);
      return (_m, load) => then(load(), (l) => fold(l.headerText()).includes(needle) || fold(l.body()).includes(needle));
    }
    case 'seqset': {
      const r = parseSequenceSet(key.set, ctx.maxSeq) ?? [];
      return (m) => inSequenceSet(m.seq, r);
    }
    case 'uidset': {
      const r = parseSequenceSet(key.set, ctx.maxUid) ?? [];
      return (m) => inSequenceSet(m.uid, r);
    }
    case 'not': {
      const e = compile(key.key, ctx);
      return (m, l) => then(e(m, l), (v) => !v);
    }
    case 'or': {
      const a = compile(key.a, ctx);
      const b = compile(key.b, ctx);
      return (m, l) => then(a(m, l), (v) => v || b(m, l));
    }
    case 'and': {
      // Cheap keys first: flags and sizes before anything that loads bytes.
      const keys = [...key.keys].sort((x, y) => Number(needsMessageData(x)) - Number(needsMessageData(y)));
      const es = keys.map((k) => compile(k, ctx));
      const from = (m: SearchMessage, l: () => Maybe<Loaded>, k: number): Maybe<boolean> => {
        for (; k < es.length; k++) {
          const v = es[k](m, l);
          if (v instanceof Promise) return v.then((ok) => ok && from(m, l, k + 1));
          if (!v) return false;
        }
        return true;
      };
      return (m, l) => from(m, l, 0);
    }
  }
}

/**
 * Compile a SEARCH program into a predicate over messages: a boolean, or a
 * promise of one when message data had to be read.
 */
export function compileSearch(key: SearchKey, ctx: SearchContext): (m: SearchMessage) => Maybe<boolean> {
  const e = compile(key, ctx);
  const headerOnly = !usesKey(key, BODY_KEYS); // no BODY or TEXT: the header is enough
  const fieldsOnly = headerOnly && onlyIndexedFields(key); // FROM, SUBJECT, SENTSINCE …: the indexed field lines are enough
  return (m) => {
    let loaded: Maybe<Loaded> | undefined;
    const load = (): Maybe<Loaded> => {
      if (loaded) return loaded;
      const fields = fieldsOnly ? m.loadFields?.() : undefined;
      if (fields) return (loaded = new Loaded(fields));
      return (loaded = (headerOnly && m.loadHeader ? m.loadHeader() : m.load()).then((b) => (loaded = new Loaded(b))));
    };
    return e(m, load);
  };
}

