/**
 * UW c-client's three locks (locking.md):
 *  1. the dot-lock `<mailbox>.lock` (NFS-safe hitching post, 0666, stale after
 *     dot-lock-timeout minutes, held only for each read/write burst);
 *  2. flock(2) (plus an fcntl write lock, which Postfix/procmail/mutt use on
 *     Linux) on the mailbox file itself;
 *  3. flock on `/tmp/.<dev>.<ino>` holding the owner's PID, with the "kiss of
 *     death" (SIGUSR2) between c-client processes.
 */
import { openSync, closeSync, writeSync, lstatSync, unlinkSync, linkSync, statSync, chmodSync, readSync, ftruncateSync, fstatSync, existsSync, constants } from 'node:fs';
import { childProcess } from '../../runtime/lazy.js';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import * as posix from '../../runtime/posix.js';
import type { Log } from '../../runtime/log.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ 1. dot-lock

export interface DotLock {
  path: string;
  /** false when no dot-lock could be made (directory not writable): flock only, as UW. */
  held: boolean;
  release(): void;
}

export interface DotLockOptions {
  /** Minutes after which a lock is stale and seized (UW default 5). */
  timeoutMinutes: number;
  log?: Log;
  /** Untagged-notice callback for "Mailbox … is locked, will override in n seconds...". */
  notify?: (text: string) => void;
  /**
   * When the directory does not let us create the lock (a spool that is not
   * 1777), ask the setgid mlock helper (docs/mlock.md) to make it: `helper`
   * (default: UW's search list) and an open descriptor on the mailbox.
   */
  mlock?: { helper?: string; fd: number };
}

const MLOCK_DEFAULTS = ['/usr/libexec/mlock', '/usr/sbin/mlock', '/etc/mlock'];

/**
 * UW's mlock protocol: run `mlock 3 PATH` with the mailbox open on fd 3; one
 * byte back ('+' locked); writing a byte or closing its stdin releases.
 */
async function lockViaHelper(path: string, helper: string | undefined, fd: number, log?: Log): Promise<DotLock | undefined> {
  const bin = helper || MLOCK_DEFAULTS.find((p) => existsSync(p));
  if (!bin || !existsSync(bin)) return undefined;
  const child = childProcess().spawn(bin, ['3', path], { stdio: ['pipe', 'pipe', 'ignore', fd] });
  const answer = await new Promise<string>((resolve) => {
    let done = false;
    const finish = (c: string) => {
      if (!done) {
        done = true;
        resolve(c);
      }
    };
    child.stdout!.once('data', (d: Buffer) => finish(d.toString('latin1', 0, 1)));
    child.once('error', () => finish('!'));
    child.once('exit', () => finish('!'));
  });
  if (answer !== '+') {
    log?.warning(`mlock helper ${bin} could not lock ${path} (${answer === '?' ? 'refused' : answer === '-' ? 'failed' : 'not runnable'})`);
    child.stdin?.end();
    return undefined;
  }
  let released = false;
  return {
    path: `${path}.lock`,
    held: true,
    release() {
      if (released) return;
      released = true;
      child.stdin?.end('+');
    },
  };
}

/** This host's name for hitching posts (uname once, not per lock). */
let hostName: string | undefined;

