/**
 * What is at a mailbox path, found with as few system calls as the format
 * checks need: one stat, and for a regular file one open and one read of its
 * first bytes (enough for the mbx header and a unix From line); for a
 * directory, whether it holds a regular `.mixmeta`. Every driver's detect()
 * looks at the same probe, so finding a mailbox's format costs one probe,
 * not a stat, open and read per driver (and no exception when something is
 * absent). Never throws.
 */
import { statSync, openSync, closeSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';

/** Bytes of a file's start kept in a probe: the mbx header, the longest check. */
export const PROBE_HEAD = 2048;

export interface Probe {
  readonly file: boolean;
  readonly directory: boolean;
  /** A regular file's size (0 for anything else). */
  readonly size: number;
  /** A regular file we could open for reading. */
  readonly readable: boolean;
  /** A regular file's first bytes (up to PROBE_HEAD); empty otherwise. */
  readonly head: Buffer;
  /** A directory holding a regular `.mixmeta` (a mix mailbox). */
  readonly mixMeta: boolean;
}

const EMPTY = Buffer.alloc(0);

export function probePath(path: string): Probe | undefined {
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (!st) return undefined;
  if (st.isDirectory()) {
    let meta;
    try {
      meta = statSync(join(path, '.mixmeta'), { throwIfNoEntry: false });
    } catch {
      meta = undefined;
    }
    return { file: false, directory: true, size: 0, readable: false, head: EMPTY, mixMeta: !!meta?.isFile() };
  }
  if (!st.isFile()) return { file: false, directory: false, size: 0, readable: false, head: EMPTY, mixMeta: false };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return { file: true, directory: false, size: st.size, readable: false, head: EMPTY, mixMeta: false };
  }
  try {
    const b = Buffer.allocUnsafe(PROBE_HEAD);
    const n = readSync(fd, b, 0, PROBE_HEAD, 0);
    return { file: true, directory: false, size: st.size, readable: true, head: b.subarray(0, n), mixMeta: false };
  } catch {
    return { file: true, directory: false, size: st.size, readable: false, head: EMPTY, mixMeta: false };
  } finally {
    closeSync(fd);
  }
}
