import { bad, no } from '../session.js';
import type { ImapSession } from '../session.js';
import type { Token } from '../parser.js';
import { astring } from '../parser.js';
import { SELECTED, type Command } from './types.js';
import { compileSearch, isSupportedCharset, supportedCharsets, parseSearchDate } from '../../mail/index.js';
import type { SearchKey, SearchMessage } from '../../mail/types.js';
import type { Mailbox, MessageInfo } from '../../store/types.js';
import { uidSetText } from './append.js';

const FLAGKEYS: Record<string, SearchKey> = {
  ALL: { type: 'all' },
  ANSWERED: { type: 'flag', flag: '\\Answered', set: true },
  UNANSWERED: { type: 'flag', flag: '\\Answered', set: false },
  DELETED: { type: 'flag', flag: '\\Deleted', set: true },
  UNDELETED: { type: 'flag', flag: '\\Deleted', set: false },
  DRAFT: { type: 'flag', flag: '\\Draft', set: true },
  UNDRAFT: { type: 'flag', flag: '\\Draft', set: false },
  FLAGGED: { type: 'flag', flag: '\\Flagged', set: true },
  UNFLAGGED: { type: 'flag', flag: '\\Flagged', set: false },
  SEEN: { type: 'flag', flag: '\\Seen', set: true },
  UNSEEN: { type: 'flag', flag: '\\Seen', set: false },
  RECENT: { type: 'flag', flag: '\\Recent', set: true },
  NEW: { type: 'new' },
  OLD: { type: 'old' },
};
const HEADERS: Record<string, string> = { FROM: 'From', TO: 'To', CC: 'Cc', BCC: 'Bcc', SUBJECT: 'Subject' };

/** Parse SEARCH keys (RFC 3501 §6.4.4 + WITHIN) from tokens. */
export function parseSearchKeys(toks: Token[], charset: string): SearchKey {
  let i = 0;
  const str = (): string => {
    const t = toks[i++];
    if (!t || (t.type !== 'atom' && t.type !== 'string')) throw bad('Missing search string');
    return t.type === 'string' ? (charset.toUpperCase() === 'UTF-8' || charset.toUpperCase() === 'US-ASCII' ? t.value.toString('utf8') : new TextDecoder(charset).decode(t.value)) : t.value;
  };
  const date = (): string => {
    const v = astring(toks[i++]);
    const d = v ? parseSearchDate(v) : null;
    if (!d) throw bad('Invalid date in SEARCH');
    return d;
  };
  const num = (): number => {
    const t = toks[i++];
    if (!t || t.type !== 'atom' || !/^\d+$/.test(t.value)) throw bad('Invalid number in SEARCH');
    return Number(t.value);
  };
  const one = (): SearchKey => {
    const t = toks[i++];
    if (!t) throw bad('Missing search key');
    if (t.type === 'list') {
      const inner = parseSearchKeys(t.items, charset);
      return inner;
    }
    if (t.type !== 'atom') throw bad('Invalid search key');
    const k = t.value.toUpperCase();
    if (FLAGKEYS[k]) return FLAGKEYS[k];
    if (HEADERS[k]) return { type: 'header', field: HEADERS[k], value: str() };
    switch (k) {
      case 'BODY':
        return { type: 'body', value: str() };
      case 'TEXT':
        return { type: 'text', value: str() };
      case 'HEADER': {
        const field = str();
        return { type: 'header', field, value: str() };
      }
      case 'KEYWORD':
        return { type: 'keyword', keyword: str(), set: true };
      case 'UNKEYWORD':
        return { type: 'keyword', keyword: str(), set: false };
      case 'BEFORE':
        return { type: 'internaldate', op: 'before', date: date() };
      case 'ON':
        return { type: 'internaldate', op: 'on', date: date() };
      case 'SINCE':
        return { type: 'internaldate', op: 'since', date: date() };
      case 'SENTBEFORE':
        return { type: 'sentdate', op: 'before', date: date() };
      case 'SENTON':
        return { type: 'sentdate', op: 'on', date: date() };
      case 'SENTSINCE':
        return { type: 'sentdate', op: 'since', date: date() };
      case 'LARGER':
        return { type: 'size', op: 'larger', size: num() };
      case 'SMALLER':
        return { type: 'size', op: 'smaller', size: num() };
      case 'OLDER':
        return { type: 'within', op: 'older', seconds: num() };
      case 'YOUNGER':
        return { type: 'within', op: 'younger', seconds: num() };
      case 'UID': {
        const v = toks[i++];
        if (!v || v.type !== 'atom' || !/^[0-9*:,]+$/.test(v.value)) throw bad('Invalid UID set in SEARCH');
        return { type: 'uidset', set: v.value };
      }
      case 'NOT':
        return { type: 'not', key: one() };
      case 'OR': {
        const a = one();
        return { type: 'or', a, b: one() };
      }
    }
    if (/^[0-9*:,]+$/.test(k)) return { type: 'seqset', set: k };
    throw bad(`Unknown search criterion: ${t.value}`);
  };
  const keys: SearchKey[] = [];
  while (i < toks.length) keys.push(one());
  if (!keys.length) throw bad('Missing search criteria');
  return keys.length === 1 ? keys[0] : { type: 'and', keys };
}

