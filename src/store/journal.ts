/**
 * Crash safety for in-place rewrites (beyond UW): before bytes of a mailbox
 * are overwritten they are copied to a journal file next to the mailbox and
 * fsync'd; the rewrite reads its input from the journal, so no byte is ever
 * read after being overwritten. The journal saves [start, end): by default
 * to the end of the file; a rewrite that shrinks the file (an expunge) saves
 * only as far as it will write, extends the journal (synced, then its header
 * updated and synced) before writing past that, and marks the journal done
 * with the new size (synced) before cutting the file, whose tail was never
 * saved. If the process dies half-way, the next open finds the journal and
 * rolls the mailbox back to exactly its previous content — or, when the
 * journal is marked done, finishes the cut.
 *
 * Appends keep a small journal of their own at the same place, made once and
 * then reused: before new bytes are written it records the old size, the new
 * size and a SHA-1 of the new bytes (fdatasync'd); afterwards it is marked
 * idle. At the next open an append found whole (size and digest match) is
 * kept, anything less is cut off: new messages are whole or absent, and a
 * message whose append was acknowledged is never cut off, even when the
 * machine lost power before the journal was marked idle. One sync of the
 * journal and one of the mailbox per append; the directory only when the
 * journal is first made.
 */
import { openSync, closeSync, readSync, writeSync, fsyncSync, fdatasyncSync, renameSync, unlinkSync, unlink, existsSync, ftruncateSync, fstatSync, statSync, fchmodSync, fchownSync, constants } from 'node:fs';
import { nodeCrypto } from '../runtime/lazy.js';
import { preadFully } from './io.js';
import { dirname, basename, join } from 'node:path';

const MAGIC = 'UWJOURNAL1';
const HEADER = 64;
const APPEND_MAGIC = 'UWAPPEND1';
const APPEND_HEADER = 128;

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
  /** [start, end) is saved: bytes from `end` on must not be overwritten (extend first). */
  readonly end: number;
  /** Read saved bytes (offsets relative to the mailbox file, below `end`). */
  read(buf: Buffer, off: number, len: number, pos: number): number;
  /** Save the mailbox's bytes up to `to` (at most the old size), synced before it returns. */
  extend(to: number): void;
  /**
   * The new content is written and the mailbox fsync'd: record (synced) that
   * the file is to end at `size`. From here a crash completes the rewrite.
   */
  done(size: number): void;
  /** The rewrite failed before done(): put the saved bytes back and the file at its old size. */
  rollBack(): void;
  /** The rewrite finished and was fsync'd (or was rolled back): remove the journal. */
  commit(): void;
}

function headerText(start: number, oldSize: number, end: number, doneSize?: number): Buffer {
  const header = Buffer.alloc(HEADER, 0x20);
  header.write(`${MAGIC} ${start} ${oldSize} ${doneSize === undefined ? end : `D ${doneSize}`}\n`, 'latin1'); // at most 55 bytes up to 10 TB
  return header;
}

/** Copy `len` bytes from `src` at `srcAt` to `dst` at `dstAt`; the number copied (less only at the end of `src`). */
function copyBytes(src: number, srcAt: number, dst: number, dstAt: number, len: number): number {
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, len)));
  let done = 0;
  while (done < len) {
    const n = readSync(src, buf, 0, Math.min(buf.length, len - done), srcAt + done);
    if (n <= 0) break;
    writeSync(dst, buf, 0, n, dstAt + done);
    done += n;
  }
  return done;
}

/** Copy the mailbox's [from, to) into the journal at its place. */
function save(fd: number, jfd: number, start: number, from: number, to: number): void {
  if (copyBytes(fd, from, jfd, HEADER + (from - start), to - from) < to - from) throw new Error('short read while journalling');
}

/** Roll the mailbox back: the saved [start, end) in place, the file at its old size, synced. */
function restore(jfd: number, fd: number, start: number, end: number, oldSize: number): void {
  copyBytes(jfd, HEADER, fd, start, end - start);
  ftruncateSync(fd, oldSize);
  fsyncSync(fd);
}

/**
 * Open `<journal><suffix>` of the mailbox `fd` with `flags`: beside the
 * mailbox, or in the user's fallback directory when that is not ours to write.
 */
function openJournal(mailbox: string, fd: number, suffix: string, flags: string | number): { path: string; jfd: number } {
  const own = journalPath(mailbox);
  try {
    return { path: own, jfd: openSync(own + suffix, flags, 0o600) };
  } catch (e) {
    const alt = denied(e) ? fallbackPath(fd) : undefined;
    if (!alt) throw e;
    return { path: alt, jfd: openSync(alt + suffix, flags, 0o600) };
  }
}

