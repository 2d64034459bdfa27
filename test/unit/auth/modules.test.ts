import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHmac, createHash } from 'node:crypto';
import { Config } from '../../../src/config/index.js';
import { createAuthenticator } from '../../../src/auth/index.js';
import { AuthError, type AuthContext } from '../../../src/auth/types.js';
import { Throttle } from '../../../src/auth/throttle.js';
import { noLog } from '../../helpers/drivers.js';

const ctx: AuthContext = { service: 'imap', remoteAddress: '192.0.2.9', tls: true, local: false };
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function hash(kind: string, password: string): string | undefined {
  const r =
    kind === 'sha512' ? spawnSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' })
    : kind === 'sha256' ? spawnSync('openssl', ['passwd', '-5', password], { encoding: 'utf8' })
    : kind === 'md5' ? spawnSync('openssl', ['passwd', '-1', password], { encoding: 'utf8' })
    : spawnSync('mkpasswd', ['-m', kind, password], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function files(users: Array<[string, number, string]>): Config {
  dir = mkdtempSync(join(tmpdir(), 'uw-auth-'));
  const passwd = users.map(([u, uid]) => `${u}:x:${uid}:${uid}:${u}:/home/${u}:/bin/sh`).join('\n') + '\n';
  const today = Math.floor(Date.now() / 86400000);
  const shadow = users.map(([u, , h]) => (u === 'expired' ? `${u}:${h}:${today - 100}:0:30:7:::` : u === 'soon' ? `${u}:${h}:${today - 25}:0:30:7:::` : `${u}:${h}:${today}:0:99999:7:::`)).join('\n') + '\n';
  writeFileSync(join(dir, 'passwd'), passwd);
  writeFileSync(join(dir, 'shadow'), shadow);
  const c = new Config();
  c.set('passwd-file', join(dir, 'passwd'));
  c.set('shadow-file', join(dir, 'shadow'));
  c.set('auth-modules', ['passwd']);
  c.set('login-failure-delay', 0);
  c.set('state-directory', dir);
  c.set('cram-md5-file', join(dir, 'cram-md5.pwd'));
  c.set('anonymous-file', join(dir, 'anonymous.newsgroups'));
  return c;
}

describe('passwd module: shadow hashes through the system crypt(3)', () => {
  const kinds = ['yescrypt', 'sha512', 'sha256', 'md5', 'bcrypt'].filter((k) => hash(k, 'x') !== undefined);
  it.each(kinds)('%s', async (kind) => {
    const h = hash(kind, 'right horse')!;
    const c = files([
      ['user1', 1001, h],
      ['locked', 1002, '!' + h],
      ['expired', 1003, h],
      ['soon', 1004, h],
      ['root2', 0, h],
    ]);
    const a = createAuthenticator(c, noLog, 'imap');
    const id = await a.login('user1', 'right horse', ctx);
    expect(id).toMatchObject({ user: 'user1', uid: 1001, gid: 1001, home: '/home/user1', virtual: false, module: 'passwd' });
    await expect(a.login('user1', 'wrong', ctx)).rejects.toBeInstanceOf(AuthError);
    await expect(a.login('locked', 'right horse', otherAddress())).rejects.toThrow('Authentication failed');
  });
  it('refuses locked and expired accounts and root; warns before expiry; retries a lower-case name', async () => {
    const h = hash('sha512', 'pw')!;
    const c = files([
      ['locked', 1002, '!' + h],
      ['expired', 1003, h],
      ['soon', 1004, h],
      ['root2', 0, h],
      ['mixed', 1005, h],
    ]);
    c.set('allowed-login-attempts', 100);
    const a = createAuthenticator(c, noLog, 'imap');
    await expect(a.login('locked', 'pw', ctx)).rejects.toThrow('Authentication failed');
    await expect(a.login('expired', 'pw', ctx)).rejects.toThrow('Authentication failed');
    await expect(a.login('root2', 'pw', ctx)).rejects.toThrow('Authentication failed');
    const soon = await a.login('soon', 'pw', ctx);
    expect(soon.alerts?.[0]).toMatch(/^Password expires in \d+ day\(s\)$/);
    expect((await a.login('MIXED', 'pw', ctx)).user).toBe('mixed');
  });
});

function otherAddress(): AuthContext {
  return { ...ctx, remoteAddress: '192.0.2.10' };
}

describe('cram-md5 secrets file (UW format)', () => {
  it('enables CRAM-MD5 and APOP, serves plaintext logins, and is refused when readable by others', async () => {
    const c = files([['fred', 1010, '*']]);
    c.set('auth-modules', ['cram-md5', 'passwd']);
    writeFileSync(join(dir, 'cram-md5.pwd'), '# comment\nfred\tsecret\n\nnobody-without-tab\n');
    chmodSync(join(dir, 'cram-md5.pwd'), 0o400);
    const a = createAuthenticator(c, noLog, 'imap');
    expect(a.mechanisms(ctx)).toEqual(['CRAM-MD5', 'PLAIN', 'LOGIN']);
    expect(a.apopAvailable()).toBe(true);
    expect((await a.login('fred', 'secret', ctx)).uid).toBe(1010);
    // CRAM-MD5 exchange, as RFC 2195.
    const ex = a.startSasl('CRAM-MD5', ctx)!;
    expect(ex.clientFirst).toBe(false);
    const ch = await ex.step(null);
    expect(ch.type).toBe('challenge');
    const challenge = (ch as { data: Buffer }).data.toString();
    expect(challenge).toMatch(/^<\d+\.\d+@.+>$/);
    const digest = createHmac('md5', 'secret').update(challenge).digest('hex');
    const done = await ex.step(Buffer.from(`fred ${digest}`));
    expect(done.type).toBe('success');
    // APOP: MD5(challenge + secret).
    const apopChallenge = '<1896.697170952@dbc.mtview.ca.us>';
    const apop = createHash('md5').update(apopChallenge + 'secret').digest('hex');
    expect((await a.apop('fred', apopChallenge, apop, ctx)).user).toBe('fred');
    await expect(a.apop('fred', apopChallenge, '0'.repeat(32), ctx)).rejects.toBeInstanceOf(AuthError);
    chmodSync(join(dir, 'cram-md5.pwd'), 0o644);
    await expect(createAuthenticator(c, noLog, 'imap').login('fred', 'secret', ctx)).rejects.toThrow('Authentication failed');
  });
});

describe('external checkpassword and nul', () => {
  it('accepts what the program accepts (DJB interface on fd 3)', async () => {
    const c = files([['gina', 1020, '*']]);
    const prog = join(dir, 'checkpw.sh');
    writeFileSync(prog, '#!/bin/bash\nIFS= read -r -d "" user <&3; IFS= read -r -d "" pass <&3\n[ "$user" = gina ] && [ "$pass" = "open sesame" ] && exit 0\nexit 1\n');
    chmodSync(prog, 0o755);
    c.set('auth-modules', ['external']);
    c.set('checkpassword', prog);
    const a = createAuthenticator(c, noLog, 'imap');
    expect((await a.login('gina', 'open sesame', ctx)).uid).toBe(1020);
    await expect(a.login('gina', 'nope', ctx)).rejects.toBeInstanceOf(AuthError);
  });
  it('nul forbids plaintext everywhere', () => {
    const c = files([]);
    c.set('auth-modules', ['nul']);
    const a = createAuthenticator(c, noLog, 'imap');
    expect(a.plaintextAllowed({ ...ctx, tls: true })).toBe(false);
    expect(a.mechanisms(ctx)).toEqual([]);
  });
  it('the plaintext policy: tls-only allows TLS and local connections only', () => {
    const c = files([]);
    const a = createAuthenticator(c, noLog, 'imap');
    expect(a.plaintextAllowed({ ...ctx, tls: false, local: false })).toBe(false);
    expect(a.plaintextAllowed({ ...ctx, tls: true, local: false })).toBe(true);
    expect(a.plaintextAllowed({ ...ctx, tls: false, local: true })).toBe(true);
  });
});

describe('throttling shared through SQLite', () => {
  it('delays grow per address and user, decay after an hour, and are shared between instances', () => {
    const c = files([]);
    c.set('login-failure-delay', 3);
    c.set('login-failure-delay-max', 20);
    let now = 1_000_000;
    const t1 = new Throttle(c, noLog, () => now);
    const t2 = new Throttle(c, noLog, () => now); // another process, same database
    expect(t1.recordFailure('u', '198.51.100.1')).toBe(3000);
    expect(t2.recordFailure('u', '198.51.100.2')).toBe(6000); // same user, other address
    expect(t1.recordFailure('v', '198.51.100.1')).toBe(6000); // same address, other user
    expect(t2.recordFailure('u', '198.51.100.1')).toBe(12000);
    expect(t1.recordFailure('u', '198.51.100.1')).toBe(20000); // capped
    expect(t2.pendingDelay('u', '198.51.100.3')).toBeGreaterThan(0);
    now += 3601;
    expect(t1.pendingDelay('u', '198.51.100.1')).toBe(0);
    expect(t1.recordFailure('u', '198.51.100.1')).toBe(3000);
  });
  it('counts every failure when many processes fail at once (no lost updates)', async () => {
    const c = files([]);
    const { spawn } = await import('node:child_process');
    const script = join(dir, 'fail.mjs');
    const mod = new URL('../../../dist/auth/throttle.js', import.meta.url).pathname;
    writeFileSync(
      script,
      `const { Throttle } = await import(${JSON.stringify(mod)});
const cfg = { str: (k) => (k === 'state-directory' ? ${JSON.stringify(dir)} : ''), int: (k) => (k === 'login-failure-delay' ? 1 : 1000), bool: () => false };
const t = new Throttle(cfg, { debug() {}, info() {}, notice() {}, warning() {}, error() {}, crit() {}, alert() {} });
for (let i = 0; i < 25; i++) t.recordFailure('mallory', '203.0.113.' + process.argv[2]);
`,
    );
    const run = (n: number) => new Promise<number | null>((res) => spawn(process.execPath, [script, String(n)], { stdio: 'inherit' }).on('exit', res));
    expect(await Promise.all([1, 2, 3, 4].map(run))).toEqual([0, 0, 0, 0]);
    // 100 failures for the user: the next one counts 101, so the delay is at the cap.
    c.set('login-failure-delay', 1);
    c.set('login-failure-delay-max', 1000);
    const t = new Throttle(c, noLog);
    const { default: Db } = await import('better-sqlite3');
    const db = new Db(join(dir, 'throttle.sqlite'));
    const rows = db.prepare('SELECT key, count FROM failures ORDER BY key').all() as Array<{ key: string; count: number }>;
    db.close();
    expect(rows.find((r) => r.key.includes('mallory'))?.count).toBe(100);
    expect(rows.filter((r) => r.key.includes('203.0.113.')).map((r) => r.count)).toEqual([25, 25, 25, 25]);
    expect(t.pendingDelay('mallory', '198.51.100.9')).toBeGreaterThan(0);
  });
  it('limits logins per user per hour', () => {
    const c = files([]);
    c.set('max-sessions-per-user-hour', 2);
    const t = new Throttle(c, noLog);
    expect(t.recordSuccess('w', '198.51.100.1')).toBe(false);
    expect(t.recordSuccess('w', '198.51.100.1')).toBe(false);
    expect(t.recordSuccess('w', '198.51.100.1')).toBe(true);
  });
});
