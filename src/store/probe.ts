/**
 * What is at a mailbox path, found with as few system calls as the format
 * checks need: one stat, and for a regular file one open and one read of its
 * first bytes (enough for the mbx header and a unix From line). Every
 * driver's recognise() looks at the same probe, so finding a mailbox's
 * format costs one probe, not a stat, open and read per driver (and no
 * exception when something is absent). Never throws.
 */
import { statSync, openSync, closeSync, readSync, constants } from 'node:fs';

/** Bytes of a file's start kept in a probe: the mbx header, the longest check. */
export const PROBE_HEAD = 2048;

export interface Probe {
  readonly path: string;
  readonly file: boolean;
  readonly directory: boolean;
  /** A regular file's size (0 for anything else). */
  readonly size: number;
  /** A regular file we could open for reading. */
  readonly readable: boolean;
  /** A regular file's first bytes (up to PROBE_HEAD); empty otherwise. */
  readonly head: Buffer;
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
  const other: Probe = { path, file: false, directory: st.isDirectory(), size: 0, readable: false, head: EMPTY };
  if (!st.isFile()) return other;
  const unread: Probe = { ...other, file: true, size: st.size };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return unread;
  }
  try {
    const b = Buffer.allocUnsafe(PROBE_HEAD);
    return { ...unread, readable: true, head: b.subarray(0, readSync(fd, b, 0, PROBE_HEAD, 0)) };
  } catch {
    return unread;
  } finally {
    closeSync(fd);
  }
}

/** A driver's detect(): its recognise() on a probe of `path` (false when nothing is there). */
export function recognisedAt(driver: { recognise(p: Probe): boolean }, path: string): boolean {
  const p = probePath(path);
  return !!p && driver.recognise(p);
}