/** Save [start, end) of the mailbox `fd` (end: the old size unless told) into a journal. */
export function beginJournal(mailbox: string, fd: number, start: number, oldSize: number, end = oldSize): Journal {
  end = Math.max(start, Math.min(end, oldSize));
  const { path, jfd } = openJournal(mailbox, fd, '.tmp', 'w+');
  const tmp = `${path}.tmp`;
  try {
    writeSync(jfd, headerText(start, oldSize, end), 0, HEADER, 0);
    save(fd, jfd, start, start, end);
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
    get end() {
      return end;
    },
    read: (b, off, len, pos) => readSync(jfd, b, off, Math.min(len, end - pos), HEADER + (pos - start)),
    extend(to: number) {
      to = Math.min(to, oldSize);
      if (to <= end) return;
      save(fd, jfd, start, end, to);
      fdatasyncSync(jfd); // the bytes first, then the header that counts them
      writeSync(jfd, headerText(start, oldSize, to), 0, HEADER, 0);
      fdatasyncSync(jfd);
      end = to;
    },
    done(size: number) {
      writeSync(jfd, headerText(start, oldSize, end, size), 0, HEADER, 0);
      fdatasyncSync(jfd);
    },
    rollBack: () => restore(jfd, fd, start, end, oldSize),
    commit() {
      closeSync(jfd);
      removeAside(path);
    },
  };
}

/**
 * Remove a finished rewrite journal: renamed aside at once (and the rename
 * made durable before the lock goes: a journal that came back after a power
 * loss would undo or cut mail delivered since), its blocks freed in the
 * background (unlinking a 250 MB file took 200 ms). A `.old` left by a
 * process that exited first is removed at the next open.
 */
function removeAside(path: string): void {
  const old = `${path}.old`;
  renameSync(path, old);
  fsyncDir(path);
  const done = new Promise<void>((resolve) => unlink(old, () => resolve()));
  removals.add(done);
  void done.then(() => removals.delete(done));
}
const removals = new Set<Promise<void>>();

/** Wait for journals being removed in the background (before the process exits). */
export async function settleJournalRemovals(): Promise<void> {
  await Promise.all([...removals]);
}

/**
 * If a journal exists for `mailbox`, roll the mailbox back (needs `fd` open
 * for writing). Returns true when a rollback happened. Also removes what an
 * interrupted process left beside a journal, which nothing reads (an
 * append, prepareAppend, leaves that to the next open).
 */
export function recoverJournal(mailbox: string, fd: number): boolean {
  let rolled = recoverFrom(journalPath(mailbox), fd, true);
  const alt = fallbackPath(fd);
  if (alt && recoverFrom(alt, fd, true)) rolled = true;
  return rolled;
}

function recoverFrom(path: string, fd: number, tidy: boolean): boolean {
  // An unfinished journal: the mailbox was not touched yet. (existsSync first:
  // a failing unlink costs an exception on every open and append.)
  for (const leftover of tidy ? [`${path}.tmp`, `${path}.old`] : []) {
    if (!existsSync(leftover)) continue;
    try {
      unlinkSync(leftover);
    } catch {
      /* gone meanwhile */
    }
  }
  if (!existsSync(path)) return false;
  let jfd: number;
  try {
    jfd = openSync(path, 'r');
  } catch (e) {
    // Someone else's append journal (exactly one header long) that we may
    // not read: it can only describe an append we cannot judge; leave it.
    // Anything else unreadable is a rewrite journal: refuse, as before.
    if (denied(e) && statSync(path).size === APPEND_HEADER) return false;
    throw e;
  }
  try {
    const header = preadFully(jfd, APPEND_HEADER, 0).toString('latin1');
    if (header.startsWith(APPEND_MAGIC)) return recoverAppend(path, fd, header);
    // "start oldSize" (the whole tail saved), "start oldSize end", or "start oldSize D size" once the new content was synced.
    const m = new RegExp(`^${MAGIC} (\\d+) (\\d+)(?: (\\d+)| D (\\d+))?\\n`).exec(header);
    const jsize = fstatSync(jfd).size;
    if (!m) throw new Error(`damaged journal ${path}`);
    const start = Number(m[1]);
    const oldSize = Number(m[2]);
    const end = m[3] === undefined ? oldSize : Number(m[3]);
    if (m[4] !== undefined) {
      // The rewrite was complete and synced: only the cut of the old tail may be missing.
      ftruncateSync(fd, Number(m[4]));
      fsyncSync(fd);
    } else {
      // Bytes past `end` may be an extension that was never counted: not used.
      if (end < start || end > oldSize || jsize - HEADER < end - start) throw new Error(`incomplete journal ${path}`);
      restore(jfd, fd, start, end, oldSize);
    }
  } finally {
    closeSync(jfd);
  }
  unlinkSync(path);
  fsyncDir(path);
  return true;
}

function digestOf(parts: readonly Buffer[]): string {
  const h = nodeCrypto().createHash('sha1');
  for (const b of parts) h.update(b);
  return h.digest('hex');
}

function appendHeader(text: string): Buffer {
  const h = Buffer.alloc(APPEND_HEADER, 0x20);
  h.write(`${text}\n`, 'latin1');
  return h;
}

export interface AppendJournal {
  /** The new bytes are written and fsync'd: mark the journal idle. */
  commit(): void;
  /** The append failed and the mailbox was cut back: mark the journal idle. */
  abandon(): void;
}

