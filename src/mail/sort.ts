/**
 * SORT and THREAD (RFC 5256): base-subject extraction, sort keys, and the
 * ORDEREDSUBJECT and REFERENCES threading algorithms.
 */
import type { SortCriterion, ThreadNode } from './types.js';
import { parseHeaderFields, fieldValue } from './header.js';
import { parseAddressList } from './address.js';
import { decodeMimeWords, parseRfc5322Date } from './text.js';

export interface SortInput {
  id: number;
  header: Buffer;
  internalDate: Date;
  size: number;
  seq: number;
}

/** RFC 5256 §2.1 base subject. */
export function baseSubject(subject: string): string {
  let s = decodeMimeWords(subject).replace(/\t/g, ' ').replace(/ {2,}/g, ' ').trim();
  for (;;) {
    const before = s;
    // (2) trailing "(fwd)" and whitespace
    for (;;) {
      const t = s.replace(/\s*\(fwd\)\s*$/i, '').replace(/\s+$/, '');
      if (t === s) break;
      s = t;
    }
    // (3)-(5) leading subj-refwd / subj-blob
    for (;;) {
      let t = s.replace(/^\s+/, '');
      t = t.replace(/^((re|fwd?)\s*(\[[^[\]]*\]\s*)*:\s*)/i, '');
      const blob = /^\[[^[\]]*\]\s*/.exec(t);
      if (blob && t.slice(blob[0].length).length > 0 && t === s.replace(/^\s+/, '')) t = t.slice(blob[0].length);
      if (t === s) break;
      s = t;
    }
    // (6) [fwd: ... ]
    const m = /^\[fwd:\s*(.*)\]$/i.exec(s);
    if (m) s = m[1];
    if (s === before) break;
  }
  return s.trim().toUpperCase();
}

function fieldsOf(header: Buffer) {
  return parseHeaderFields(header, 0, header.length);
}
function first(header: Buffer, name: string): string | undefined {
  const f = fieldsOf(header).find((x) => x.name === name);
  return f ? fieldValue(header, f) : undefined;
}
function firstMailbox(header: Buffer, name: string, display = false): string {
  const v = first(header, name);
  if (!v) return '';
  const a = parseAddressList(v).find((x) => x.mailbox !== null && x.host !== null);
  if (!a) return '';
  if (display && a.name) return decodeMimeWords(a.name).toUpperCase();
  return (a.mailbox ?? '').toUpperCase();
}
function sentDate(m: SortInput): number {
  const v = first(m.header, 'date');
  const p = v ? parseRfc5322Date(v) : null;
  return p ? p.date.getTime() : m.internalDate.getTime();
}

export function sortMessages(criteria: SortCriterion[], msgs: SortInput[]): number[] {
  const keyed = msgs.map((m) => {
    const keys = criteria.map((c) => {
      switch (c.key) {
        case 'ARRIVAL':
          return m.internalDate.getTime();
        case 'DATE':
          return sentDate(m);
        case 'SIZE':
          return m.size;
        case 'SUBJECT':
          return baseSubject(first(m.header, 'subject') ?? '');
        case 'FROM':
          return firstMailbox(m.header, 'from');
        case 'TO':
          return firstMailbox(m.header, 'to');
        case 'CC':
          return firstMailbox(m.header, 'cc');
        case 'DISPLAY':
          return firstMailbox(m.header, 'from', true);
      }
    });
    return { m, keys };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < criteria.length; i++) {
      const x = a.keys[i];
      const y = b.keys[i];
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c) return criteria[i].reverse ? -c : c;
    }
    return a.m.seq - b.m.seq;
  });
  return keyed.map((k) => k.m.id);
}

/** THREAD=ORDEREDSUBJECT: group by base subject, threads ordered by their first message's date. */
function orderedSubject(msgs: SortInput[]): ThreadNode[] {
  const sorted = [...msgs].sort((a, b) => {
    const sa = baseSubject(first(a.header, 'subject') ?? '');
    const sb = baseSubject(first(b.header, 'subject') ?? '');
    if (sa !== sb) return sa < sb ? -1 : 1;
    return sentDate(a) - sentDate(b) || a.seq - b.seq;
  });
  const groups: SortInput[][] = [];
  let cur: SortInput[] = [];
  let subj: string | undefined;
  for (const m of sorted) {
    const s = baseSubject(first(m.header, 'subject') ?? '');
    if (s !== subj) {
      if (cur.length) groups.push(cur);
      cur = [];
      subj = s;
    }
    cur.push(m);
  }
  if (cur.length) groups.push(cur);
  groups.sort((a, b) => sentDate(a[0]) - sentDate(b[0]) || a[0].seq - b[0].seq);
  return groups.map((g) => {
    // The first message is the parent; the others are its children, in order.
    return { id: g[0].id, children: g.slice(1).map((m) => ({ id: m.id, children: [] })) };
  });
}

