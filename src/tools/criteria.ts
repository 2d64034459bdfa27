/**
 * The search criteria of `mailutil prune`: IMAP2-style SEARCH keys as UW's
 * mail_criteria() accepts them (a flat list, all of which must match), turned
 * into the message engine's SearchKey.
 *
 *   ANSWERED BCC s BEFORE d BODY s CC s DELETED FLAGGED FROM s KEYWORD k NEW
 *   OLD ON d RECENT SEEN SINCE d SUBJECT s TEXT s TO s UNANSWERED UNDELETED
 *   UNFLAGGED UNKEYWORD k UNSEEN   — plus ALL, DRAFT, UNDRAFT, LARGER n,
 *   SMALLER n, SENTBEFORE/SENTON/SENTSINCE d, OLDER/YOUNGER n (beyond UW).
 *
 * Strings are atoms or "quoted strings" (backslash escapes " and \).
 * Dates are dd-Mon-yyyy.
 */
import type { SearchKey } from '../mail/types.js';

export class CriteriaError extends Error {}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new CriteriaError('unterminated quoted string');
        const d = text[i++];
        if (d === '"') break;
        if (d === '\\' && i < text.length) s += text[i++];
        else s += d;
      }
      out.push(s);
      continue;
    }
    let j = i;
    while (j < text.length && text[j] !== ' ' && text[j] !== '\t') j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** "1-Feb-1994" → "1994-02-01"; null when invalid. */
export function criteriaDate(s: string): string | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) return null;
  const mon = MONTHS.indexOf(m[2].toLowerCase());
  const day = Number(m[1]);
  if (mon < 0 || day < 1 || day > 31) return null;
  return `${m[3]}-${String(mon + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const FLAG_KEYS: Record<string, SearchKey> = {
  ALL: { type: 'all' },
  ANSWERED: { type: 'flag', flag: '\\Answered', set: true },
  UNANSWERED: { type: 'flag', flag: '\\Answered', set: false },
  DELETED: { type: 'flag', flag: '\\Deleted', set: true },
  UNDELETED: { type: 'flag', flag: '\\Deleted', set: false },
  FLAGGED: { type: 'flag', flag: '\\Flagged', set: true },
  UNFLAGGED: { type: 'flag', flag: '\\Flagged', set: false },
  SEEN: { type: 'flag', flag: '\\Seen', set: true },
  UNSEEN: { type: 'flag', flag: '\\Seen', set: false },
  DRAFT: { type: 'flag', flag: '\\Draft', set: true },
  UNDRAFT: { type: 'flag', flag: '\\Draft', set: false },
  RECENT: { type: 'flag', flag: '\\Recent', set: true },
  NEW: { type: 'new' },
  OLD: { type: 'old' },
};
const HEADER_KEYS: Record<string, string> = { FROM: 'From', TO: 'To', CC: 'Cc', BCC: 'Bcc', SUBJECT: 'Subject' };

/** Parse criteria text; throws CriteriaError with a reason. */
export function parseCriteria(text: string): SearchKey {
  const toks = tokenize(text);
  if (toks.length === 0) throw new CriteriaError('empty search criteria');
  const keys: SearchKey[] = [];
  let i = 0;
  const arg = (what: string): string => {
    if (i >= toks.length) throw new CriteriaError(`missing ${what} after ${toks[i - 1]}`);
    return toks[i++];
  };
  const date = (): string => {
    const raw = arg('date');
    const d = criteriaDate(raw);
    if (!d) throw new CriteriaError(`bad date: ${raw}`);
    return d;
  };
  const num = (): number => {
    const raw = arg('number');
    if (!/^\d+$/.test(raw)) throw new CriteriaError(`bad number: ${raw}`);
    return Number(raw);
  };
  while (i < toks.length) {
    const k = toks[i++].toUpperCase();
    if (FLAG_KEYS[k]) keys.push(FLAG_KEYS[k]);
    else if (HEADER_KEYS[k]) keys.push({ type: 'header', field: HEADER_KEYS[k], value: arg('string') });
    else if (k === 'BODY') keys.push({ type: 'body', value: arg('string') });
    else if (k === 'TEXT') keys.push({ type: 'text', value: arg('string') });
    else if (k === 'KEYWORD') keys.push({ type: 'keyword', keyword: arg('keyword'), set: true });
    else if (k === 'UNKEYWORD') keys.push({ type: 'keyword', keyword: arg('keyword'), set: false });
    else if (k === 'BEFORE') keys.push({ type: 'internaldate', op: 'before', date: date() });
    else if (k === 'ON') keys.push({ type: 'internaldate', op: 'on', date: date() });
    else if (k === 'SINCE') keys.push({ type: 'internaldate', op: 'since', date: date() });
    else if (k === 'SENTBEFORE') keys.push({ type: 'sentdate', op: 'before', date: date() });
    else if (k === 'SENTON') keys.push({ type: 'sentdate', op: 'on', date: date() });
    else if (k === 'SENTSINCE') keys.push({ type: 'sentdate', op: 'since', date: date() });
    else if (k === 'LARGER') keys.push({ type: 'size', op: 'larger', size: num() });
    else if (k === 'SMALLER') keys.push({ type: 'size', op: 'smaller', size: num() });
    else if (k === 'OLDER') keys.push({ type: 'within', op: 'older', seconds: num() });
    else if (k === 'YOUNGER') keys.push({ type: 'within', op: 'younger', seconds: num() });
    else throw new CriteriaError(`unknown search key: ${toks[i - 1]}`);
  }
  return keys.length === 1 ? keys[0] : { type: 'and', keys };
}
