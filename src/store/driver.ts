/**
 * The driver boundary inside the store: one driver per on-disk format
 * (drivers/unix = traditional mbox, drivers/mbx, drivers/mix, drivers/dummy
 * for directories and absent INBOX). The Store (src/store/store.ts) resolves
 * a name to a path and asks the drivers, in UW's probe order, which one owns it.
 */
import type { Probe } from './probe.js';
import type { AppendMessage, AppendResult, Mailbox, OpenOptions, StatusInfo } from './types.js';
import type { Log } from '../runtime/log.js';

/** Everything a driver needs to know about the session it works for. */
export interface DriverContext {
  /** Login name, for From lines ("From user@host …") and lock diagnostics. */
  user: string;
  /** Host name for the pseudo-message and From lines. */
  hostname: string;
  log: Log;
  /** Mode for new mailbox files (0600 personal, 0660 #shared …). */
  fileMode: number;
  /** Mode for new directories. */
  dirMode: number;
  /** Minutes a dot-lock may age before it is seized (UW: 5). */
  dotLockTimeout: number;
  /** Longest wait for a flock/fcntl lock held by another process, in seconds (default 300). */
  lockWait?: number;
  /** Directory for /tmp/.<dev>.<ino> locks (UW: /tmp). */
  lockDirectory: string;
  /** Path of an mlock-style helper for spools that are not 1777, if any. */
  mlockPath?: string;
  /** Keywords to define in new mailboxes. */
  defaultKeywords: string[];
  /**
   * mail-fsync = always: flag-only writes (STORE) are fsync'd before the
   * reply. Otherwise (optimized, the default) they are written at once and
   * left to the kernel's writeback; whatever holds messages is synced either way.
   */
  syncFlags?: boolean;
}

export interface CreateOptions {
  /** Keywords to predefine. */
  keywords?: string[];
}

export interface Driver {
  readonly name: string;
  /** Directory format (mix): a mailbox that is a directory and may have children. */
  readonly directoryFormat: boolean;
  /** Validity test: does `path` hold a mailbox in this format? Must not throw. */
  detect(path: string): Promise<boolean>;
  /** The same test on a probe of the path (probe.ts), which the store makes once for every driver. */
  recognise(probe: Probe): boolean;
  create(path: string, ctx: DriverContext, opts?: CreateOptions): Promise<void>;
  open(path: string, name: string, ctx: DriverContext, opts?: OpenOptions): Promise<Mailbox>;
  /** Delete the mailbox at path (the Store has checked it is not INBOX). */
  delete(path: string, ctx: DriverContext): Promise<void>;
  rename(from: string, to: string, ctx: DriverContext): Promise<void>;
  /** STATUS without a full open where the format allows it. */
  status(path: string, ctx: DriverContext): Promise<StatusInfo>;
  /** Append to a mailbox that is not open in this session. All-or-nothing. */
  append(path: string, messages: AppendMessage[], ctx: DriverContext): Promise<AppendResult>;
}
