/**
 * Giving memory back while a session waits for its client.
 *
 * A session is a process that spends most of its life idle between
 * commands. Opening a large mailbox or answering a large FETCH leaves
 * garbage behind — objects V8 has not collected yet, and the freed
 * ArrayBuffers of the C heap that glibc keeps — and an idle process never
 * allocates again to make V8 collect it. When a session has gone quiet after
 * work that grew its resident memory noticeably, one full collection and a
 * malloc_trim(3) return it: a few milliseconds the client never waits for,
 * since it happens after the response went out and only while no command
 * is pending.
 */
import { runInNewContext } from 'node:vm';
import { mallocTrim } from './posix.js';
import { v8Module } from './lazy.js'; // node:v8 loads Node's stream code: not before the greeting

/** Resident growth since the last relief that makes one worth it. */
const GROWTH = 8 << 20;
/** How long the session must have been quiet. */
const QUIET_MS = 200;

type Gc = () => void;
let gcFn: Gc | null | undefined;

/** V8's collector, without starting Node with --expose-gc (the flag is read when a context is made). */
function collector(): Gc | null {
  if (gcFn === undefined) {
    try {
      v8Module().setFlagsFromString('--expose-gc');
      const g = runInNewContext('gc') as unknown;
      gcFn = typeof g === 'function' ? (g as Gc) : null;
    } catch {
      gcFn = null;
    }
  }
  return gcFn;
}

export class MemoryRelief {
  private timer: NodeJS.Timeout | undefined;
  private base = process.memoryUsage.rss();
  private working = false;
  private quietSince = 0;

  /** A command is being worked on: no relief now. */
  busy(): void {
    this.working = true;
  }

  /**
   * The session waits for its client: relieve memory if it stays quiet.
   * One timer at a time, which looks at the state when it fires: 50,000
   * POP3 RETRs set and cleared a timer each.
   */
  idle(): void {
    this.working = false;
    this.quietSince = Date.now();
    if (!this.timer) this.arm(QUIET_MS);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.working) return; // the next idle() arms it again
      const left = this.quietSince + QUIET_MS - Date.now();
      if (left > 0) this.arm(left);
      else this.relieve();
    }, ms);
    this.timer.unref();
  }

  /** Collect and trim when memory grew by GROWTH since the last time (or always with `force`). True if it did. */
  relieve(force = false): boolean {
    if (!force && process.memoryUsage.rss() - this.base < GROWTH) return false;
    const gc = collector();
    if (!gc) return false;
    gc(); // a full, forced collection: with { type: 'major' } V8 left the freed ArrayBuffers in place
    mallocTrim();
    this.base = process.memoryUsage.rss();
    return true;
  }
}
