/**
 * Persistent scan cache (beyond UW): every IMAP or POP3 connection is a new
 * process, and scanning a large mbox is most of the cost of opening it. The
 * result of a scan is kept in the user's own cache directory, keyed by the
 * file's device, inode, size, mtime and ctime (ctime changes with every
 * write and cannot be set back), and used instead of a scan while all of
 * them are unchanged. A stale entry is simply ignored; an entry is synced
 * to disk before it takes its name, so a crash cannot leave a torn one
 * (its columns are used as they lie, not checked row by row: table.ts
 * fromImage).
 */
import { openSync, closeSync, readFileSync, readSync, renameSync, mkdirSync, unlinkSync, fsyncSync, fstatSync, constants } from 'node:fs';
import { mapFile } from '../../../runtime/posix.js';
import { writevFully } from '../../io.js';
import { join } from 'node:path';
import type { ScannedMessage } from './scan.js';
import { MessageTable, type TableImage } from './table.js';
import { deriveForCache } from './derive.js';

const VERSION = 6; // 3: binary numbers and a string table; 4: private ranges joined, no From lines; 5: the message table's columns; 6: 32-bit offsets, sizes and UIDs
let cacheDir: string | undefined;

/** Where scan caches live (the store sets `<mail root>/.uwimap-cache`); undefined turns the cache off. */
export function setScanCacheDir(dir: string | undefined): void {
  cacheDir = dir;
}
/** Whether scans (and header-field indexes) are kept at all. */
export function scanCacheOn(): boolean {
  return cacheDir !== undefined;
}

export interface FileKey {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const nameFor = (k: FileKey) => `${k.dev.toString(16)}-${k.ino.toString(16)}.scan`;
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
  /**
   * Present when the table's uid, sys and kw columns hold what a first open
   * derives from the stored values (derive.ts), with the UIDLAST that gives
   * and whether every message is old and numbered in the file.
   */
  derived?: { uidLast: number; clean: boolean };
}

/**
 * A file of the cache directory whose first line is `key`: its bytes and
 * where the line after the key starts; undefined when it is missing, not
 * readable or kept for another key. With `map`, the bytes are the file
 * mapped copy-on-write where that can be done (posix.ts mapFile): nothing
 * read or copied, and pages shared by every session that maps the same
 * entry (cache files are replaced by rename, never shortened in place).
 */
export function readCacheFile(name: string, key: string, map = false): { buf: Buffer; at: number } | undefined {
  if (!cacheDir) return undefined;
  let buf: Buffer;
  try {
    buf = (map && mapped(join(cacheDir, name))) || readFileSync(join(cacheDir, name));
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0 || buf.toString('latin1', 0, nl) !== key) return undefined;
  return { buf, at: nl + 1 };
}

function mapped(path: string): Buffer | undefined {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const ab = mapFile(fd, fstatSync(fd).size);
    return ab && Buffer.from(ab);
  } finally {
    closeSync(fd);
  }
}

/** The first line (key) of a file of the cache directory, read alone; undefined when there is none. */
export function cacheFileKey(name: string): string | undefined {
  if (!cacheDir) return undefined;
  try {
    const fd = openSync(join(cacheDir, name), constants.O_RDONLY);
    try {
      const b = Buffer.alloc(256);
      const n = readSync(fd, b, 0, b.length, 0);
      const nl = b.subarray(0, n).indexOf(10);
      return nl < 0 ? undefined : b.toString('latin1', 0, nl);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Write a file of the cache directory: `key` as its first line, then
 * `parts`, under a temporary name renamed into place once synced (the
 * rename is then never seen before the bytes, whatever the file system
 * does in a crash). False when it could not be written (a cache that
 * cannot be written is no cache).
 */
export function writeCacheFile(name: string, key: string, parts: readonly Buffer[]): boolean {
  const staged = stageCacheFile(name, key, parts, true);
  return !!staged && staged.commit();
}

/** A cache file written under its temporary name, to be renamed into place (commit) or removed (discard). */
export interface StagedFile {
  commit(): boolean;
  discard(): void;
}

/**
 * writeCacheFile in two steps: the bytes now, the rename when the caller
 * knows they hold. Synced only when `durable`: a file whose every entry is
 * checked against the mailbox when used (the header-field index) needs no
 * sync, a torn entry failing its check.
 */
export function stageCacheFile(name: string, key: string, parts: readonly Buffer[], durable = false): StagedFile | undefined {
  if (!cacheDir) return undefined;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const f = join(cacheDir, name);
    const tmp = `${f}.${process.pid}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writevFully(fd, [Buffer.from(`${key}\n`, 'latin1'), ...parts], 0);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const discard = () => {
      try {
        unlinkSync(tmp);
      } catch {
        /* gone already */
      }
    };
    return {
      commit: () => {
        try {
          renameSync(tmp, f);
          return true;
        } catch {
          discard();
          return false;
        }
      },
      discard,
    };
  } catch {
    return undefined;
  }
}

/** The cached scan of a file in exactly this state, or undefined. */
export function loadScan(k: FileKey): CachedScan | undefined {
  const file = readCacheFile(nameFor(k), keyText(k), true);
  if (!file) return undefined;
  const { buf } = file;
  try {
    let p = file.at;
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
    const dv = (d as { derived?: { uidLast?: unknown; clean?: unknown } }).derived;
    const derived = dv && Number.isInteger(dv.uidLast) && typeof dv.clean === 'boolean' ? { uidLast: dv.uidLast as number, clean: dv.clean } : undefined;
    return { table, pseudo, derived };
  } catch {
    return undefined;
  }
}

/** Keep the scan of a file in this state (written to a temporary name, then renamed). */
export function saveScan(k: FileKey, table: MessageTable, pseudo: ScannedMessage | undefined): void {
  if (!cacheDir) return;
  const img = table.image();
  // The UID, flag and keyword columns as a first open derives them (this
  // session's own \Recent bits are not the next one's), so that the next
  // open can skip that pass.
  const dv = deriveForCache(table, pseudo);
  if (dv) {
    const as = { uid: dv.uid, sys: dv.sys, kw: dv.kw } as const;
    for (const c of img.columns) {
      const a = as[c.name as keyof typeof as];
      if (a) c.bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    }
  }
  const derived = dv && { uidLast: dv.uidLast, clean: dv.clean };
  const key = `${keyText(k)}\n`;
  let json = Buffer.from(JSON.stringify({ ...img, pseudo: pseudo ?? null, derived, columns: img.columns.map((c) => ({ name: c.name, length: c.bytes.length })) }), 'utf8');
  // Spaces after the JSON put the columns at a multiple of 8 bytes: read
  // back, they can be used where they lie (table.ts fromImage).
  const pad = (8 - ((key.length + 4 + json.length) % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  writeCacheFile(nameFor(k), keyText(k), [len, json, ...img.columns.map((c) => c.bytes)]);
}