/**
 * Record an append of `bytes` (one buffer, or parts written one after
 * another) at `oldSize` of the mailbox `fd` (see the top of this file).
 * The caller writes, fsyncs, then commits.
 */
export function beginAppend(mailbox: string, fd: number, oldSize: number, bytes: Buffer | readonly Buffer[], idleJournal?: number): AppendJournal {
  const parts = Buffer.isBuffer(bytes) ? [bytes] : bytes;
  let length = 0;
  for (const b of parts) length += b.length;
  const record = `${APPEND_MAGIC} ${oldSize} ${oldSize + length} ${digestOf(parts)}`;
  if (idleJournal !== undefined) return recordAppend(idleJournal, record);
  const { path, jfd } = openJournal(mailbox, fd, '', constants.O_RDWR | constants.O_CREAT);
  try {
    const fresh = fstatSync(jfd).size === 0;
    if (fresh) {
      // Whoever may write the mailbox may write its journal: same permissions
      // (a shared mailbox), and the mailbox owner's when root makes it.
      const st = fstatSync(fd);
      fchmodSync(jfd, st.mode & 0o666);
      if (process.getuid?.() === 0) fchownSync(jfd, st.uid, st.gid);
    }
    const current = Buffer.alloc(HEADER);
    if (!fresh) readSync(jfd, current, 0, HEADER, 0);
    if (!fresh && !current.toString('latin1').startsWith(APPEND_MAGIC)) {
      // A rewrite journal nobody recovered: never overwrite it here.
      throw new Error(`unrecovered journal ${path}`);
    }
    if (!fresh) return recordAppend(jfd, record);
    writeSync(jfd, appendHeader(record), 0, APPEND_HEADER, 0);
    ftruncateSync(jfd, APPEND_HEADER);
    fdatasyncSync(jfd);
    fsyncDir(path);
  } catch (e) {
    closeSync(jfd);
    throw e;
  }
  return idleOnEnd(jfd);
}

/** Write the record of an append into an existing journal (open on `jfd`, idle), synced. */
function recordAppend(jfd: number, record: string): AppendJournal {
  try {
    writeSync(jfd, appendHeader(record), 0, APPEND_HEADER, 0);
    fdatasyncSync(jfd);
  } catch (e) {
    closeSync(jfd);
    throw e;
  }
  return idleOnEnd(jfd);
}

function idleOnEnd(jfd: number): AppendJournal {
  const idle = () => {
    try {
      writeSync(jfd, appendHeader(`${APPEND_MAGIC} idle`), 0, APPEND_HEADER, 0);
    } finally {
      closeSync(jfd);
    }
  };
  return { commit: idle, abandon: idle };
}

/**
 * Before an append to a mailbox that is not open here (the caller holds its
 * locks): roll back or cut off whatever an interrupted process left (as at
 * an open, without the tidying), and when the mailbox's own append journal
 * is there and idle, keep it open for the append (`journal`, to pass to
 * beginAppend; the caller closes it if it appends nothing) — one open and
 * one read instead of a look, a read and a second open.
 */
export function prepareAppend(mailbox: string, fd: number): { journal?: number } {
  const own = journalPath(mailbox);
  let jfd: number | undefined;
  try {
    jfd = openSync(own, 'r+'); // absent only before a mailbox's first append
  } catch {
    jfd = undefined;
  }
  if (jfd !== undefined) {
    const head = Buffer.allocUnsafe(APPEND_HEADER);
    let text = '';
    try {
      text = head.subarray(0, readSync(jfd, head, 0, APPEND_HEADER, 0)).toString('latin1');
    } catch {
      /* judged below as not idle */
    }
    if (!text.startsWith(`${APPEND_MAGIC} idle\n`)) {
      closeSync(jfd);
      jfd = undefined;
    }
  }
  if (jfd === undefined) recoverFrom(own, fd, false);
  const alt = fallbackPath(fd);
  try {
    if (alt) recoverFrom(alt, fd, false);
  } catch (e) {
    if (jfd !== undefined) closeSync(jfd);
    throw e;
  }
  return { journal: jfd };
}

/** An append journal found at open: keep a whole append, cut off anything less. True when cut. */
function recoverAppend(path: string, fd: number, header: string): boolean {
  const m = new RegExp(`^${APPEND_MAGIC} (\\d+) (\\d+) ([0-9a-f]{40})\\n`).exec(header);
  if (!m) return false; // idle
  const oldSize = Number(m[1]);
  const newSize = Number(m[2]);
  const size = fstatSync(fd).size;
  const appended = size >= newSize ? preadFully(fd, newSize - oldSize, oldSize) : undefined;
  const whole = appended !== undefined && appended.length === newSize - oldSize && digestOf([appended]) === m[3];
  if (!whole && size > oldSize) {
    ftruncateSync(fd, oldSize);
    fsyncSync(fd);
  }
  const jfd = openSync(path, 'r+');
  try {
    writeSync(jfd, appendHeader(`${APPEND_MAGIC} idle`), 0, APPEND_HEADER, 0);
    fdatasyncSync(jfd);
  } finally {
    closeSync(jfd);
  }
  return !whole && size > oldSize;
}
