/**
 * Persistent scan cache (beyond UW): every IMAP or POP3 connection is a new
 * process, and scanning a large mbox is most of the cost of opening it. The
 * result of a scan is kept in the user's own cache directory, keyed by the
 * file's device, inode, size, mtime and ctime (ctime changes with every
 * write and cannot be set back), and used instead of a scan while all of
 * them are unchanged. A stale or damaged entry is simply ignored.
 */
import { openSync, closeSync, readFileSync, writeSync, renameSync, mkdirSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { ScannedMessage } from './scan.js';

const VERSION = 2; // 2: dates as ISO text
let cacheDir: string | undefined;

/** Where scan caches live (the store sets `<mail root>/.uwimap-cache`); undefined turns the cache off. */
export function setScanCacheDir(dir: string | undefined): void {
  cacheDir = dir;
}

export interface FileKey {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const fileFor = (k: FileKey) => (cacheDir ? join(cacheDir, `${k.dev.toString(16)}-${k.ino.toString(16)}.scan`) : undefined);
const keyText = (k: FileKey) => `${VERSION} ${k.dev} ${k.ino} ${k.size} ${k.mtimeNs} ${k.ctimeNs}`;

/** The cached scan of a file in exactly this state, or undefined. */
export function loadScan(k: FileKey): ScannedMessage[] | undefined {
  const f = fileFor(k);
  if (!f) return undefined;
  let text: string;
  try {
    text = readFileSync(f, 'latin1');
  } catch {
    return undefined;
  }
  const nl = text.indexOf('\n');
  if (nl < 0 || text.slice(0, nl) !== keyText(k)) return undefined;
  try {
    const recs = JSON.parse(text.slice(nl + 1)) as Array<Omit<ScannedMessage, 'date'> & { date: string | Date | null }>;
    // Dates are kept as ISO text; turned back in place (no copy of each record).
    for (const r of recs) if (r.date !== null) r.date = new Date(r.date as string);
    return recs as ScannedMessage[];
  } catch {
    return undefined;
  }
}

/** Keep the scan of a file in this state (written to a temporary name, then renamed). */
export function saveScan(k: FileKey, recs: readonly ScannedMessage[]): void {
  const f = fileFor(k);
  if (!f || !cacheDir) return;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    // Dates go as their ISO text (Date's own toJSON): a replacer function or a copy of each record costs far more.
    const body = JSON.stringify(recs);
    const tmp = `${f}.${process.pid}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, `${keyText(k)}\n`, null, 'latin1');
      writeSync(fd, body, null, 'latin1');
      // No fsync: a cache entry torn by a crash fails to parse and is ignored.
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, f);
  } catch {
    /* a cache that cannot be written is no cache */
  }
}