interface Container {
  id: number | null;
  msg?: SortInput;
  parent?: Container;
  children: Container[];
}

function msgIds(v: string | undefined): string[] {
  if (!v) return [];
  return v.match(/<[^<>\s]+>/g) ?? [];
}

/** THREAD=REFERENCES (RFC 5256 §3, after JWZ). */
function references(msgs: SortInput[]): ThreadNode[] {
  const table = new Map<string, Container>();
  const get = (id: string) => {
    let c = table.get(id);
    if (!c) table.set(id, (c = { id: null, children: [] }));
    return c;
  };
  const isAncestor = (a: Container, b: Container) => {
    for (let p: Container | undefined = b; p; p = p.parent) if (p === a) return true;
    return false;
  };
  const link = (parent: Container, child: Container) => {
    if (child.parent || parent === child || isAncestor(child, parent)) return;
    child.parent = parent;
    parent.children.push(child);
  };
  let anon = 0;
  for (const m of msgs) {
    let mid = msgIds(first(m.header, 'message-id'))[0];
    if (!mid || (table.get(mid)?.msg)) mid = `<anon-${anon++}@thread>`;
    const c = get(mid);
    c.msg = m;
    c.id = m.id;
    let refs = msgIds(first(m.header, 'references'));
    if (!refs.length) refs = msgIds(first(m.header, 'in-reply-to')).slice(0, 1);
    let prev: Container | undefined;
    for (const r of refs) {
      const rc = get(r);
      if (prev) link(prev, rc);
      prev = rc;
    }
    if (prev && prev !== c) {
      if (c.parent) {
        c.parent.children = c.parent.children.filter((x) => x !== c);
        c.parent = undefined;
      }
      if (!isAncestor(c, prev)) link(prev, c);
    }
  }
  let roots = [...table.values()].filter((c) => !c.parent);
  // Prune dummies.
  const prune = (list: Container[], isRoot: boolean): Container[] => {
    const out: Container[] = [];
    for (const c of list) {
      c.children = prune(c.children, false);
      if (!c.msg) {
        if (c.children.length === 0) continue;
        if (!isRoot || c.children.length === 1) {
          for (const k of c.children) k.parent = c.parent;
          out.push(...c.children);
          continue;
        }
      }
      out.push(c);
    }
    return out;
  };
  roots = prune(roots, true);
  const date = (c: Container): number => (c.msg ? sentDate(c.msg) : Math.min(...c.children.map(date)));
  const seq = (c: Container): number => (c.msg ? c.msg.seq : Math.min(...c.children.map(seq)));
  // Group roots by base subject.
  const bySubject = new Map<string, Container>();
  const subjOf = (c: Container) => {
    const m = c.msg ?? c.children[0]?.msg;
    return m ? baseSubject(first(m.header, 'subject') ?? '') : '';
  };
  const isReply = (c: Container) => {
    const s = c.msg ? first(c.msg.header, 'subject') ?? '' : '';
    return /^\s*(re|fwd?)\s*:/i.test(s);
  };
  const merged: Container[] = [];
  for (const c of roots) {
    const s = subjOf(c);
    if (!s) {
      merged.push(c);
      continue;
    }
    const other = bySubject.get(s);
    if (!other) {
      bySubject.set(s, c);
      merged.push(c);
      continue;
    }
    if (!other.msg && !c.msg) {
      other.children.push(...c.children);
    } else if (!other.msg) {
      other.children.push(c);
    } else if (isReply(c) && !isReply(other)) {
      other.children.push(c);
    } else {
      const dummy: Container = { id: null, children: [other, c] };
      merged[merged.indexOf(other)] = dummy;
      bySubject.set(s, dummy);
    }
  }
  const sortTree = (list: Container[]): ThreadNode[] =>
    list
      .sort((a, b) => date(a) - date(b) || seq(a) - seq(b))
      .map((c) => ({ id: c.msg ? c.msg.id : null, children: sortTree(c.children) }));
  return sortTree(merged);
}

export function threadMessages(algorithm: 'ORDEREDSUBJECT' | 'REFERENCES', msgs: SortInput[]): ThreadNode[] {
  return algorithm === 'ORDEREDSUBJECT' ? orderedSubject(msgs) : references(msgs);
}
