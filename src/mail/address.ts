/**
 * RFC 5322 address lists for ENVELOPE: mailboxes, groups, quoted local
 * parts, source routes, comments; encoded words left encoded. Tolerant of the
 * usual junk, never throws.
 */
import type { ImapValue } from './types.js';

type Tok = { t: 'atom' | 'qs' | 'special' | 'comment' | 'domlit'; v: string };

// Characters that end an atom: white space, '"', '(', '<', '>', '@', ',', ';', ':', '[', ']' (and '.', handled apart).
const STOP = new Uint8Array(128);
for (const c of ' \t\r\n"(<>@,;:[]') STOP[c.charCodeAt(0)] = 1;
const stops = (c: number): boolean => c < 128 && STOP[c] === 1;

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      i++;
    } else if (c === 0x22) {
      // Quoted string: sliced whole unless it holds a backslash.
      i++;
      let j = i;
      while (j < n && s.charCodeAt(j) !== 0x22 && s.charCodeAt(j) !== 0x5c) j++;
      let v = s.slice(i, j);
      i = j;
      while (i < n && s.charCodeAt(i) !== 0x22) {
        if (s.charCodeAt(i) === 0x5c && i + 1 < n) i++;
        v += s[i++];
      }
      i++;
      out.push({ t: 'qs', v });
    } else if (c === 0x28) {
      let depth = 0;
      let v = '';
      while (i < n) {
        const d = s[i];
        if (d === '\\' && i + 1 < n) {
          v += s[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') {
          depth++;
          if (depth > 1) v += d;
        } else if (d === ')') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
          v += d;
        } else v += d;
        i++;
      }
      out.push({ t: 'comment', v });
    } else if (c === 0x5b) {
      const j = s.indexOf(']', i);
      const e = j < 0 ? n : j + 1;
      out.push({ t: 'domlit', v: s.slice(i, e) });
      i = e;
    } else if (c === 0x3c || c === 0x3e || c === 0x40 || c === 0x2c || c === 0x3b || c === 0x3a || c === 0x2e) {
      out.push({ t: 'special', v: s[i] });
      i++;
    } else {
      // An atom; dots directly between atom characters stay in it (dot-atom).
      const from = i;
      for (;;) {
        while (i < n && !stops(s.charCodeAt(i)) && s.charCodeAt(i) !== 0x2e) i++;
        if (i + 1 < n && s.charCodeAt(i) === 0x2e && !stops(s.charCodeAt(i + 1))) i++;
        else break;
      }
      if (i > from) out.push({ t: 'atom', v: s.slice(from, i) });
      else i++;
    }
  }
  return out;
}

