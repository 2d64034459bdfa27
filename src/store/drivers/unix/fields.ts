/**
 * Header-field index (beyond UW): for each message of a mailbox, the lines
 * of the fields SEARCH FROM, TO, CC, BCC, SUBJECT and SENT* look at
 * (INDEXED_FIELDS), kept by the scan that first reads the file and stored
 * next to the scan cache. A search on those keys then reads one small file
 * instead of 50,000 headers from the mailbox.
 *
 * Entries are keyed by UID (UIDs survive rewrites; header lines other than
 * c-client's private ones are never rewritten) under the mailbox's
 * UIDVALIDITY, and each carries the size of the message's header as IMAP
 * shows it: an entry is used only while both still match, so a message
 * changed by another program is read from the file again.
 *
 * File: "UWFIELDS1 <uidvalidity>\n", then per message u32 UID, u32 header
 * size, u32 length and that many bytes (little-endian). Written to a
 * temporary name and renamed; no fsync (a torn file fails its checks and is
 * ignored, and the mailbox is searched directly).
 */
import { readCacheFile, stageCacheFile, cacheFileKey, type StagedFile } from './cache.js';
import { sortedIndexOf } from './table.js';

const MAGIC = 'UWFIELDS1';
const nameFor = (dev: number, ino: number) => `${dev.toString(16)}-${ino.toString(16)}.fields`;

/**
 * The field records of a mailbox's messages (scan.ts FieldRecords, UIDs
 * filled in), written but not yet in place: committed once those UIDs are
 * in the file (after the first open's rewrite), replacing what was kept.
 */
export function stageFields(dev: number, ino: number, uidValidity: number, records: Buffer): StagedFile | undefined {
  return stageCacheFile(nameFor(dev, ino), `${MAGIC} ${uidValidity}`, [records]);
}

/** The kept field lines of a mailbox, looked up by UID. */
export class FieldIndex {
  private constructor(
    private readonly buf: Buffer,
    /** UIDs in ascending order (as saved) and where each entry starts. */
    private readonly uids: Uint32Array,
    private readonly at: Float64Array,
  ) {}

  /** Whether an index is kept for this file under this UIDVALIDITY (its first line only is read). */
  static kept(dev: number, ino: number, uidValidity: number): boolean {
    return cacheFileKey(nameFor(dev, ino)) === `${MAGIC} ${uidValidity}`;
  }

  /** The index kept for this file under this UIDVALIDITY, or undefined. */
  static load(dev: number, ino: number, uidValidity: number): FieldIndex | undefined {
    const file = readCacheFile(nameFor(dev, ino), `${MAGIC} ${uidValidity}`);
    if (!file) return undefined;
    const { buf, at: start } = file;
    let n = 0;
    for (let p = start; p + 12 <= buf.length; p += 12 + buf.readUInt32LE(p + 8)) n++;
    const uids = new Uint32Array(n);
    const at = new Float64Array(n);
    let p = start;
    for (let k = 0; k < n; k++) {
      const uid = buf.readUInt32LE(p);
      if (k > 0 && uid <= uids[k - 1]) return undefined; // not as saved
      uids[k] = uid;
      at[k] = p;
      p += 12 + buf.readUInt32LE(p + 8);
    }
    if (p !== buf.length) return undefined; // torn
    return new FieldIndex(buf, uids, at);
  }

  /** The field lines of `uid` when kept for a header of `headerSize` bytes (a view of the index; do not modify). */
  get(uid: number, headerSize: number): Buffer | undefined {
    const k = sortedIndexOf(this.uids, this.uids.length, uid);
    if (k < 0) return undefined;
    const p = this.at[k];
    if (this.buf.readUInt32LE(p + 4) !== headerSize) return undefined;
    return this.buf.subarray(p + 12, p + 12 + this.buf.readUInt32LE(p + 8));
  }
}
