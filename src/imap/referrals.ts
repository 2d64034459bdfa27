/**
 * Referrals (RFC 2221 LOGIN-REFERRALS, RFC 2193 MAILBOX-REFERRALS), which UW
 * advertises: an administrator who moved some users or some mailboxes to
 * another server lists them, and clients are sent there.
 *
 *   login-referrals file:    <user> <imap URL>            e.g.  alice imap://alice@mail2.example.com/
 *   mailbox-referrals file:  <name prefix> <imap URL prefix>  e.g.  archive/ imap://archive.example.com/archive/
 *
 * Lines starting with # and empty lines are ignored. Files are reread when
 * they change.
 */
import { readFileSync, statSync } from 'node:fs';

interface Table {
  mtimeMs: number;
  entries: Array<[string, string]>;
}
const cache = new Map<string, Table>();

function table(path: string): Array<[string, string]> {
  if (!path) return [];
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false }); // checked at every command that names a mailbox: no exception when absent
  } catch {
    return [];
  }
  if (!st) return [];
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.entries;
  const entries: Array<[string, string]> = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(imap:\/\/\S+)$/i.exec(line);
    if (m) entries.push([m[1], m[2]]);
  }
  cache.set(path, { mtimeMs: st.mtimeMs, entries });
  return entries;
}

/** The server a user's mail has moved to, if any. */
export function loginReferral(path: string, user: string): string | undefined {
  return table(path).find(([u]) => u === user)?.[1];
}

/** IMAP URL (RFC 5092) for a mailbox name that lives on another server, if any. */
export function mailboxReferral(path: string, name: string): string | undefined {
  let best: [string, string] | undefined;
  for (const e of table(path)) if (name.startsWith(e[0]) && (!best || e[0].length > best[0].length)) best = e;
  if (!best) return undefined;
  const rest = name.slice(best[0].length);
  return best[1] + rest.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) => [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''));
}
