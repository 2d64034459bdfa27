import { bad } from '../session.js';
import { astring } from '../parser.js';
import { SELECTED, type Command } from './types.js';
import { parseSearchKeys, runSearch } from './search.js';
import { sortMessages, threadMessages, isSupportedCharset, type SortInput } from '../../mail/index.js';
import type { SortCriterion, SortKey, ThreadNode } from '../../mail/types.js';
import type { ImapSession } from '../session.js';
import type { Token } from '../parser.js';

const KEYS = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAY'];

async function inputs(s: ImapSession, uids: number[]): Promise<SortInput[]> {
  const mb = s.requireMailbox();
  const out: SortInput[] = [];
  for (const u of uids) {
    const m = mb.get(u);
    const header = await mb.readHeader(u);
    if (!m || !header) continue;
    out.push({ id: u, header, internalDate: m.internalDate, size: m.size, seq: s.seqOf(u) });
  }
  return out;
}

function charsetAndKeys(args: Token[], cmd: string): { charset: string; rest: Token[] } {
  const cs = astring(args[0]);
  if (!cs) throw bad(`Missing charset in ${cmd}`);
  if (!isSupportedCharset(cs)) throw bad(`Unknown charset: ${cs}`);
  return { charset: cs, rest: args.slice(1) };
}

export const sort: Command = {
  states: SELECTED,
  expungeOk: false,
  async run(s, _tag, args, uid) {
    const crit = args[0];
    if (!crit || crit.type !== 'list' || !crit.items.length) throw bad('Missing sort criteria');
    const criteria: SortCriterion[] = [];
    let reverse = false;
    for (const t of crit.items) {
      const k = t.type === 'atom' ? t.value.toUpperCase() : '';
      if (k === 'REVERSE') {
        reverse = true;
        continue;
      }
      if (!KEYS.includes(k)) throw bad(`Invalid sort criterion: ${k}`);
      criteria.push({ key: k as SortKey, reverse });
      reverse = false;
    }
    const { charset, rest } = charsetAndKeys(args.slice(1), 'SORT');
    const hits = await runSearch(s, parseSearchKeys(rest, charset), charset);
    const sorted = sortMessages(criteria, await inputs(s, hits));
    await s.untagged(`SORT${sorted.map((u) => ' ' + (uid ? u : s.seqOf(u))).join('')}`);
    return undefined;
  },
};

function threadText(nodes: ThreadNode[], map: (id: number) => number): string {
  const one = (n: ThreadNode): string => {
    // A chain of single children is written flat: (1 2 3); branches as nested lists.
    const ids: string[] = [];
    let cur: ThreadNode | undefined = n;
    while (cur) {
      if (cur.id !== null) ids.push(String(map(cur.id)));
      if (cur.children.length === 1) cur = cur.children[0];
      else {
        const kids = cur.children.map(one).join('');
        return `(${ids.join(' ')}${kids ? (ids.length ? ' ' : '') + kids : ''})`;
      }
    }
    return `(${ids.join(' ')})`;
  };
  return nodes.map(one).join('');
}

export const thread: Command = {
  states: SELECTED,
  expungeOk: false,
  async run(s, _tag, args, uid) {
    const alg = astring(args[0])?.toUpperCase();
    if (alg !== 'ORDEREDSUBJECT' && alg !== 'REFERENCES') throw bad(`Unknown threading algorithm: ${alg ?? ''}`);
    const { charset, rest } = charsetAndKeys(args.slice(1), 'THREAD');
    const hits = await runSearch(s, parseSearchKeys(rest, charset), charset);
    const tree = threadMessages(alg, await inputs(s, hits));
    await s.untagged(`THREAD ${threadText(tree, (u) => (uid ? u : s.seqOf(u)))}`.trimEnd());
    return undefined;
  },
};