/**
 * A message's flags with \Recent added. Flag sets are shared between
 * messages and never changed (MessageInfo.flags): one copy per set.
 */
const recentSets = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();
function withRecent(flags: ReadonlySet<string>): ReadonlySet<string> {
  let r = recentSets.get(flags);
  if (!r) recentSets.set(flags, (r = new Set([...flags, '\\Recent'])));
  return r;
}

/** The message a search looks at, set to each message of the view in turn. */
class ViewMessage implements SearchMessage {
  seq = 0;
  uid = 0;
  flags: ReadonlySet<string> = new Set();
  size = 0;
  info!: MessageInfo;
  readonly loadFields?: () => Buffer | undefined;
  constructor(private readonly mb: Mailbox) {
    if (mb.readFields) this.loadFields = () => this.mb.readFields!(this.uid);
  }
  /** A Date is made only for the keys that look at it. */
  get internalDate(): Date {
    return this.info.internalDate;
  }
  async load(): Promise<Buffer> {
    return (await this.mb.read(this.uid, { transient: true })) ?? Buffer.alloc(0);
  }
  async loadHeader(): Promise<Buffer> {
    return (await this.mb.readHeader(this.uid, { transient: true })) ?? Buffer.alloc(0);
  }
}

/** Evaluate a search over the view; returns matching UIDs in view order. */
export async function runSearch(s: ImapSession, key: SearchKey, charset: string): Promise<number[]> {
  const mb = s.requireMailbox();
  const view = s.view;
  const maxUid = view.length ? view[view.length - 1] : 0;
  const match = compileSearch(key, { charset, maxSeq: view.length, maxUid, now: new Date() });
  const out: number[] = [];
  const m = new ViewMessage(mb);
  for (let i = 0; i < view.length; i++) {
    const u = view[i];
    const info = mb.get(u);
    if (!info) continue;
    // One object for every message (each is done with before the next is
    // read, and the driver may reuse its buffer): an object and three
    // closures per message were a fifth of a 50,000-message SEARCH FROM.
    m.seq = i + 1;
    m.uid = u;
    m.info = info;
    m.flags = info.recent ? withRecent(info.flags) : info.flags;
    m.size = info.size;
    let ok = match(m);
    if (ok instanceof Promise) ok = await ok;
    if (ok) out.push(u);
  }
  return out;
}

/** CHARSET and RETURN options in front of the keys. */
export function leadingOptions(args: Token[]): { charset: string; ret?: string[]; rest: Token[] } {
  let charset = 'US-ASCII';
  let ret: string[] | undefined;
  let rest = args;
  if (rest[0]?.type === 'atom' && rest[0].value.toUpperCase() === 'RETURN' && rest[1]?.type === 'list') {
    ret = rest[1].items.map((x) => (x.type === 'atom' ? x.value.toUpperCase() : ''));
    if (!ret.length) ret = ['ALL'];
    rest = rest.slice(2);
  }
  if (rest[0]?.type === 'atom' && rest[0].value.toUpperCase() === 'CHARSET') {
    const cs = astring(rest[1]);
    if (!cs) throw bad('Missing charset');
    if (!isSupportedCharset(cs)) throw no(`Unknown charset: ${cs}`, `BADCHARSET (${supportedCharsets().join(' ')})`);
    charset = cs;
    rest = rest.slice(2);
  }
  return { charset, ret, rest };
}

export const search: Command = {
  states: SELECTED,
  expungeOk: false,
  async run(s, tag, args, uid) {
    const { charset, ret, rest } = leadingOptions(args);
    const key = parseSearchKeys(rest, charset);
    const hits = await runSearch(s, key, charset);
    const ids = uid ? hits : hits.map((u) => s.seqOf(u));
    if (ret) {
      // ESEARCH (RFC 4731)
      const parts: string[] = [`(TAG "${tag}")`];
      if (uid) parts.push('UID');
      if (ids.length) {
        if (ret.includes('MIN')) parts.push(`MIN ${Math.min(...ids)}`);
        if (ret.includes('MAX')) parts.push(`MAX ${Math.max(...ids)}`);
        if (ret.includes('ALL')) parts.push(`ALL ${uidSetText([...ids].sort((a, b) => a - b))}`);
      }
      if (ret.includes('COUNT')) parts.push(`COUNT ${ids.length}`);
      await s.untagged(`ESEARCH ${parts.join(' ')}`);
    } else await s.untagged(`SEARCH${ids.map((n) => ' ' + n).join('')}`);
    return undefined;
  },
};
