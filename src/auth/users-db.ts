/**
 * Virtual users in SQLite (better-sqlite3): bcrypt password hashes
 * (bcryptjs), SCRAM-SHA-256 secrets, per-user uid/gid/mail root/quota and an
 * enabled flag. Used by the sqlite module, the uwimap-users admin CLI and the
 * demo setup.
 */
import type Database from 'better-sqlite3';
import { sqlite, bcrypt as loadBcrypt } from '../runtime/lazy.js';
import { nodeCrypto } from '../runtime/lazy.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface UserRow {
  user: string;
  hash: string;
  uid: number | null;
  gid: number | null;
  mail_root: string | null;
  quota: number | null;
  enabled: number;
  scram_salt: Buffer | null;
  scram_iter: number | null;
  scram_stored: Buffer | null;
  scram_server: Buffer | null;
}

export interface NewUser {
  user: string;
  password: string;
  uid?: number;
  gid?: number;
  mailRoot?: string;
  quota?: number;
  enabled?: boolean;
}

const SCRAM_ITERATIONS = 4096;

export function scramSecrets(password: string, salt = nodeCrypto().randomBytes(16), iterations = SCRAM_ITERATIONS) {
  const salted = nodeCrypto().pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = nodeCrypto().createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = nodeCrypto().createHash('sha256').update(clientKey).digest();
  const serverKey = nodeCrypto().createHmac('sha256', salted).update('Server Key').digest();
  return { salt, iterations, storedKey, serverKey };
}

export class UserDb {
  readonly db: Database.Database;
  constructor(path: string, readonly: boolean = false) {
    if (!readonly) mkdirSync(dirname(path), { recursive: true });
    const Db = sqlite();
    this.db = new Db(path, { readonly, fileMustExist: readonly });
    if (!readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS users (
        user TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        uid INTEGER, gid INTEGER, mail_root TEXT, quota INTEGER,
        enabled INTEGER NOT NULL DEFAULT 1,
        scram_salt BLOB, scram_iter INTEGER, scram_stored BLOB, scram_server BLOB
      )`);
    }
    this.db.pragma('busy_timeout = 5000');
  }
  get(user: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE user = ?').get(user) as UserRow | undefined;
  }
  addUser(u: NewUser): void {
    if (u.uid === 0) throw new Error('virtual users may not run as uid 0');
    const s = scramSecrets(u.password);
    this.db
      .prepare('INSERT INTO users (user, hash, uid, gid, mail_root, quota, enabled, scram_salt, scram_iter, scram_stored, scram_server) VALUES (?,?,?,?,?,?,?,?,?,?,?)')
      .run(u.user, loadBcrypt().hashSync(u.password, 10), u.uid ?? null, u.gid ?? null, u.mailRoot ?? null, u.quota ?? null, u.enabled === false ? 0 : 1, s.salt, s.iterations, s.storedKey, s.serverKey);
  }
  setPassword(user: string, password: string): boolean {
    const s = scramSecrets(password);
    return this.db.prepare('UPDATE users SET hash = ?, scram_salt = ?, scram_iter = ?, scram_stored = ?, scram_server = ? WHERE user = ?').run(loadBcrypt().hashSync(password, 10), s.salt, s.iterations, s.storedKey, s.serverKey, user).changes === 1;
  }
  setEnabled(user: string, enabled: boolean): boolean {
    return this.db.prepare('UPDATE users SET enabled = ? WHERE user = ?').run(enabled ? 1 : 0, user).changes === 1;
  }
  removeUser(user: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE user = ?').run(user).changes === 1;
  }
  listUsers(): UserRow[] {
    return this.db.prepare('SELECT * FROM users ORDER BY user').all() as UserRow[];
  }
  close(): void {
    this.db.close();
  }
}

export function openUserDb(path: string): UserDb {
  return new UserDb(path);
}
