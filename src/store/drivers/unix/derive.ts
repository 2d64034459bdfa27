/**
 * What opening a traditional mailbox makes of the values stored in it: the
 * mailbox data (X-IMAP / X-IMAPbase), each message's UID (its X-UID while
 * they ascend) and its flag bits and keyword mask (Status, X-Status,
 * X-Keywords). Pure functions of the scanned table: the same file gives the
 * same columns, which is what lets the scan cache keep them (cache.ts) so
 * that a later open of the unchanged file skips this pass.
 */
import { MAX_KEYWORDS } from '../flagbits.js';
import { type MessageTable, SEEN, DELETED, FLAGGED, ANSWERED, DRAFT, OLD, RECENT, MAX_UID } from './table.js';
import type { ScannedMessage } from './scan.js';

export interface StoredMeta {
  uidValidity: number;
  uidLast: number;
  keywords: string[];
}

/** An X-IMAP / X-IMAPbase value: UIDVALIDITY, UIDLAST and the keywords; undefined when it is not one. */
export function parseImapHeader(v: string | undefined): StoredMeta | undefined {
  if (!v) return undefined;
  const parts = v.trim().split(/\s+/);
  const uv = Number(parts[0]);
  const ul = Number(parts[1]);
  if (!Number.isInteger(uv) || uv <= 0 || !Number.isInteger(ul) || ul < 0) return undefined;
  return { uidValidity: uv, uidLast: ul, keywords: parts.slice(2).filter(Boolean).slice(0, MAX_KEYWORDS) };
}

/** The mailbox data a scan found: in the pseudo-message, else in the first message's X-IMAPbase. */
export function storedMeta(t: MessageTable, pseudo: ScannedMessage | undefined): StoredMeta | undefined {
  return pseudo ? parseImapHeader(pseudo.ximap) : t.length ? parseImapHeader(t.headImapBase) : undefined;
}

/** Flag bits (sys, without RECENT) and keyword mask from stored Status, X-Status and X-Keywords values. */
export function bitsFromStatus(status: string | undefined, xstatus: string | undefined, xkeywords: string | undefined, keywordList: string[]): { sys: number; kw: number } {
  const letters = (status ?? '') + (xstatus ?? '');
  let sys = 0;
  if (letters.includes('R')) sys |= SEEN;
  if (letters.includes('D')) sys |= DELETED;
  if (letters.includes('F')) sys |= FLAGGED;
  if (letters.includes('A')) sys |= ANSWERED;
  if (letters.includes('T')) sys |= DRAFT;
  if (letters.includes('O')) sys |= OLD;
  let kw = 0;
  if (xkeywords)
    for (const k of xkeywords.split(/\s+/)) {
      const i = k ? keywordList.indexOf(k) : -1;
      if (i >= 0) kw |= 1 << i;
    }
  return { sys, kw: kw >>> 0 };
}

/** Why the rows cannot keep their X-UIDs: out of order, or beyond 32 bits. */
export type Renumber = { order: true; row: number; uid: number; prev: number } | { order: false };

/**
 * Each row's UID into `out`: its X-UID (when `fromX`) while they ascend, the
 * next one above `uidLast` for a row without. The new UIDLAST, or why the
 * mailbox must be numbered afresh.
 */
export function assignUids(xuid: Uint32Array, n: number, fromX: boolean, uidLast: number, out: Uint32Array): { uidLast: number } | { renumber: Renumber } {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    let uid = fromX ? xuid[i] : 0;
    if (uid && uid <= prev) return { renumber: { order: true, row: i, uid, prev } };
    if (!uid) uid = ++uidLast;
    else if (uid > uidLast) uidLast = uid;
    // UIDs are 32-bit numbers: when they run out, a new UIDVALIDITY starts again at 1.
    if (uid > MAX_UID) return { renumber: { order: false } };
    prev = uid;
    out[i] = uid;
  }
  return { uidLast };
}

/**
 * Each row's flag bits into `sys` (\Recent where the stored status has no
 * O: nobody has seen the message yet) and keyword mask over `keywords` into
 * `kw`. The stored values are few distinct ones, and neighbours mostly share
 * them: each is worked out once.
 */
export function deriveFlags(t: MessageTable, keywords: string[], sys: Uint8Array, kw: Uint32Array): void {
  const n = t.length;
  const bits = new Map<string, { sys: number; kw: number }>();
  let b = { sys: 0, kw: 0 };
  let ls = -1;
  let lx = -1;
  let lk = -1;
  for (let i = 0; i < n; i++) {
    const s = t.status[i];
    const x = t.xstatus[i];
    const k = t.xkeywords[i];
    if (s !== ls || x !== lx || k !== lk) {
      const key = `${s} ${x} ${k}`;
      let found = bits.get(key);
      if (!found) {
        found = bitsFromStatus(t.str(s), t.str(x), t.str(k), keywords);
        found.sys |= found.sys & OLD ? 0 : RECENT;
        bits.set(key, found);
      }
      b = found;
      ls = s;
      lx = x;
      lk = k;
    }
    sys[i] = b.sys;
    kw[i] = b.kw;
  }
}

/**
 * Whether some row still has to be written by a read-write open: its UID
 * is not the X-UID in the file, or (with `claim`) it has no O yet.
 */
export function rowsToWrite(xuid: Uint32Array, uid: Uint32Array, sys: Uint8Array, n: number, claim: boolean): boolean {
  for (let i = 0; i < n; i++) if ((claim && !(sys[i] & OLD)) || xuid[i] !== uid[i]) return true;
  return false;
}

/** What a first open derives, as the scan cache keeps it (deriveForCache). */
export interface Derived {
  uid: Uint32Array;
  sys: Uint8Array;
  kw: Uint32Array;
  uidLast: number;
  /** Every message has O and its X-UID is its UID. */
  clean: boolean;
}
/**
 * What a first open of the file the table describes derives, for the scan
 * cache to keep: the UID, flag and keyword columns, UIDLAST, and whether
 * every message is already old and has its UID in the file (an open then
 * has nothing to write). Undefined when an open would take a new
 * UIDVALIDITY from the clock (no mailbox data, or UIDs to renumber): that
 * is not the same twice.
 */
export function deriveForCache(t: MessageTable, pseudo: ScannedMessage | undefined): Derived | undefined {
  const meta = storedMeta(t, pseudo);
  if (!meta) return undefined;
  const n = t.length;
  const uid = new Uint32Array(n);
  const r = assignUids(t.xuid, n, true, meta.uidLast, uid);
  if (!('uidLast' in r)) return undefined;
  const sys = new Uint8Array(n);
  const kw = new Uint32Array(n);
  deriveFlags(t, meta.keywords, sys, kw);
  return { uid, sys, kw, uidLast: r.uidLast, clean: !rowsToWrite(t.xuid, uid, sys, n, true) };
}
