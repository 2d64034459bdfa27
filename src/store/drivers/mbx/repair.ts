/**
 * Repair of a damaged mbx file (the FAQ's "Unable to parse internal header
 * at …"): every byte after the file header is kept. Valid records stay as
 * they are; a record whose size is wrong is cut at the next valid record;
 * bytes that belong to no record become a message of their own. A damaged
 * file header is rebuilt. UIDs that do not ascend are cleared, so the next
 * read-write open numbers those messages (under a new UIDVALIDITY only if
 * the remaining ones collide).
 *
 * The file is rewritten in place under a journal (same inode, so the /tmp
 * lock name does not change). Refused while a session has the mailbox open.
 */
import { openSync, closeSync, readFileSync, writeSync, fsyncSync, fstatSync, ftruncateSync, constants } from 'node:fs';
import { beginJournal } from '../../journal.js';
import * as posix from '../../../runtime/posix.js';
import { HDRSIZE, buildHeader, isMbxHeader, parseHeader, parseRecordLine, recordLine } from './format.js';
import { parseLock } from '../../lock/index.js';
import { MAX_KEYWORDS } from '../flagbits.js';

const RECORD = /(?:^|\n)([ \d]\d-[A-Za-z]{3}-\d{4} \d\d:\d\d:\d\d [+-]\d{4},\d+;[0-9a-fA-F]{12}-[0-9a-fA-F]{8}\r\n)/g;

export interface MbxRepairResult {
  changed: boolean;
  summary: string;
}

/** Rebuild `data` (a whole mbx file) as a valid mbx file. */
export function rebuildMbx(data: Buffer, now = new Date()): { data: Buffer; kept: number; resized: number; orphans: number; uidsCleared: number; header: boolean } {
  let header = false;
  let h = { uidValidity: Math.floor(now.getTime() / 1000), uidLast: 0, keywords: [] as string[] };
  if (data.length >= HDRSIZE && isMbxHeader(data)) {
    const p = parseHeader(data);
    h = { uidValidity: p.uidValidity || h.uidValidity, uidLast: p.uidLast, keywords: p.keywords.slice(0, MAX_KEYWORDS) };
  } else header = true;
  const bodyStart = Math.min(HDRSIZE, data.length);
  // Every position where a valid-looking record line starts.
  const text = data.toString('latin1');
  const starts: number[] = [];
  // The first record follows the header directly (no newline before it).
  if (new RegExp(RECORD.source.replace('(?:^|\\n)', '^')).test(text.slice(bodyStart, bodyStart + 128))) starts.push(bodyStart);
  RECORD.lastIndex = bodyStart > 0 ? bodyStart - 1 : 0;
  for (let m = RECORD.exec(text); m; m = RECORD.exec(text)) {
    const at = m.index + (m[0].startsWith('\n') ? 1 : 0);
    if (at > bodyStart || (at === bodyStart && !starts.length)) starts.push(at);
    RECORD.lastIndex = at + 1;
  }
  const isStart = new Set(starts);
  const out: Buffer[] = [];
  let kept = 0;
  let resized = 0;
  let orphans = 0;
  let uidsCleared = 0;
  let lastUid = 0;
  let pos = bodyStart;
  const nextStart = (after: number) => {
    for (const s of starts) if (s > after) return s;
    return data.length;
  };
  while (pos < data.length) {
    if (isStart.has(pos)) {
      const r = parseRecordLine(data.subarray(pos, pos + 128), pos);
      if (!('error' in r)) {
        const textAt = pos + r.lineLen;
        let size = r.size;
        let end = textAt + size;
        // The declared size is trusted unless it runs past the end of the
        // file or over the next record; bytes between its end and the next
        // record become a message of their own below.
        const nxt = nextStart(pos);
        if (end > data.length || end > nxt) {
          end = nxt;
          size = end - textAt;
          resized++;
        }
        let uid = r.uid;
        if (uid && uid <= lastUid) uid = 0;
        if (r.uid && !uid) uidsCleared++;
        if (uid) lastUid = uid;
        h.uidLast = Math.max(h.uidLast, lastUid);
        out.push(Buffer.from(recordLine(r.date, r.zone, size, r.kw, r.sys, uid), 'latin1'), data.subarray(textAt, end));
        kept++;
        pos = end;
        continue;
      }
    }
    // Bytes that belong to no record: keep them as a message of their own.
    const end = nextStart(pos);
    const chunk = data.subarray(pos, end);
    if (chunk.length) {
      out.push(Buffer.from(recordLine(now, 0, chunk.length, 0, 0, 0), 'latin1'), chunk);
      orphans++;
    }
    pos = end;
  }
  return { data: Buffer.concat([buildHeader(h, 0), ...out]), kept, resized, orphans, uidsCleared, header };
}

export async function repairMbx(path: string, lockDirectory = '/tmp'): Promise<MbxRepairResult> {
  const fd = openSync(path, constants.O_RDWR);
  try {
    const st = fstatSync(fd);
    const lock = await parseLock(st.dev, st.ino, { lockDirectory, waitMs: 5000 });
    if (!lock) throw new Error('mailbox is locked by another process');
    try {
      if (!posix.flockSync(fd, posix.LOCK_EX | posix.LOCK_NB)) throw new Error('mailbox is open in another session; try again when it is closed');
      const data = readFileSync(path);
      const r = rebuildMbx(data);
      if (r.data.equals(data)) return { changed: false, summary: `no damage found (${r.kept} messages)` };
      // In place under a journal (the inode, and so the /tmp lock name, stays).
      const j = beginJournal(path, fd, 0, data.length);
      let w = 0;
      while (w < r.data.length) w += writeSync(fd, r.data, w, r.data.length - w, w);
      ftruncateSync(fd, r.data.length);
      fsyncSync(fd);
      j.commit();
      const parts = [`${r.kept} messages kept`];
      if (r.header) parts.push('file header rebuilt');
      if (r.resized) parts.push(`${r.resized} message sizes corrected`);
      if (r.orphans) parts.push(`${r.orphans} stray byte ranges kept as messages`);
      if (r.uidsCleared) parts.push(`${r.uidsCleared} UIDs to be reassigned`);
      return { changed: true, summary: `repaired: ${parts.join(', ')}` };
    } finally {
      lock.release();
    }
  } finally {
    closeSync(fd);
  }
}
