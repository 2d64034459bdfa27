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
import { MessageTable, type TableImage } from './table.js';

const VERSION = 5; // 3: binary numbers and a string table; 4: private ranges joined, no From lines; 5: the message table's columns
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
 * File layout (version 5): the key line, then a u32 length and that much
 * JSON (row count, the string table, the first row's X-IMAP values, rows
 * with several private ranges, the pseudo-message, each column's name and
 * byte length), then the columns' bytes one after another (table.ts).
 * Reading 50,000 messages is a few copies, not 50,000 objects.
 */

export interface CachedScan {
  table: MessageTable;
  pseudo: ScannedMessage | undefined;
}

/** The cached scan of a file in exactly this state, or undefined. */
export function loadScan(k: FileKey): CachedScan | undefined {
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
    const jsonLen = buf.readUInt32LE(p);
    p += 4;
    const d = JSON.parse(buf.toString('utf8', p, p + jsonLen)) as Omit<TableImage, 'columns'> & { pseudo: ScannedMessage | null; columns: Array<{ name: string; length: number }> };
    p += jsonLen;
    const columns: TableImage['columns'] = [];
    for (const c of d.columns) {
      columns.push({ name: c.name, bytes: buf.subarray(p, p + c.length) });
      p += c.length;
    }
    if (p !== buf.length) return undefined;
    const table = MessageTable.fromImage({ ...d, columns });
    if (!table) return undefined;
    const pseudo = d.pseudo ?? undefined;
    if (pseudo && pseudo.date === null) pseudo.date = NaN; // JSON has no NaN
    return { table, pseudo };
  } catch {
    return undefined;
  }
}

/** Keep the scan of a file in this state (written to a temporary name, then renamed). */
export function saveScan(k: FileKey, table: MessageTable, pseudo: ScannedMessage | undefined): void {
  const f = fileFor(k);
  if (!f || !cacheDir) return;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const img = table.image();
    const key = Buffer.from(`${keyText(k)}\n`, 'latin1');
    let json = Buffer.from(JSON.stringify({ ...img, pseudo: pseudo ?? null, columns: img.columns.map((c) => ({ name: c.name, length: c.bytes.length })) }), 'utf8');
    // Spaces after the JSON put the columns at a multiple of 8 bytes: read
    // back, they can be used where they lie (table.ts fromImage).
    const pad = (8 - ((key.length + 4 + json.length) % 8)) % 8;
    if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.length, 0);
    const tmp = `${f}.${process.pid}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, key);
      writeSync(fd, len);
      writeSync(fd, json);
      for (const c of img.columns) writeSync(fd, c.bytes);
      // No fsync: a cache entry torn by a crash fails its length check and is ignored.
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, f);
  } catch {
    /* a cache that cannot be written is no cache */
  }
}
