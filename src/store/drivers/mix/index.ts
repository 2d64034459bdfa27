/**
 * The mix driver (UW c-client mix.c): a directory holding `.mixmeta`,
 * `.mixindex`, `.mixstatus` and `.mix<hex>` data files; several read-write
 * sessions at once; the directory may also hold child mailboxes (dual use).
 * See format.ts for the records and mailbox.ts for the open mailbox.
 */
import { openSync, closeSync, writeSync, fsyncSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, existsSync, statSync, constants } from 'node:fs';
import { join, basename } from 'node:path';
import type { Driver, DriverContext } from '../../driver.js';
import type { AppendMessage, AppendResult, Mailbox, OpenOptions, StatusInfo } from '../../types.js';
import { StoreError } from '../../types.js';
import { mapErr } from '../base.js';
import { appendAndClose, renameMailbox, statusOf } from '../common.js';
import { MixMailbox, isMixDir } from './mailbox.js';
import { INDEX, META, STATUS, buildMeta, dataFileName } from './format.js';
import { MAX_KEYWORDS } from '../flagbits.js';
import type { Probe } from '../../probe.js';

export { MixMailbox, isMixDir } from './mailbox.js';

/** Names inside a mix directory that belong to the format (hidden from LIST). */
export function isMixInternalName(name: string): boolean {
  return name.startsWith('.mix');
}

function createFile(path: string, mode: number, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    if (text) writeSync(fd, text, 0, 'latin1');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function createMixDir(path: string, ctx: DriverContext, keywords: readonly string[]): void {
  if (basename(path).startsWith('.mix')) throw new StoreError(`Can't create mailbox ${path}: invalid MIX-format name`, 'CANNOT');
  if (isMixDir(path)) throw new StoreError(`Can't create mailbox ${path}: mailbox already exists`, 'ALREADYEXISTS');
  const now = Math.floor(Date.now() / 1000);
  const old = process.umask(0);
  try {
    if (!existsSync(path)) mkdirSync(path, ctx.dirMode);
    else if (!statSync(path).isDirectory()) throw new StoreError(`Can't create mailbox ${path}: mailbox already exists`, 'ALREADYEXISTS');
    // As mix_create: the K line (when there are keywords) has no CRLF.
    const meta = buildMeta({ seq: now, uidValidity: now, uidLast: 0, newmsg: now, keywords: [] });
    const kw = keywords.slice(0, MAX_KEYWORDS);
    createFile(join(path, META), ctx.fileMode, kw.length ? `${meta}K${kw.join(' ')}` : meta);
    createFile(join(path, INDEX), ctx.fileMode, '');
    createFile(join(path, STATUS), ctx.fileMode, '');
    createFile(join(path, dataFileName(now)), ctx.fileMode, '');
  } catch (e) {
    throw mapErr(e, path);
  } finally {
    process.umask(old);
  }
}

export const mixDriver: Driver = {
  name: 'mix',
  directoryFormat: true,
  async detect(path: string): Promise<boolean> {
    return isMixDir(path);
  },
  recognise(p: Probe): boolean {
    return p.directory && isMixDir(p.path);
  },
  async create(path: string, ctx: DriverContext, opts): Promise<void> {
    createMixDir(path, ctx, opts?.keywords ?? ctx.defaultKeywords);
  },
  async open(path: string, name: string, ctx: DriverContext, opts?: OpenOptions): Promise<Mailbox> {
    if (!isMixDir(path)) throw new StoreError(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    return MixMailbox.open(path, name, ctx, opts);
  },
  async delete(path: string): Promise<void> {
    // The format's files go; the directory too unless it holds child mailboxes.
    try {
      for (const n of readdirSync(path)) if (n.startsWith('.mix') || n.endsWith('.uwjournal')) unlinkSync(join(path, n));
    } catch (e) {
      throw mapErr(e, path);
    }
    try {
      rmdirSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw mapErr(e, path);
    }
  },
  async rename(from: string, to: string): Promise<void> {
    renameMailbox(from, to);
  },
  async status(path: string, ctx: DriverContext): Promise<StatusInfo> {
    const mb = await MixMailbox.open(path, path, ctx, { readOnly: true, silent: true });
    try {
      return statusOf(mb, mb.recentOnDisk());
    } finally {
      await mb.close();
    }
  },
  async append(path: string, messages: AppendMessage[], ctx: DriverContext): Promise<AppendResult> {
    // Opened silently first, as mix_append does (which also numbers and burps).
    return appendAndClose(await MixMailbox.open(path, path, ctx, { silent: true }), path, messages);
  },
};
