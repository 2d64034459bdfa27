/**
 * Password-check modules ("checkpw" in UW): passwd/shadow through crypt(3),
 * sqlite virtual users, UW's CRAM-MD5/APOP secrets file, an external
 * checkpassword program, and nul.
 */
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { childProcess, nodeCrypto } from '../runtime/lazy.js';
import { bcrypt } from '../runtime/lazy.js';
import type { AuthContext, CheckResult, CheckpwModule, Identity, ScramCredentials } from './types.js';
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import * as posix from '../runtime/posix.js';
import { UserDb } from './users-db.js';

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  if (x.length !== y.length) {
    nodeCrypto().timingSafeEqual(x, x);
    return false;
  }
  return nodeCrypto().timingSafeEqual(x, y);
}

interface PwEntry {
  name: string;
  passwd: string;
  uid: number;
  gid: number;
  dir: string;
}

function readColonFile(path: string, name: string): string[] | undefined {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return f;
  }
  return undefined;
}

/** Supplementary groups of a system user from /etc/group (NSS-free fallback). */
export function groupsOf(user: string, gid: number): number[] {
  const out = new Set<number>([gid]);
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && f[3].split(',').includes(user)) out.add(Number(f[2]));
    }
  } catch {
    /* no group file */
  }
  return [...out];
}

function systemIdentity(pw: PwEntry, module: string, restrict: boolean): Identity {
  return { user: pw.name, uid: pw.uid, gid: pw.gid, groups: groupsOf(pw.name, pw.gid), home: pw.dir, restrict, virtual: false, module };
}

export class PasswdModule implements CheckpwModule {
  readonly name = 'passwd';
  constructor(private readonly cfg: Config) {}
  private lookupPw(user: string): PwEntry | undefined {
    const file = this.cfg.str('passwd-file');
    if (file) {
      const f = readColonFile(file, user);
      if (!f || f.length < 7) return undefined;
      return { name: f[0], passwd: f[1], uid: Number(f[2]), gid: Number(f[3]), dir: f[5] };
    }
    const p = posix.getpwnam(user);
    return p ? { name: p.name, passwd: p.passwd, uid: p.uid, gid: p.gid, dir: p.dir } : undefined;
  }
  private shadow(user: string): posix.Shadow | undefined {
    const file = this.cfg.str('shadow-file');
    if (file) {
      const f = readColonFile(file, user);
      if (!f) return undefined;
      const n = (s: string | undefined) => (s === undefined || s === '' ? -1 : Number(s));
      return { name: f[0], passwd: f[1], lastChange: n(f[2]), min: n(f[3]), max: n(f[4]), warn: n(f[5]), inactive: n(f[6]), expire: n(f[7]) };
    }
    return posix.getspnam(user);
  }
  async lookup(user: string): Promise<Identity | undefined> {
    const pw = this.lookupPw(user);
    return pw ? systemIdentity(pw, this.name, this.cfg.bool('restrict-system-users')) : undefined;
  }
  async checkPassword(user: string, password: string): Promise<CheckResult> {
    let pw = this.lookupPw(user);
    if (!pw && /[A-Z]/.test(user)) pw = this.lookupPw(user.toLowerCase()); // UW retries lower case
    if (!pw) return { status: 'unknown' };
    let hash = pw.passwd;
    const alerts: string[] = [];
    const sp = hash === 'x' || hash === '*' || hash === '' ? this.shadow(pw.name) : undefined;
    if (sp) {
      hash = sp.passwd;
      const today = Math.floor(Date.now() / 86400000);
      if (sp.lastChange === 0) return { status: 'fail', reason: 'password must be changed' };
      if (sp.max > 0 && sp.lastChange > 0 && sp.lastChange + sp.max < today) return { status: 'fail', reason: 'password expired' };
      if (sp.expire > 0 && sp.expire <= today) return { status: 'fail', reason: 'account expired' };
      if (sp.max > 0 && sp.lastChange > 0) {
        const left = sp.lastChange + sp.max - today;
        if (left < 28) alerts.push(left === 0 ? 'Password expires today!' : `Password expires in ${left} day(s)`);
      }
      if (sp.expire > 0 && sp.expire - today < 28) alerts.push(`Account expires in ${sp.expire - today} day(s)`);
    }
    if (!hash || hash.length < 2 || hash.startsWith('!') || hash.startsWith('*')) return { status: 'fail', reason: 'account locked or has no password' };
    const computed = posix.crypt(password, hash);
    if (computed === null || !safeEqual(computed, hash)) return { status: 'fail', reason: 'wrong password' };
    const id = systemIdentity(pw, this.name, this.cfg.bool('restrict-system-users'));
    if (alerts.length) id.alerts = alerts;
    return { status: 'ok', identity: id };
  }
}

function expand(template: string, user: string): string {
  const at = user.lastIndexOf('@');
  const local = at < 0 ? user : user.slice(0, at);
  const domain = at < 0 ? '' : user.slice(at + 1);
  return template.replace(/%u/g, user).replace(/%n/g, local).replace(/%d/g, domain);
}

