/**
 * The traditional UNIX mailbox driver ("unix" in UW c-client), byte-compatible
 * with UW: see mailbox.ts (open mailboxes), scan.ts, format.ts, fromline.ts.
 */
import { deleteFile, renameMailbox, statusOf } from '../common.js';
import { openSync, closeSync, readSync, writeSync, fsyncSync, fstatSync, existsSync, constants } from 'node:fs';
import type { Driver, DriverContext } from '../../driver.js';
import type { AppendMessage, AppendResult, Mailbox, OpenOptions, StatusInfo } from '../../types.js';
import { StoreError } from '../../types.js';
import { UnixMailbox, mapErr, buildAppended, appendBytes, MAX_KEYWORDS } from './mailbox.js';
import { prepareAppend } from '../../journal.js';
import { dotLock, lockFileExclusive, unlockFile } from '../../lock/index.js';
import { pad10 } from './format.js';
import { pseudoMessage } from './format.js';
import { parseFromLine } from './fromline.js';
import { recognisedAt, type Probe } from '../../probe.js';

export { validFromLine, parseFromLine, formatFromLine } from './fromline.js';
export { UnixMailbox } from './mailbox.js';

/** Whether the file is empty or starts (after blank space) with a valid From line. */
export function isUnixFormat(path: string): boolean {
  return recognisedAt(unixDriver, path);
}

/** The check on a file's first bytes (of which the first 1024 count, as in UW). */
function isUnixHead(head: Buffer): boolean {
  const n = Math.min(head.length, 1024);
  if (n === 0) return true;
  const b = head.subarray(0, n);
  let i = 0;
  while (i < n && (b[i] === 10 || b[i] === 13 || b[i] === 32 || b[i] === 9)) i++;
  const nl = b.indexOf(10, i);
  const line = b.subarray(i, nl < 0 ? n : nl).toString('latin1');
  return parseFromLine(line) !== undefined;
}

/** Create an empty mailbox file holding just the pseudo-message (as c-client does). */
export function createUnixFile(path: string, ctx: DriverContext, keywords: string[] = ctx.defaultKeywords): void {
  const old = process.umask(0);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, ctx.fileMode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StoreError(`Can't create mailbox ${path}: mailbox already exists`, 'ALREADYEXISTS');
    throw mapErr(e, path);
  } finally {
    process.umask(old);
  }
  try {
    const text = Buffer.from(pseudoMessage({ hostname: ctx.hostname, uidValidity: Math.floor(Date.now() / 1000), uidLast: 0, keywords, messageId: false, date: new Date() }), 'latin1');
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const unixDriver: Driver = {
  name: 'unix',
  directoryFormat: false,
  async detect(path: string): Promise<boolean> {
    return isUnixFormat(path);
  },
  recognise(p: Probe): boolean {
    return p.file && p.readable && isUnixHead(p.head);
  },
  async create(path: string, ctx: DriverContext, opts): Promise<void> {
    createUnixFile(path, ctx, opts?.keywords ?? ctx.defaultKeywords);
  },
  async open(path: string, name: string, ctx: DriverContext, opts?: OpenOptions): Promise<Mailbox> {
    if (!existsSync(path)) throw new StoreError(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    return UnixMailbox.open(path, name, ctx, opts);
  },
  async delete(path: string): Promise<void> {
    deleteFile(path);
  },
  async rename(from: string, to: string): Promise<void> {
    renameMailbox(from, to);
  },
  async status(path: string, ctx: DriverContext): Promise<StatusInfo> {
    const mb = await UnixMailbox.open(path, path, ctx, { readOnly: true, silent: true });
    try {
      return statusOf(mb, mb.messages().filter((m) => m.recent).length);
    } finally {
      await mb.close();
    }
  },
  async append(path: string, messages: AppendMessage[], ctx: DriverContext): Promise<AppendResult> {
    const fast = await fastAppend(path, messages, ctx);
    if (fast) return fast;
    const mb = await UnixMailbox.open(path, path, ctx, { silent: true });
    try {
      if (mb.readOnly) {
        // Another process holds it read-write (UW APPEND then appends raw, without UIDs).
        throw new StoreError(`Can't append to ${path}: ${mb.readOnlyReason}`, 'INUSE');
      }
      return await mb.append(messages);
    } finally {
      await mb.close();
    }
  },
};

/**
 * APPEND to a mailbox that is not open here, without scanning it: when the
 * file starts with the pseudo-message, its fixed-width X-IMAP fields give
 * UIDVALIDITY, UIDLAST and the keywords; the messages are appended in
 * c-client's raw layout with their X-UIDs and UIDLAST is updated in place.
 * undefined = the file has no pseudo-message (the full path handles it).
 */
async function fastAppend(path: string, messages: AppendMessage[], ctx: DriverContext): Promise<AppendResult | undefined> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR);
  } catch (e) {
    throw mapErr(e, path);
  }
  const dl = await dotLock(path, { timeoutMinutes: ctx.dotLockTimeout, log: ctx.log, mlock: { helper: ctx.mlockPath, fd } });
  try {
    if (!(await lockFileExclusive(fd, (ctx.lockWait ?? 300) * 1000))) throw new StoreError(`Unable to lock mailbox ${path}: held by another process`, 'INUSE');
    let journal: number | undefined;
    try {
      journal = prepareAppend(path, fd).journal;
      const head = Buffer.alloc(4096);
      const n = readSync(fd, head, 0, head.length, 0);
      const text = head.subarray(0, n).toString('latin1');
      const end = text.indexOf('\n\n');
      if (!text.startsWith('From ') || end < 0) return undefined;
      const m = /\nX-IMAP: (\d{10}) (\d{10})([^\n]*)\n/.exec(text.slice(0, end + 1));
      if (!m || Number(m[1]) === 0) return undefined;
      const uidValidity = Number(m[1]);
      let uidLast = Number(m[2]);
      const kw = m[3].split(' ').filter(Boolean).slice(0, MAX_KEYWORDS);
      const lastAt = m.index + 1 + 'X-IMAP: '.length + 11;
      const size = fstatSync(fd).size;
      const warnings: string[] = [];
      const uids: number[] = [];
      const parts: Buffer[] = [];
      for (const am of messages) {
        const flags = new Set<string>();
        for (const f of am.flags ?? []) {
          if (f.startsWith('\\')) flags.add(f);
          else if (kw.includes(f)) flags.add(f);
          else warnings.push(`Unknown flag: ${f}`); // a mailbox that is not open cannot create keywords (UW)
        }
        const uid = ++uidLast;
        uids.push(uid);
        parts.push(...buildAppended(am, flags, kw, uid, ctx, false));
      }
      // UIDLAST in the pseudo-message is written with the messages, under one fsync.
      const handed = journal;
      journal = undefined;
      await appendBytes(path, fd, size, parts, [[lastAt, Buffer.from(pad10(uidLast), 'latin1')]], handed);
      return { uidValidity, uids, warnings };
    } finally {
      if (journal !== undefined) closeSync(journal);
      unlockFile(fd);
    }
  } finally {
    dl.release();
    closeSync(fd);
  }
}
