/**
 * `mailutil repair MAILBOX`: the two damages UW's FAQ describes.
 *
 * - A traditional mbox whose first line is not a valid "From " line: c-client
 *   then sees no messages ("Help! My INBOX is empty!") or one giant message.
 *   Repair keeps every byte: a broken first From line gets a valid date, and
 *   leading junk becomes a message of its own under a synthesized From line.
 * - A corrupt mbx file ("Unable to parse internal header at …"): the mbx
 *   driver's repair rebuilds the records that can be recovered.
 *
 * Run it when no session has the mailbox open: it refuses when another
 * process holds the mailbox's /tmp lock.
 */
import { openSync, readSync, closeSync, fstatSync, statSync, writeSync, fsyncSync, renameSync, fchownSync, fchmodSync, unlinkSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { Store } from '../store/types.js';
import type { MailutilOptions } from './mailutil.js';
import { validFromLine } from '../store/drivers/unix/index.js';
import { repairMbx } from '../store/drivers/mbx/repair.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) form in UTC, as c-client writes From lines. */
export function ctimeUtc(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export interface MboxRepairResult {
  changed: boolean;
  /** What was done, for the administrator. */
  action: string;
}

/** Offset of the first line that is a valid From line, or -1. Reads in chunks. */
function firstValidFrom(fd: number, size: number): number {
  const CH = 1 << 16;
  const buf = Buffer.alloc(CH + 4096);
  let pos = 0;
  let carry = Buffer.alloc(0);
  let lineStart = 0; // file offset of carry[0]
  while (pos < size) {
    const n = readSync(fd, buf, 0, CH, pos);
    if (n <= 0) break;
    const data = Buffer.concat([carry, buf.subarray(0, n)]);
    let off = 0;
    for (;;) {
      const nl = data.indexOf(10, off);
      if (nl < 0) break;
      const line = data.subarray(off, nl);
      if (line.length >= 5 && line[0] === 0x46 && line.subarray(0, 5).toString('latin1') === 'From ' && validFromLine(line.toString('latin1'))) return lineStart + off;
      off = nl + 1;
    }
    carry = Buffer.from(data.subarray(off));
    lineStart += off;
    pos += n;
    if (carry.length > 1 << 20) {
      // A line over 1 MB is not a From line: drop it.
      lineStart += carry.length;
      carry = Buffer.alloc(0);
    }
  }
  return -1;
}

/** Repair a traditional mbox file whose first line is broken. */
export function repairMboxFile(path: string, now = new Date()): MboxRepairResult {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.size === 0) return { changed: false, action: 'empty mailbox, nothing to repair' };
    // Skip leading whitespace as c-client does.
    const head = Buffer.alloc(Math.min(st.size, 4096));
    readSync(fd, head, 0, head.length, 0);
    let skip = 0;
    while (skip < head.length && (head[skip] === 0x0a || head[skip] === 0x0d || head[skip] === 0x20 || head[skip] === 0x09)) skip++;
    const nl = head.indexOf(10, skip);
    const firstLine = head.subarray(skip, nl < 0 ? head.length : nl).toString('latin1');
    if (validFromLine(firstLine)) return { changed: false, action: 'first line is a valid From line, nothing to repair' };
    let prefix: string;
    let dropFirstLine = 0;
    let action: string;
    if (firstLine.startsWith('From ')) {
      // A From line with a date c-client cannot parse: keep the sender, give it a valid date.
      const sender = firstLine.slice(5).trim().split(/\s+/)[0] || 'MAILER-DAEMON';
      prefix = `From ${sender} ${ctimeUtc(st.mtime ?? now)}\n`;
      dropFirstLine = (nl < 0 ? head.length : nl + 1) - 0;
      action = `replaced invalid first line ${JSON.stringify(firstLine.slice(0, 80))}`;
    } else {
      prefix = `From MAILER-DAEMON ${ctimeUtc(now)}\nSubject: Recovered text from the start of the mailbox\n\n`;
      action = `added a From line before ${firstValidFrom(fd, st.size) < 0 ? 'the whole file' : 'the leading text'}`;
    }
    // Write a repaired copy next to the original, then rename it into place.
    const tmp = join(dirname(path), `.${basename(path)}.repair-${process.pid}`);
    const out = openSync(tmp, 'wx', st.mode & 0o7777);
    try {
      writeSync(out, prefix);
      const buf = Buffer.alloc(1 << 20);
      let pos = dropFirstLine;
      while (pos < st.size) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        writeSync(out, buf, 0, n);
        pos += n;
      }
      try {
        fchownSync(out, st.uid, st.gid);
      } catch {
        /* not root: the file stays ours */
      }
      fchmodSync(out, st.mode & 0o7777);
      fsyncSync(out);
    } catch (e) {
      closeSync(out);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(out);
    const now2 = statSync(path);
    if (now2.size !== st.size || now2.mtimeMs !== st.mtimeMs) {
      unlinkSync(tmp);
      throw new Error(`${path} changed during repair; try again`);
    }
    renameSync(tmp, path);
    return { changed: true, action };
  } finally {
    closeSync(fd);
  }
}

/** Resolve a mailbox name to a file for repair: absolute, ~/…, INBOX (spool or ~/mbox), or relative to home. */
function pathOf(name: string, store: Store): string | undefined {
  const locate = (store as Store & { locate?: (n: string) => string | undefined }).locate;
  if (locate) return locate.call(store, name);
  const home = process.env.HOME ?? '/';
  if (name.startsWith('/')) return name;
  if (name.startsWith('~/')) return join(home, name.slice(2));
  if (name.toUpperCase() === 'INBOX') {
    if (existsSync(join(home, 'mbox'))) return join(home, 'mbox');
    return undefined;
  }
  return join(home, name);
}

export async function repair(store: Store, name: string, o: MailutilOptions): Promise<number> {
  const path = pathOf(name, store);
  if (!path || !existsSync(path)) {
    o.err(`Can't repair ${name}: no such mailbox file`);
    return 1;
  }
  try {
    const fd = openSync(path, 'r');
    const magic = Buffer.alloc(7);
    readSync(fd, magic, 0, 7, 0);
    closeSync(fd);
    if (magic.toString('latin1') === '*mbx*\r\n') {
      const r = await repairMbx(path, o.lockDirectory);
      o.out(`${name}: ${r.summary}`);
      return 0;
    }
    const r = repairMboxFile(path);
    o.out(`${name}: ${r.action}`);
    return 0;
  } catch (e) {
    o.err(`Can't repair ${name}: ${(e as Error).message}`);
    return 1;
  }
}