export class SqliteModule implements CheckpwModule {
  readonly name = 'sqlite';
  private db: UserDb | undefined;
  constructor(private readonly cfg: Config) {}
  private open(): UserDb | undefined {
    if (this.db) return this.db;
    const path = this.cfg.str('virtual-users-db') || join(this.cfg.str('state-directory'), 'users.sqlite');
    if (!existsSync(path)) return undefined;
    this.db = new UserDb(path, true);
    return this.db;
  }
  private identity(user: string): Identity | undefined {
    const row = this.open()?.get(user);
    if (!row) return undefined;
    const uid = row.uid ?? this.cfg.int('virtual-uid');
    const gid = row.gid ?? this.cfg.int('virtual-gid');
    const root = row.mail_root ?? expand(this.cfg.str('virtual-mail-root'), user);
    return { user, uid, gid, groups: [gid], home: root, mailRoot: root, inbox: join(root, 'INBOX'), restrict: true, virtual: true, quota: row.quota ?? undefined, module: this.name };
  }
  async lookup(user: string): Promise<Identity | undefined> {
    return this.identity(user);
  }
  async checkPassword(user: string, password: string): Promise<CheckResult> {
    const row = this.open()?.get(user);
    if (!row) return { status: 'unknown' };
    if (!row.enabled) return { status: 'fail', reason: 'account disabled' };
    if (!(await bcrypt().compare(password, row.hash))) return { status: 'fail', reason: 'wrong password' };
    return { status: 'ok', identity: this.identity(user)! };
  }
  async getScram(user: string): Promise<ScramCredentials | undefined> {
    const row = this.open()?.get(user);
    if (!row || !row.enabled || !row.scram_salt || !row.scram_stored || !row.scram_server) return undefined;
    return { salt: row.scram_salt, iterations: row.scram_iter ?? 4096, storedKey: row.scram_stored, serverKey: row.scram_server, identity: this.identity(user)! };
  }
}

/** UW's /etc/cram-md5.pwd: "user<TAB>password" lines; its users must exist in the password database. */
export class CramMd5Module implements CheckpwModule {
  readonly name = 'cram-md5';
  constructor(
    private readonly cfg: Config,
    private readonly log: Log,
    private readonly passwd: PasswdModule,
  ) {}
  available(): boolean {
    return existsSync(this.cfg.str('cram-md5-file'));
  }
  private secretOf(user: string): string | undefined {
    const path = this.cfg.str('cram-md5-file');
    let text: string;
    try {
      const st = statSync(path);
      if (st.mode & 0o077) {
        this.log.error(`${path} is readable or writable by group or others; refusing to use it (chmod 0400)`);
        return undefined;
      }
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    let lower: string | undefined;
    for (const line of text.split(/\r?\n|\r/)) {
      if (!line || line.startsWith('#')) continue;
      const tab = line.indexOf('\t');
      if (tab <= 0 || tab === line.length - 1) continue;
      const u = line.slice(0, tab);
      const p = line.slice(tab + 1);
      if (u === user) return p;
      if (lower === undefined && u.toLowerCase() === user.toLowerCase()) lower = p;
    }
    return lower;
  }
  async getSecret(user: string): Promise<{ secret: string; identity: Identity } | undefined> {
    const secret = this.secretOf(user);
    if (secret === undefined) return undefined;
    const identity = await this.passwd.lookup(user);
    if (!identity) return undefined;
    return { secret, identity: { ...identity, module: this.name } };
  }
  async checkPassword(user: string, password: string): Promise<CheckResult> {
    const s = await this.getSecret(user);
    if (!s) return { status: 'unknown' };
    return safeEqual(password, s.secret) ? { status: 'ok', identity: s.identity } : { status: 'fail', reason: 'wrong password' };
  }
}

/** checkpassword (DJB): fd 3 gets user\0password\0timestamp\0; exit 0 = accepted. */
export class ExternalModule implements CheckpwModule {
  readonly name = 'external';
  constructor(
    private readonly cfg: Config,
    private readonly passwd: PasswdModule,
  ) {}
  async checkPassword(user: string, password: string): Promise<CheckResult> {
    const prog = this.cfg.str('checkpassword');
    if (!prog) return { status: 'unknown' };
    const code = await new Promise<number>((resolve) => {
      const child = childProcess().spawn(prog, ['true'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.cfg.int('checkpassword-timeout') * 1000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? 111);
      });
      child.on('error', () => resolve(111));
      const fd3 = child.stdio[3] as NodeJS.WritableStream;
      fd3.on('error', () => undefined);
      fd3.end(Buffer.concat([Buffer.from(user), Buffer.from([0]), Buffer.from(password), Buffer.from([0]), Buffer.from(String(Math.floor(Date.now() / 1000))), Buffer.from([0])]));
    });
    if (code === 0) {
      const id = await this.passwd.lookup(user);
      if (!id) return { status: 'fail', reason: 'accepted by checkpassword but unknown to the system' };
      return { status: 'ok', identity: { ...id, module: this.name } };
    }
    if (code === 1) return { status: 'fail', reason: 'rejected by checkpassword' };
    return { status: 'fail', reason: `checkpassword failed (${code})` };
  }
}

export class NulModule implements CheckpwModule {
  readonly name = 'nul';
  readonly forbidsPlaintext = true;
  async checkPassword(): Promise<CheckResult> {
    return { status: 'fail', reason: 'plaintext passwords are disabled (nul module)' };
  }
}

export type { AuthContext };