/** Create the lock file exclusively with the hitching-post method. true = we own it. */
function createExclusive(lock: string): boolean | 'EACCES' {
  const post = `${lock}.${Math.floor(Date.now() / 1000)}.${process.pid}.${(hostName ??= hostname())}`;
  let fd: number;
  try {
    fd = openSync(post, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return 'EACCES';
    if (code === 'EEXIST') return false;
    throw e;
  }
  closeSync(fd);
  try {
    try {
      linkSync(post, lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') {
        // No hard links on this file system: plain O_EXCL on the lock itself.
        try {
          closeSync(openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666));
          return true;
        } catch {
          return false;
        }
      }
    }
    // The link count tells the truth (NFS may report link() failures wrongly).
    return statSync(post).nlink === 2;
  } finally {
    try {
      unlinkSync(post);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Take `<path>.lock` as UW's dotlock_lock does: try once a second; a lock whose
 * ctime is older than the timeout is seized; give up waiting after the
 * timeout and seize. EACCES → no dot-lock (warning), flock still protects.
 */
export async function dotLock(path: string, o: DotLockOptions): Promise<DotLock> {
  const lock = `${path}.lock`;
  const timeout = o.timeoutMinutes * 60;
  const release = () => {
    try {
      unlinkSync(lock);
    } catch {
      /* gone already */
    }
  };
  for (let i = 0; i < timeout; i++) {
    const st = lstatSync(lock, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      o.log?.crit(`SECURITY PROBLEM: symbolic link on lock name: ${lock}`);
      throw new Error(`symbolic link on lock name ${lock}`);
    }
    if (st && (Date.now() - st.ctimeMs) / 1000 >= timeout) break; // stale: seize
    const r = createExclusive(lock);
    if (r === true) {
      try {
        chmodSync(lock, 0o666);
      } catch {
        /* keep going */
      }
      return { path: lock, held: true, release };
    }
    if (r === 'EACCES') {
      if (o.mlock) {
        const viaHelper = await lockViaHelper(path, o.mlock.helper, o.mlock.fd, o.log);
        if (viaHelper) return viaHelper;
      }
      const dir = dirname(path);
      let mode = 0;
      try {
        mode = statSync(dir).mode & 0o7777;
      } catch {
        /* ignore */
      }
      const text = mode !== 0o1777 ? `Mailbox vulnerable - directory ${dir} must have 1777 protection` : `Mailbox vulnerable - error creating ${lock}: permission denied`;
      o.log?.warning(text);
      o.notify?.(text);
      return { path: lock, held: false, release: () => undefined };
    }
    if (i % 15 === 0) {
      const text = `Mailbox ${path} is locked, will override in ${timeout - i} seconds...`;
      o.notify?.(text);
    }
    await sleep(1000);
  }
  // Seize the lock.
  try {
    const age = Math.round((Date.now() - lstatSync(lock).ctimeMs) / 1000);
    if (age < timeout) o.notify?.(`Mailbox vulnerable - seizing ${age} second old lock`);
    unlinkSync(lock);
  } catch {
    /* gone meanwhile */
  }
  const old = process.umask(0);
  try {
    closeSync(openSync(lock, constants.O_WRONLY | constants.O_CREAT, 0o666));
  } finally {
    process.umask(old);
  }
  o.log?.notice(`Mailbox ${path} lock overridden`);
  return { path: lock, held: true, release };
}

// ----------------------------------------------------- 2. flock + fcntl

/** Exclusive flock and fcntl write lock on an O_RDWR fd, waiting without blocking the event loop. */
export async function lockFileExclusive(fd: number, waitMs = 5 * 60_000): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (posix.flockSync(fd, posix.LOCK_EX | posix.LOCK_NB)) {
      if (posix.fcntlLockSync(fd, posix.F_WRLCK, false)) return true;
      posix.flockSync(fd, posix.LOCK_UN);
    }
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}
/** flock(2) `op` (LOCK_SH or LOCK_EX), retried without blocking the event loop for up to `waitMs`. */
export async function flockWait(fd: number, op: number, waitMs = 5 * 60_000, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (posix.flockSync(fd, op | posix.LOCK_NB)) return true;
    if (Date.now() > deadline) return false;
    await sleep(pollMs);
  }
}
export function lockFileShared(fd: number, waitMs = 5 * 60_000): Promise<boolean> {
  return flockWait(fd, posix.LOCK_SH, waitMs);
}
export function unlockFile(fd: number): void {
  try {
    posix.fcntlLockSync(fd, posix.F_UNLCK, false);
  } catch {
    /* not an fcntl-locked fd */
  }
  posix.flockSync(fd, posix.LOCK_UN);
}

// ------------------------------------------- 3. /tmp lock, kiss of death

export interface SessionLock {
  path: string;
  exclusive: boolean;
  release(): void;
}

const lostHandlers = new Set<() => void>();
let sigusr2Installed = false;
/** Register a reaction to SIGUSR2 ("kiss of death" from a UW process wanting the mailbox). */
export function onKissOfDeath(handler: () => void): () => void {
  if (!sigusr2Installed) {
    sigusr2Installed = true;
    process.on('SIGUSR2', () => {
      for (const h of [...lostHandlers]) h();
    });
  }
  lostHandlers.add(handler);
  return () => lostHandlers.delete(handler);
}

export function tmpLockName(dir: string, dev: number, ino: number): string {
  return `${dir}/.${dev.toString(16)}.${ino.toString(16)}`;
}

function openTmpLock(path: string, log?: Log): number {
  const old = process.umask(0);
  try {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink() || st.nlink > 1) {
        log?.crit(`SECURITY PROBLEM: lock file ${path} is a symbolic link or has multiple links`);
        throw new Error(`Can't lock for write: ${path} is unsafe`);
      }
      return openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      try {
        const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
        try {
          chmodSync(path, 0o666);
        } catch {
          /* ignore */
        }
        return fd;
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
        throw e2;
      }
    }
  } finally {
    process.umask(old);
  }
}

