/**
 * Crash safety for in-place rewrites (beyond UW): before bytes of a mailbox
 * are overwritten, the region [start, end of file) is copied to a journal
 * file next to the mailbox and fsync'd; the rewrite reads its input from the
 * journal, so no byte is ever read after being overwritten. If the process
 * dies half-way, the next open finds the journal and rolls the mailbox back
 * to exactly its previous content. An append journals only the old size, so
 * a half-written message is cut off again.
 */
import { openSync, closeSync, readSync, writeSync, fsyncSync, renameSync, unlinkSync, existsSync, ftruncateSync, fstatSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

const MAGIC = 'UWJOURNAL1';
const HEADER = 64;

export function journalPath(mailbox: string): string {
  return join(dirname(mailbox), `.${basename(mailbox)}.uwjournal`);
}

/**
 * Where journals go when the mailbox's directory is not writable for us (a
 * spool that is 0775 root:mail, with mlock making the dot-locks): a
 * directory of the user's own, set once per process by the store (the home
 * directory or a virtual user's mail root).
 */
let fallbackDir: string | undefined;
export function setJournalFallback(dir: string | undefined): void {
  fallbackDir = dir;
}
function fallbackPath(fd: number): string | undefined {
  if (!fallbackDir) return undefined;
  const st = fstatSync(fd);
  return join(fallbackDir, `.${st.dev.toString(16)}-${st.ino.toString(16)}.uwjournal`);
}
const denied = (e: unknown) => ['EACCES', 'EPERM', 'EROFS'].includes((e as NodeJS.ErrnoException).code ?? '');

function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

export interface Journal {
  /** fd open on the journal; region bytes start at offset HEADER. */
  fd: number;
  start: number;
  oldSize: number;
  /** Read region bytes (offsets relative to the mailbox file). */
  read(buf: Buffer, off: number, len: number, pos: number): number;
  /** The rewrite finished and was fsync'd: remove the journal. */
  commit(): void;
}

/** Save [start, oldSize) of the mailbox `fd` into a journal. */
export function beginJournal(mailbox: string, fd: number, start: number, oldSize: number): Journal {
  let path = journalPath(mailbox);
  let tmp = `${path}.tmp`;
  let jfd: number;
  try {
    jfd = openSync(tmp, 'w+', 0o600);
  } catch (e) {
    const alt = denied(e) ? fallbackPath(fd) : undefined;
    if (!alt) throw e;
    path = alt;
    tmp = `${path}.tmp`;
    jfd = openSync(tmp, 'w+', 0o600);
  }
  try {
    const header = Buffer.alloc(HEADER, 0x20);
    header.write(`${MAGIC} ${start} ${oldSize}\n`, 'latin1');
    writeSync(jfd, header, 0, HEADER, 0);
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = start;
    let out = HEADER;
    while (pos < oldSize) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, oldSize - pos), pos);
      if (n <= 0) throw new Error('short read while journalling');
      writeSync(jfd, buf, 0, n, out);
      pos += n;
      out += n;
    }
    fsyncSync(jfd);
    renameSync(tmp, path);
    fsyncDir(path);
  } catch (e) {
    closeSync(jfd);
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  return {
    fd: jfd,
    start,
    oldSize,
    read: (b, off, len, pos) => readSync(jfd, b, off, len, HEADER + (pos - start)),
    commit() {
      closeSync(jfd);
      unlinkSync(path);
    },
  };
}

/**
 * If a journal exists for `mailbox`, roll the mailbox back (needs `fd` open
 * for writing). Returns true when a rollback happened.
 */
export function recoverJournal(mailbox: string, fd: number): boolean {
  let rolled = recoverFrom(journalPath(mailbox), fd);
  const alt = fallbackPath(fd);
  if (alt && recoverFrom(alt, fd)) rolled = true;
  return rolled;
}

function recoverFrom(path: string, fd: number): boolean {
  try {
    unlinkSync(`${path}.tmp`); // an unfinished journal: the mailbox was not touched yet
  } catch {
    /* none */
  }
  if (!existsSync(path)) return false;
  const jfd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(HEADER);
    readSync(jfd, header, 0, HEADER, 0);
    const m = new RegExp(`^${MAGIC} (\\d+) (\\d+)\\n`).exec(header.toString('latin1'));
    const jsize = fstatSync(jfd).size;
    if (!m) throw new Error(`damaged journal ${path}`);
    const start = Number(m[1]);
    const oldSize = Number(m[2]);
    if (jsize - HEADER !== oldSize - start) throw new Error(`incomplete journal ${path}`);
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = start;
    while (pos < oldSize) {
      const n = readSync(jfd, buf, 0, Math.min(buf.length, oldSize - pos), HEADER + (pos - start));
      if (n <= 0) break;
      writeSync(fd, buf, 0, n, pos);
      pos += n;
    }
    ftruncateSync(fd, oldSize);
    fsyncSync(fd);
  } finally {
    closeSync(jfd);
  }
  unlinkSync(path);
  fsyncDir(path);
  return true;
}
