/**
 * POP3 policies of RFC 2449 that a server may enforce (beyond UW, which only
 * advertises LOGIN-DELAY 180): the minimum time between two logins of a
 * user, and EXPIRE — deletion of messages some days after they were
 * retrieved. Both keep their state in the user's own cache directory
 * (`<mail root>/.uwimap-cache`), written after the privilege drop.
 */
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync, renameSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { USER_CACHE_DIR } from '../store/user-dirs.js';


/** Seconds to wait before a login is allowed again (0 = allowed now); records this login when allowed. */
export function loginDelayLeft(root: string, delaySec: number, now = Date.now()): number {
  const dir = join(root, USER_CACHE_DIR);
  const stamp = join(dir, 'pop3-last-login');
  try {
    const last = statSync(stamp).mtimeMs;
    const left = Math.ceil((last + delaySec * 1000 - now) / 1000);
    if (left > 0) return left;
  } catch {
    /* first login */
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(stamp, 'a', 0o600));
    utimesSync(stamp, now / 1000, now / 1000);
  } catch {
    /* cannot record: do not lock the user out */
  }
  return 0;
}

/** Parse the pop3-expire setting: undefined (off), 'NEVER', or days. */
export function expirePolicy(v: string): undefined | 'NEVER' | number {
  const t = v.trim().toUpperCase();
  if (!t) return undefined;
  if (t === 'NEVER') return 'NEVER';
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/**
 * EXPIRE N (N > 0): remember when each message was first retrieved, and
 * return the UIDs (of `present`) retrieved more than N days ago. The record
 * file keeps only messages that still exist.
 */
export function expireDue(root: string, uidValidity: number, present: number[], retrievedNow: number[], days: number, now = Date.now()): number[] {
  const file = join(root, USER_CACHE_DIR, 'pop3-retrieved');
  const seen = new Map<number, number>();
  try {
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      const [v, u, t] = line.split(' ').map(Number);
      if (v === uidValidity && u && t) seen.set(u, t);
    }
  } catch {
    /* none yet */
  }
  const alive = new Set(present);
  for (const u of retrievedNow) if (!seen.has(u)) seen.set(u, Math.floor(now / 1000));
  const due: number[] = [];
  const keep: string[] = [];
  for (const [u, t] of seen) {
    if (!alive.has(u)) continue;
    if (now / 1000 - t >= days * 86400) due.push(u);
    else keep.push(`${uidValidity} ${u} ${t}`);
  }
  try {
    mkdirSync(join(root, USER_CACHE_DIR), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, keep.map((l) => l + '\n').join(''), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch {
    /* best effort */
  }
  return due.sort((a, b) => a - b);
}