export interface Address {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

/** Parse an address-list header value into IMAP address structures (groups as start/end markers). */
export function parseAddressList(value: string, defaultHost = 'MISSING_DOMAIN'): Address[] {
  const toks = tokenize(value);
  const out: Address[] = [];
  let i = 0;
  const phraseUntil = (stop: (t: Tok) => boolean): { words: string[]; comments: string[] } => {
    const words: string[] = [];
    const comments: string[] = [];
    while (i < toks.length && !stop(toks[i])) {
      const t = toks[i++];
      if (t.t === 'comment') comments.push(t.v);
      else if (t.t === 'special' && t.v === '.') words.push('.');
      else words.push(t.v);
    }
    return { words, comments };
  };
  const addrSpec = (tokens: Tok[]): { mailbox: string | null; host: string | null; adl: string | null; comments: string[] } => {
    let adl: string | null = null;
    const comments = tokens.filter((t) => t.t === 'comment').map((t) => t.v);
    const ts = tokens.filter((t) => t.t !== 'comment');
    // Source route: @a,@b:
    let k = 0;
    if (ts[0]?.t === 'special' && ts[0].v === '@') {
      const colon = ts.findIndex((t) => t.t === 'special' && t.v === ':');
      if (colon > 0) {
        adl = ts
          .slice(0, colon)
          .map((t) => t.v)
          .join('');
        k = colon + 1;
      }
    }
    const at = ts.findIndex((t, idx) => idx >= k && t.t === 'special' && t.v === '@');
    const local = ts.slice(k, at < 0 ? undefined : at);
    // The local part unquoted, as c-client's rfc822_cpy() and Dovecot give it.
    const mailbox = local.length ? local.map((t) => t.v).join('') : null;
    const host = at < 0 ? null : ts.slice(at + 1).map((t) => t.v).join('') || null;
    return { mailbox, host, adl, comments };
  };
  while (i < toks.length) {
    const t = toks[i];
    if (t.t === 'special' && t.v === ',') {
      i++;
      continue;
    }
    // Look ahead: group "phrase :", angle "phrase <", or bare addr-spec.
    let j = i;
    let kind: 'group' | 'angle' | 'plain' = 'plain';
    while (j < toks.length) {
      const u = toks[j];
      if (u.t === 'special' && u.v === ',') break;
      if (u.t === 'special' && u.v === '<') {
        kind = 'angle';
        break;
      }
      if (u.t === 'special' && u.v === ':' && !(toks[i]?.t === 'special' && toks[i].v === '@')) {
        kind = 'group';
        break;
      }
      if (u.t === 'special' && u.v === '@') {
        // addr-spec; keep scanning for a '<' only (a display name never contains '@' unquoted)
      }
      j++;
    }
    if (kind === 'group') {
      const { words } = phraseUntil((x) => x.t === 'special' && x.v === ':');
      i++; // ':'
      out.push({ name: null, adl: null, mailbox: words.join(' ') || '', host: null });
      // members until ';'
      const memberStart = i;
      let depthEnd = toks.findIndex((x, idx) => idx >= memberStart && x.t === 'special' && x.v === ';');
      if (depthEnd < 0) depthEnd = toks.length;
      const inner = toks.slice(memberStart, depthEnd);
      const members = parseAddressList(inner.map(tokText).join(' '), defaultHost);
      out.push(...members);
      out.push({ name: null, adl: null, mailbox: null, host: null });
      i = depthEnd + 1;
      continue;
    }
    if (kind === 'angle') {
      const { words, comments } = phraseUntil((x) => x.t === 'special' && x.v === '<');
      i++; // '<'
      const specToks: Tok[] = [];
      while (i < toks.length && !(toks[i].t === 'special' && toks[i].v === '>')) specToks.push(toks[i++]);
      i++; // '>'
      // trailing comments
      while (i < toks.length && toks[i].t === 'comment') i++;
      const spec = addrSpec(specToks);
      const name = words.length ? joinPhrase(words) : comments.length ? comments[0] : null;
      // Never four NILs outside a group: clients read that as the end of a group.
      if (!spec.mailbox && !spec.host) out.push({ name, adl: spec.adl, mailbox: 'MISSING_MAILBOX', host: defaultHost });
      else out.push({ name, adl: spec.adl, mailbox: spec.mailbox, host: spec.host ?? (spec.mailbox ? defaultHost : null) });
      continue;
    }
    // plain addr-spec with optional comment as the name
    const specToks: Tok[] = [];
    while (i < toks.length && !(toks[i].t === 'special' && toks[i].v === ',')) specToks.push(toks[i++]);
    const spec = addrSpec(specToks);
    if (!spec.mailbox && !spec.host) continue;
    out.push({ name: spec.comments.length ? spec.comments[spec.comments.length - 1] : null, adl: spec.adl, mailbox: spec.mailbox, host: spec.host ?? defaultHost });
  }
  return out;
}

function tokText(t: Tok): string {
  if (t.t === 'qs') return `"${t.v.replace(/(["\\])/g, '\\$1')}"`;
  if (t.t === 'comment') return `(${t.v})`;
  return t.v;
}

function joinPhrase(words: string[]): string {
  let s = '';
  for (const w of words) {
    if (w === '.') s += '.';
    else s += (s && !s.endsWith('.') ? ' ' : '') + w;
  }
  return s;
}

export function addressesToImap(list: Address[]): ImapValue {
  if (!list.length) return null;
  return list.map((a) => [a.name, a.adl, a.mailbox, a.host]);
}