function readPid(fd: number): number {
  const b = Buffer.alloc(32);
  const n = readSync(fd, b, 0, 32, 0);
  const pid = Number(b.subarray(0, n).toString('latin1').replace(/\0.*$/, '').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : 0;
}

export interface SessionLockOptions {
  lockDirectory: string;
  /** POP3: hold the mailbox alone (LOCK_EX). Otherwise our sessions share (LOCK_SH). */
  exclusive: boolean;
  log?: Log;
  notify?: (text: string) => void;
  /** Retries after the kiss of death (UW: 15, one a second). */
  retries?: number;
}

/**
 * Take the `/tmp/.<dev>.<ino>` lock for a read-write session. Our sessions
 * share it (LOCK_SH); a UW process holding it exclusively gets the kiss of
 * death (SIGUSR2, once) and we retry once a second. undefined = could not get
 * it (the caller opens read-only, as UW does).
 */
export async function sessionLock(dev: number, ino: number, o: SessionLockOptions): Promise<SessionLock | undefined> {
  const path = tmpLockName(o.lockDirectory, dev, ino);
  let fd: number;
  try {
    fd = openTmpLock(path, o.log);
  } catch (e) {
    o.notify?.(`Can't lock for write: ${(e as Error).message}`);
    return undefined;
  }
  const op = (o.exclusive ? posix.LOCK_EX : posix.LOCK_SH) | posix.LOCK_NB;
  let signalled = false;
  const retries = o.retries ?? 15;
  for (let i = 0; ; i++) {
    if (posix.flockSync(fd, op)) break;
    if (!signalled) {
      const pid = readPid(fd);
      if (!pid || pid === process.pid) {
        closeSync(fd);
        return undefined;
      }
      o.log?.info(`Trying to get mailbox lock from process ${pid}`);
      o.notify?.(`Trying to get mailbox lock from process ${pid}`);
      try {
        process.kill(pid, 'SIGUSR2');
      } catch {
        /* gone */
      }
      signalled = true;
    }
    if (i >= retries - 1) {
      closeSync(fd);
      return undefined;
    }
    await sleep(1000);
  }
  // Record our PID if nobody else has (first of the sharing sessions).
  try {
    const st = fstatSync(fd);
    if (st.size === 0 || o.exclusive) {
      const pid = String(process.pid);
      writeSync(fd, pid, 0);
      ftruncateSync(fd, pid.length);
    }
  } catch {
    /* informational only */
  }
  let released = false;
  return {
    path,
    exclusive: o.exclusive,
    release() {
      if (released) return;
      released = true;
      try {
        // Nobody else holds it: remove the file, as unlockfd does.
        posix.flockSync(fd, posix.LOCK_UN);
        if (posix.flockSync(fd, posix.LOCK_EX | posix.LOCK_NB)) {
          try {
            unlinkSync(path);
          } catch {
            /* ignore */
          }
          posix.flockSync(fd, posix.LOCK_UN);
        } else if (readPid(fd) === process.pid) {
          // Others still share it: leave a PID that is alive? We cannot know theirs; clear ours.
          ftruncateSync(fd, 0);
        }
      } catch {
        /* ignore */
      }
      closeSync(fd);
    },
  };
}

// ------------------------------- 3b. /tmp lock as a short exclusive lock

export interface ParseLock {
  path: string;
  release(): void;
}

/**
 * UW's lockfd() with LOCK_EX: the mbx driver's "parse/append permission",
 * an exclusive flock on `/tmp/.<dev>.<ino>` held for the length of one
 * parse, append, flag update or expunge. The file stays empty. Waits (without
 * blocking the event loop) up to `waitMs`; undefined when it could not be had.
 * After locking, the file is checked to still be the one at the path (a
 * releaser may have unlinked it meanwhile), as c-client does.
 */
export async function parseLock(dev: number, ino: number, o: { lockDirectory: string; log?: Log; waitMs?: number }): Promise<ParseLock | undefined> {
  const path = tmpLockName(o.lockDirectory, dev, ino);
  const deadline = Date.now() + (o.waitMs ?? 5 * 60_000);
  for (;;) {
    let fd: number;
    try {
      fd = openTmpLock(path, o.log);
    } catch (e) {
      o.log?.error(`Unable to open lock ${path}: ${(e as Error).message}`);
      return undefined;
    }
    let got = false;
    for (;;) {
      if (posix.flockSync(fd, posix.LOCK_EX | posix.LOCK_NB)) {
        got = true;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(20);
    }
    if (!got) {
      closeSync(fd);
      return undefined;
    }
    // Still the file at the path? (Someone may have unlinked it on release.)
    let same = false;
    try {
      const a = fstatSync(fd);
      const b = lstatSync(path);
      same = a.ino === b.ino && a.dev === b.dev;
    } catch {
      same = false;
    }
    if (!same) {
      closeSync(fd);
      continue;
    }
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        // unlockfd(): we hold it exclusively, so nobody else is using it: remove it.
        try {
          unlinkSync(path);
        } catch {
          /* ignore */
        }
        try {
          posix.flockSync(fd, posix.LOCK_UN);
        } catch {
          /* ignore */
        }
        closeSync(fd);
      },
    };
  }
}
