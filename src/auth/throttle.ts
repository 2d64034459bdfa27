/**
 * Throttling of password guessing, shared by the per-connection processes
 * through SQLite: failed logins make later attempts from the same address or
 * for the same user wait longer (UW's 3 s, doubling, capped), and a per-user
 * logins-per-hour limit stops clients that open hundreds of sessions.
 */
import type Database from 'better-sqlite3';
import { sqlite } from '../runtime/lazy.js';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';

const WINDOW = 3600; // seconds a failure is remembered

export class Throttle {
  private db: Database.Database | undefined;
  private mem = new Map<string, { count: number; last: number }>();
  constructor(
    private readonly cfg: Config,
    private readonly log: Log,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  private open(): Database.Database | undefined {
    if (this.db) return this.db;
    const path = this.cfg.str('throttle-db') || join(this.cfg.str('state-directory'), 'throttle.sqlite');
    try {
      const Db = sqlite();
      const db = new Db(path);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 2000');
      db.exec('CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, count INTEGER NOT NULL, last INTEGER NOT NULL)');
      db.exec('CREATE TABLE IF NOT EXISTS logins (user TEXT NOT NULL, at INTEGER NOT NULL)');
      this.db = db;
    } catch (e) {
      this.log.warning(`Login throttling uses per-process memory only: cannot open ${path}: ${(e as Error).message}`);
    }
    return this.db;
  }

  private get(key: string): { count: number; last: number } {
    const db = this.open();
    const row = db ? (db.prepare('SELECT count, last FROM failures WHERE key = ?').get(key) as { count: number; last: number } | undefined) : this.mem.get(key);
    if (!row || this.now() - row.last > WINDOW) return { count: 0, last: 0 };
    return row;
  }
  /** Count one more failure, atomically (several processes update the same row at once). */
  private bump(key: string): number {
    const now = this.now();
    const db = this.open();
    if (db) {
      const row = db
        .prepare('INSERT INTO failures (key, count, last) VALUES (?, 1, ?) ON CONFLICT(key) DO UPDATE SET count = CASE WHEN ? - last > ? THEN 1 ELSE count + 1 END, last = excluded.last RETURNING count')
        .get(key, now, now, WINDOW) as { count: number };
      return row.count;
    }
    const cur = this.get(key);
    const next = { count: cur.count + 1, last: now };
    this.mem.set(key, next);
    return next.count;
  }

  delayFor(count: number): number {
    if (count <= 0) return 0;
    const base = this.cfg.int('login-failure-delay');
    const max = this.cfg.int('login-failure-delay-max');
    return Math.min(base * 2 ** Math.min(count - 1, 20), max) * 1000;
  }

  /** Record a failure; returns the delay (ms) before answering. */
  recordFailure(user: string, address: string): number {
    const a = this.bump(`addr:${address}`);
    const u = this.bump(`user:${user}`);
    const n = Math.max(a, u);
    if (n > 1) this.log.notice(`Login failures user=${user} host=[${address}] count=${n}`);
    return this.delayFor(n);
  }

  /** Wait owed before checking a password, given earlier failures (ms). */
  pendingDelay(user: string, address: string): number {
    const a = this.get(`addr:${address}`);
    const u = this.get(`user:${user}`);
    const worst = a.count >= u.count ? a : u;
    if (!worst.count) return 0;
    const until = worst.last * 1000 + this.delayFor(worst.count);
    return Math.max(0, until - this.now() * 1000);
  }

  /** Record a successful login; true when the user is over the per-hour session limit. */
  recordSuccess(user: string, address: string): boolean {
    const db = this.open();
    if (db) db.prepare('DELETE FROM failures WHERE key = ?').run(`addr:${address}`);
    else this.mem.delete(`addr:${address}`);
    const limit = this.cfg.int('max-sessions-per-user-hour');
    if (!limit || !db) return false;
    const now = this.now();
    db.prepare('DELETE FROM logins WHERE at < ?').run(now - 3600);
    const n = (db.prepare('SELECT COUNT(*) AS n FROM logins WHERE user = ?').get(user) as { n: number }).n;
    if (n >= limit) {
      this.log.notice(`Login refused user=${user} host=[${address}]: more than ${limit} sessions this hour`);
      return true;
    }
    db.prepare('INSERT INTO logins (user, at) VALUES (?, ?)').run(user, now);
    return false;
  }
}
