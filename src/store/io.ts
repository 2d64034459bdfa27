/** Positional file I/O the drivers share. */
import { readSync, fstatSync } from 'node:fs';

/** Up to `len` bytes at `pos` (fewer only at the end of the file). */
export function preadFully(fd: number, len: number, pos: number): Buffer {
  const b = Buffer.allocUnsafe(len);
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
