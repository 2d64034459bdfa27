/**
 * The traditional UNIX mailbox driver ("unix" in UW c-client), byte-compatible
 * with UW: see mailbox.ts (open mailboxes), scan.ts, format.ts, fromline.ts.
 */
import { openSync, closeSync, readSync, writeSync, fsyncSync, unlinkSync, renameSync, statSync, existsSync, constants } from 'node:fs';
import type { Driver, DriverContext } from '../../driver.js';
import type { AppendMessage, AppendResult, Mailbox, OpenOptions, StatusInfo } from '../../types.js';
import { StoreError } from '../../types.js';
import { UnixMailbox, mapErr } from './mailbox.js';
import { pseudoMessage } from './format.js';
import { parseFromLine } from './fromline.js';

export { validFromLine, parseFromLine, formatFromLine } from './fromline.js';
export { UnixMailbox } from './mailbox.js';

/** Whether the file is empty or starts (after blank space) with a valid From line. */
export function isUnixFormat(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(1024);
    const n = readSync(fd, b, 0, b.length, 0);
    if (n === 0) return true;
    let i = 0;
    while (i < n && (b[i] === 10 || b[i] === 13 || b[i] === 32 || b[i] === 9)) i++;
    const nl = b.indexOf(10, i);
    const line = b.subarray(i, nl < 0 ? n : nl).toString('latin1');
    return parseFromLine(line) !== undefined;
  } finally {
    closeSync(fd);
  }
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
    try {
      if (!statSync(path).isFile()) return false;
    } catch {
      return false;
    }
    return isUnixFormat(path);
  },
  async create(path: string, ctx: DriverContext, opts): Promise<void> {
    createUnixFile(path, ctx, opts?.keywords ?? ctx.defaultKeywords);
  },
  async open(path: string, name: string, ctx: DriverContext, opts?: OpenOptions): Promise<Mailbox> {
    if (!existsSync(path)) throw new StoreError(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    return UnixMailbox.open(path, name, ctx, opts);
  },
  async delete(path: string): Promise<void> {
    try {
      unlinkSync(path);
    } catch (e) {
      throw mapErr(e, path);
    }
  },
  async rename(from: string, to: string): Promise<void> {
    if (existsSync(to)) throw new StoreError(`Can't rename to mailbox ${to}: mailbox already exists`, 'ALREADYEXISTS');
    try {
      renameSync(from, to);
    } catch (e) {
      throw mapErr(e, from);
    }
  },
  async status(path: string, ctx: DriverContext): Promise<StatusInfo> {
    const mb = await UnixMailbox.open(path, path, ctx, { readOnly: true, silent: true });
    try {
      const msgs = mb.messages();
      let size = 0;
      for (const m of msgs) size += m.size;
      return {
        messages: msgs.length,
        recent: msgs.filter((m) => m.recent).length,
        unseen: msgs.filter((m) => !m.flags.has('\\Seen')).length,
        uidNext: mb.uidNext,
        uidValidity: mb.uidValidity,
        size,
      };
    } finally {
      await mb.close();
    }
  },
  async append(path: string, messages: AppendMessage[], ctx: DriverContext): Promise<AppendResult> {
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
