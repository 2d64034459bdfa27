/**
 * Persistent scan cache (beyond UW): every IMAP or POP3 connection is a new
 * process, and scanning a large mbox is most of the cost of opening it. The
 * result of a scan is kept in the user's own cache directory, keyed by the
 * file's device, inode, size, mtime and ctime (ctime changes with every
 * write and cannot be set back), and used instead of a scan while all of
 * them are unchanged. A stale or damaged entry is simply ignored.
 */
import { openSync, closeSync, readFileSync, writeSync, renameSync, mkdirSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { ScannedMessage } from './scan.js';

const VERSION = 4; // 3: binary numbers and a string table; 4: private ranges joined, no From lines
let cacheDir: string | undefined;

/** Where scan caches live (the store sets `<mail root>/.uwimap-cache`); undefined turns the cache off. */
export function setScanCacheDir(dir: string | undefined): void {
  cacheDir = dir;
}

export interface FileKey {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const fileFor = (k: FileKey) => (cacheDir ? join(cacheDir, `${k.dev.toString(16)}-${k.ino.toString(16)}.scan`) : undefined);
const keyText = (k: FileKey) => `${VERSION} ${k.dev} ${k.ino} ${k.size} ${k.mtimeNs} ${k.ctimeNs}`;

/*
 * File layout (version 3): the key line, then
 *   u32 length of the string table, the table as a JSON array (latin1),
 *   u32 message count N, u32 number of private-header ranges R,
 *   N × FIELDS float64 (offsets, sizes, date, zone, string indices),
 *   2R float64 (the ranges, in message order).
 * Binary numbers and a shared string table: reading 50,000 records is a few
 * typed-array reads per record instead of parsing 20 MB of JSON objects.
 */
const FIELDS = 18;
const NONE = -1;

/** The cached scan of a file in exactly this state, or undefined. */
export function loadScan(k: FileKey): ScannedMessage[] | undefined {
  const f = fileFor(k);
  if (!f) return undefined;
  let buf: Buffer;
  try {
    buf = readFileSync(f);
  } catch {
    return undefined;
  }
  try {
    const nl = buf.indexOf(10);
    if (nl < 0 || buf.toString('latin1', 0, nl) !== keyText(k)) return undefined;
    let p = nl + 1;
    const tableLen = buf.readUInt32LE(p);
    p += 4;
    const table = JSON.parse(buf.toString('latin1', p, p + tableLen)) as string[];
    p += tableLen;
    const n = buf.readUInt32LE(p);
    const ranges = buf.readUInt32LE(p + 4);
    p += 8;
    const bytes = (n * FIELDS + 2 * ranges) * 8;
    if (p + bytes !== buf.length) return undefined;
    // An aligned copy, so that it can be read as float64s.
    const nums = new Float64Array(buf.buffer.slice(buf.byteOffset + p, buf.byteOffset + p + bytes));
    const str = (i: number) => (i === NONE ? undefined : table[i]);
    const recs: ScannedMessage[] = new Array(n);
    let r = n * FIELDS;
    for (let i = 0, o = 0; i < n; i++, o += FIELDS) {
      const privCount = nums[o + 11];
      const priv: number[] = new Array(2 * privCount);
      for (let j = 0; j < 2 * privCount; j++, r++) priv[j] = nums[r];
      const date = nums[o + 8];
      const zone = nums[o + 9];
      const valueAt = nums[o + 10];
      recs[i] = {
        start: nums[o],
        hdrStart: nums[o + 1],
        hdrEnd: nums[o + 2],
        bodyStart: nums[o + 3],
        end: nums[o + 4],
        next: nums[o + 5],
        date,
        zone: Number.isNaN(zone) ? null : zone,
        priv,
        status: str(nums[o + 12]),
        xstatus: str(nums[o + 13]),
        xkeywords: str(nums[o + 14]),
        xuid: str(nums[o + 15]),
        ximap: str(nums[o + 16]),
        ximapbase: str(nums[o + 17]),
        ximapValueAt: Number.isNaN(valueAt) ? undefined : valueAt,
        size: nums[o + 6],
        headerSize: nums[o + 7],
      };
    }
    return recs;
  } catch {
    return undefined;
  }
}

/** Keep the scan of a file in this state (written to a temporary name, then renamed). */
export function saveScan(k: FileKey, recs: readonly ScannedMessage[]): void {
  const f = fileFor(k);
  if (!f || !cacheDir) return;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const table: string[] = [];
    const index = new Map<string, number>();
    const id = (v: string | undefined) => {
      if (v === undefined) return NONE;
      let i = index.get(v);
      if (i === undefined) {
        i = table.length;
        table.push(v);
        index.set(v, i);
      }
      return i;
    };
    let ranges = 0;
    for (const r of recs) ranges += r.priv.length / 2;
    const nums = new Float64Array(recs.length * FIELDS + 2 * ranges);
    let q = recs.length * FIELDS;
    recs.forEach((r, i) => {
      const o = i * FIELDS;
      nums[o] = r.start;
      nums[o + 1] = r.hdrStart;
      nums[o + 2] = r.hdrEnd;
      nums[o + 3] = r.bodyStart;
      nums[o + 4] = r.end;
      nums[o + 5] = r.next;
      nums[o + 6] = r.size;
      nums[o + 7] = r.headerSize;
      nums[o + 8] = r.date;
      nums[o + 9] = r.zone ?? NaN;
      nums[o + 10] = r.ximapValueAt ?? NaN;
      nums[o + 11] = r.priv.length / 2;
      nums[o + 12] = id(r.status);
      nums[o + 13] = id(r.xstatus);
      nums[o + 14] = id(r.xkeywords);
      nums[o + 15] = id(r.xuid);
      nums[o + 16] = id(r.ximap);
      nums[o + 17] = id(r.ximapbase);
      for (const v of r.priv) nums[q++] = v;
    });
    const tableBuf = Buffer.from(JSON.stringify(table), 'latin1');
    const tableLen = Buffer.alloc(4);
    tableLen.writeUInt32LE(tableBuf.length, 0);
    const counts = Buffer.alloc(8);
    counts.writeUInt32LE(recs.length, 0);
    counts.writeUInt32LE(ranges, 4);
    const tmp = `${f}.${process.pid}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, `${keyText(k)}\n`, null, 'latin1');
      writeSync(fd, tableLen);
      writeSync(fd, tableBuf);
      writeSync(fd, counts);
      writeSync(fd, Buffer.from(nums.buffer, nums.byteOffset, nums.byteLength));
      // No fsync: a cache entry torn by a crash fails its length check and is ignored.
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, f);
  } catch {
    /* a cache that cannot be written is no cache */
  }
}
