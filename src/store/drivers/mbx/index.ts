/**
 * The mbx driver (UW c-client mbx.c): a single file with a 2048-byte header
 * and fixed-layout per-message records; several read-write sessions at once.
 * See format.ts for the layout and mailbox.ts for the open mailbox.
 */
import { openSync, closeSync, writeSync, fsyncSync, unlinkSync, existsSync, constants } from 'node:fs';
import type { Driver, DriverContext } from '../../driver.js';
import type { AppendMessage, AppendResult, Mailbox, OpenOptions, StatusInfo } from '../../types.js';
import { StoreError } from '../../types.js';
import { mapErr } from '../base.js';
import { appendAndClose, deleteFile, renameMailbox, statusOf } from '../common.js';
import { MbxMailbox } from './mailbox.js';
import { HDRSIZE, buildHeader, isMbxHeader } from './format.js';
import { recognisedAt, type Probe } from '../../probe.js';

export { MbxMailbox } from './mailbox.js';
export { repairMbx } from './repair.js';

/** Whether a probed path is a regular file that starts with a valid mbx header. */
function isMbxProbe(p: Probe): boolean {
  return p.file && p.head.length >= HDRSIZE && isMbxHeader(p.head);
}

export function createMbxFile(path: string, ctx: DriverContext, keywords: readonly string[]): void {
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
    writeSync(fd, buildHeader({ uidValidity: Math.floor(Date.now() / 1000), uidLast: 0, keywords }));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      /* ignore */
    }
    throw mapErr(e, path);
  }
  closeSync(fd);
}

export const mbxDriver: Driver = {
  name: 'mbx',
  directoryFormat: false,
  async detect(path: string): Promise<boolean> {
    return recognisedAt(mbxDriver, path);
  },
  recognise: isMbxProbe,
  async create(path: string, ctx: DriverContext, opts): Promise<void> {
    createMbxFile(path, ctx, opts?.keywords ?? ctx.defaultKeywords);
  },
  async open(path: string, name: string, ctx: DriverContext, opts?: OpenOptions): Promise<Mailbox> {
    if (!existsSync(path)) throw new StoreError(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    return MbxMailbox.open(path, name, ctx, opts);
  },
  async delete(path: string): Promise<void> {
    deleteFile(path);
  },
  async rename(from: string, to: string): Promise<void> {
    renameMailbox(from, to);
  },
  async status(path: string, ctx: DriverContext): Promise<StatusInfo> {
    const mb = await MbxMailbox.open(path, path, ctx, { readOnly: true, silent: true });
    try {
      // A silent open claims nothing; count what a session would see as recent.
      return statusOf(mb, mb.recentOnDisk());
    } finally {
      await mb.close();
    }
  },
  async append(path: string, messages: AppendMessage[], ctx: DriverContext): Promise<AppendResult> {
    // Open silently (numbers any unnumbered messages first, as mbx_isvalid's
    // stream does), then append without creating keywords (UW: "Unknown flag").
    return appendAndClose(await MbxMailbox.open(path, path, ctx, { silent: true }), path, messages);
  },
};
