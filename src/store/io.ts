/** Positional file I/O the drivers share. */
import { readSync, fstatSync, writevSync, writeSync } from 'node:fs';

/** Up to `len` bytes at `pos` (fewer only at the end of the file). */
export function preadFully(fd: number, len: number, pos: number, into?: Buffer): Buffer {
  const b = into && into.length >= len ? into : Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

/** The whole file behind `fd`. */
export function readAllFd(fd: number): Buffer {
  return preadFully(fd, fstatSync(fd).size, 0);
}

/**
 * A buffer to read into (64 KB unless told), reused from one read to the
 * next (its contents are only valid until the next call). A larger request
 * gets a buffer of its own, which is not kept.
 */
export class Scratch {
  private buf: Buffer;
  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }
  get(len: number): Buffer {
    if (len > this.buf.length) return Buffer.allocUnsafe(len);
    return this.buf;
  }
}

/**
 * Memory for a batch of reads that all die together (a COPY's batch of
 * messages): handed out in order from one buffer, taken back at once with
 * reset(). A request that does not fit gets a buffer of its own. Without
 * it every message read is a separate allocation outside V8's heap, and
 * up to 64 MB of them wait, dead, for the collector (the COPY at 50,000
 * messages peaked at 130 MB).
 */
export class Slab {
  private readonly buf: Buffer;
  private used = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  take(len: number): Buffer {
    if (this.used + len > this.buf.length) return Buffer.allocUnsafe(len);
    const b = this.buf.subarray(this.used, this.used + len);
    this.used += len;
    return b;
  }
  /** Everything handed out is dead: start again from the beginning. */
  reset(): void {
    this.used = 0;
  }
}

/** Where `byte` next is in buf[from, end), or `end` (indexOf, that is memchr, bounded). */
export function indexIn(buf: Buffer, byte: number, from: number, end: number): number {
  const i = buf.indexOf(byte, from);
  return i < 0 || i >= end ? end : i;
}

/**
 * Write `parts` one after another at `pos` with writev (no concatenated
 * copy of them); a short write is finished part by part.
 */
export function writevFully(fd: number, parts: readonly Buffer[], pos: number): void {
  let w = writevSync(fd, parts as Buffer[], pos);
  let at = pos;
  for (const b of parts) {
    if (w >= b.length) {
      w -= b.length;
      at += b.length;
      continue;
    }
    let o = w;
    w = 0;
    while (o < b.length) o += writeSync(fd, b, o, b.length - o, at + o);
    at += b.length;
  }
}
