import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import net from 'node:net';
import { makeSandbox, spawnDaemon, IS_ROOT, TEST_UID, type Sandbox, type StdioClient } from '../helpers/sandbox.js';
import { withVirtualUsers, startListener, TcpClient, type RunningListener } from '../helpers/servers.js';
import { noLog } from '../helpers/drivers.js';

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;
let cert = '';
let key = '';
beforeAll(() => {
  if (!HAVE_OPENSSL) return;
  cert = join(tmpdir(), `uwimap-fnd-cert-${process.pid}.pem`);
  key = join(tmpdir(), `uwimap-fnd-key-${process.pid}.pem`);
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  chmodSync(key, 0o644);
});

let sb: Sandbox;
let listener: RunningListener | undefined;
afterEach(async () => {
  await listener?.stop();
  listener = undefined;
  sb?.cleanup();
});

/** TLS client over a daemon's stdin/stdout pipes, after the plaintext part of the dialogue. */
function tlsOverStdio(c: StdioClient): tls.TLSSocket {
  // Hand the raw pipes to TLS: bytes the line reader has not consumed are none at this point.
  c.child.stdout.removeAllListeners('data');
  const duplex = Duplex.from({ readable: c.child.stdout, writable: c.child.stdin });
  // The daemon exits at the end of the session: its pipes closing is no error here.
  duplex.on('error', () => undefined);
  const s = tls.connect({ socket: duplex as unknown as net.Socket, rejectUnauthorized: false, servername: 'localhost' });
  s.on('error', () => undefined);
  return s;
}

function linesOf(s: tls.TLSSocket): { next(): Promise<string> } {
  let buf = '';
  const waiters: Array<() => void> = [];
  s.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    waiters.splice(0).forEach((w) => w());
  });
  return {
    async next() {
      for (;;) {
        const i = buf.indexOf('\n');
        if (i >= 0) {
          const l = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          return l;
        }
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

describe.skipIf(!HAVE_OPENSSL)('TLS over stdio (inetd, ssh)', () => {
  it('imapd STARTTLS over stdin/stdout carries a real TLS session', async () => {
    sb = makeSandbox({ 'tls-cert': cert, 'tls-key': key, preauth: 'never' });
    withVirtualUsers(sb, { erin: 'pw' }, { 'tls-cert': cert, 'tls-key': key, plaintext: 'tls-only' });
    const c = spawnDaemon(sb, 'imapd');
    expect(await c.readLine()).toMatch(/^\* OK \[CAPABILITY .*STARTTLS/);
    c.send('a STARTTLS');
    expect(await c.readLine()).toBe('a OK STARTTLS completed');
    const s = tlsOverStdio(c);
    await new Promise((r) => s.once('secureConnect', r));
    expect(s.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    const l = linesOf(s);
    s.write('b CAPABILITY\r\n');
    const cap = await l.next();
    expect(cap).toMatch(/AUTH=PLAIN/);
    expect(cap).not.toMatch(/STARTTLS/);
    await l.next();
    s.write('c LOGIN erin pw\r\n');
    expect(await l.next()).toMatch(/^c OK \[CAPABILITY /);
    s.write('d LOGOUT\r\n');
    expect(await l.next()).toMatch(/^\* BYE/);
  });

  it('ipop3d STLS over stdin/stdout, and implicit TLS when invoked with --implicit-tls', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { erin: 'pw' }, { 'tls-cert': cert, 'tls-key': key, plaintext: 'tls-only' });
    const c = spawnDaemon(sb, 'ipop3d');
    expect(await c.readLine()).toMatch(/^\+OK POP3 /);
    c.send('STLS');
    expect(await c.readLine()).toBe('+OK STLS completed');
    const s = tlsOverStdio(c);
    await new Promise((r) => s.once('secureConnect', r));
    const l = linesOf(s);
    s.write('USER erin\r\n');
    expect(await l.next()).toBe('+OK User name accepted, password please');
    s.write('PASS pw\r\n');
    expect(await l.next()).toBe('+OK Mailbox open, 0 messages');
    s.write('QUIT\r\n');
    expect(await l.next()).toBe('+OK Sayonara');
    const i = spawnDaemon(sb, 'imapd', { args: ['--implicit-tls', 'yes'] });
    const si = tlsOverStdio(i);
    await new Promise((r) => si.once('secureConnect', r));
    expect(await linesOf(si).next()).toMatch(/^\* OK \[CAPABILITY IMAP4REV1 .*AUTH=PLAIN/);
    si.destroy();
  });
});

describe('timers', () => {
  it('autologout before login after login-timeout, with UW\'s texts and log line', async () => {
    sb = makeSandbox({ 'login-timeout': '10', preauth: 'never' });
    const c = spawnDaemon(sb, 'imapd');
    await c.readLine();
    const t0 = Date.now();
    expect(await c.readLine(20000)).toBe('* BYE Autologout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9000);
    expect(await c.exited).toBe(0);
    expect(sb.log()).toMatch(/Autologout user=\?\?\? host=/);
  }, 30000);
});

describe('listener details', () => {
  const hasV6 = (() => {
    try {
      const s = net.createServer();
      s.listen(0, '::1');
      s.close();
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasV6)('listens on IPv6 loopback too', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { gus: 'pw' });
    listener = await startListener(sb, { imap: '[::1]:0' });
    const c = await TcpClient.connect(listener.ports.imap, '::1');
    expect(await c.readLine()).toMatch(/^\* OK /);
    expect((await c.command('a', 'LOGIN gus pw')).at(-1)).toMatch(/^a OK/);
    c.close();
  });

  it.skipIf(!IS_ROOT)('a root listener\'s session drops to the user: uid, gid and groups from /proc, and no access to others\' mail', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { hal: 'pw' });
    const secret = join(sb.root, 'root-only');
    writeFileSync(secret, 'secret');
    chmodSync(secret, 0o600);
    listener = await startListener(sb, { imap: '127.0.0.1:0' });
    const c = await TcpClient.connect(listener.ports.imap);
    await c.readLine();
    expect((await c.command('a', 'LOGIN hal pw')).at(-1)).toMatch(/^a OK/);
    // The session process is the one that logged "Login user=hal".
    let pid = 0;
    for (let i = 0; i < 20 && !pid; i++) {
      const m = /imapd\[(\d+)\]: info: Login user=hal/.exec(sb.log());
      if (m) pid = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(pid).toBeGreaterThan(0);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1)).toEqual([String(TEST_UID), String(TEST_UID), String(TEST_UID), String(TEST_UID)]);
    expect(/^Gid:\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1)).toEqual(['65534', '65534']);
    expect(/^Groups:\s*(.*)$/m.exec(status)![1].trim()).toBe('65534');
    // Root's 0600 file is out of reach through the server.
    const r = await c.command('b', `SELECT ${secret}`);
    expect(r.at(-1)).toMatch(/^b NO /);
    c.close();
  });

  it('the listener warms each pool worker up with a throw-away connection before a client gets it', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { joy: 'pw' });
    sb.setConfig({ 'log-level': 'debug' });
    listener = await startListener(sb, { imap: '127.0.0.1:0' });
    // Both workers of the pool (warm-pool = 2) received the listener's
    // loopback connection, wrote to it, closed it and said so.
    const warmed = () => [...sb.log().matchAll(/imap worker \[(\d+)\] warmed up/g)].map((m) => Number(m[1]));
    for (let i = 0; i < 100 && warmed().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const pids = warmed();
    expect(new Set(pids).size).toBe(2);
    // Warmed workers serve as before, and keep no warm-up socket: a
    // worker's sockets are its IPC channel only until a client arrives.
    for (const pid of pids) {
      const fds = readdirSync(`/proc/${pid}/fd`).map((f) => { try { return readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return ''; } });
      expect(fds.filter((l) => l.startsWith('socket:')).length).toBe(1);
    }
    const c = await TcpClient.connect(listener.ports.imap);
    expect(await c.readLine()).toMatch(/^\* OK /);
    expect((await c.command('a', 'LOGIN joy pw')).at(-1)).toMatch(/^a OK/);
    expect((await c.command('b', 'SELECT INBOX')).at(-1)).toMatch(/^b OK/);
    c.close();
  });

  it.skipIf(!IS_ROOT)('a root listener starts its pool workers at a lower priority and gives the one it hands a connection the normal one back', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { ivy: 'pw' });
    listener = await startListener(sb, { imap: '127.0.0.1:0' });
    const { getPriority } = await import('node:os');
    const workers = () => {
      const out: Array<{ pid: number; nice: number }> = [];
      const kids = readFileSync(`/proc/${listener!.child.pid}/task/${listener!.child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      for (const pid of kids) {
        try {
          out.push({ pid, nice: getPriority(pid) });
        } catch {
          /* gone */
        }
      }
      return out;
    };
    // The pool (warm-pool = 2) is there, every worker at nice 10.
    for (let i = 0; i < 50 && workers().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const before = workers();
    expect(before.length).toBe(2);
    expect(before.map((w) => w.nice)).toEqual([10, 10]);
    const c = await TcpClient.connect(listener.ports.imap);
    expect(await c.readLine()).toMatch(/^\* OK /);
    expect((await c.command('a', 'LOGIN ivy pw')).at(-1)).toMatch(/^a OK/);
    // The worker serving us runs at 0; the others (the pool, refilled) stay at 10.
    const after = workers();
    const served = after.filter((w) => w.nice === 0);
    // (One started while the client waited if the pool was not ready yet.)
    expect(served.length).toBe(1);
    expect(after.filter((w) => w.pid !== served[0].pid).every((w) => w.nice === 10)).toBe(true);
    c.close();
  });

  it('mailserverd refuses to start on a bad configuration, naming the key', () => {
    sb = makeSandbox({ 'listen-imap': 'not-an-address' });
    const r = spawnSync(process.execPath, [new URL('../../bin/mailserverd', import.meta.url).pathname, '--config', sb.configFile, '--warm-pool', 'many'], { encoding: 'utf8' });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/--warm-pool: bad value for warm-pool: "many" \(expected an integer\)/);
  });
});

describe('npm start (the embedded default)', () => {
  it('sets up ./var with a demo user and a welcome message that a client can log in and fetch', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { setupDemo } = await import('../../src/demo/setup.js');
    const base = mkdtempSync(join(tmpdir(), 'uwimap-demo-'));
    chmodSync(base, 0o755);
    try {
      const demo = await setupDemo(noLog, base);
      expect(demo.user).toBe('demo');
      expect(demo.password.length).toBeGreaterThanOrEqual(10);
      const again = await setupDemo(noLog, base);
      expect(again.password).toBe(demo.password); // a restart keeps the password
      const conf = readFileSync(demo.configFile, 'utf8');
      expect(conf).toMatch(/listen-imap = 127\.0\.0\.1:1143/);
      // Same configuration, ephemeral ports (the demo's fixed ports may be taken on a test machine).
      const fake = { configFile: demo.configFile, root: base, cleanup() {} } as unknown as Sandbox;
      listener = await startListener(fake, { imap: '127.0.0.1:0' });
      const c = await TcpClient.connect(listener.ports.imap);
      const greeting = await c.readLine().catch((e) => `${e.message} LOG: ${readFileSync(join(base, 'var', 'log', 'mail.log'), 'utf8')}`);
      expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4REV1 .*AUTH=PLAIN/);
      expect((await c.command('a', `login demo ${demo.password}`)).at(-1)).toMatch(/^a OK/);
      expect(await c.command('b', 'select inbox')).toContain('* 1 EXISTS');
      const f = await c.command('c', 'fetch 1 body[]');
      expect(f.join('\n')).toContain('Subject: Welcome to your mailbox');
      expect((await c.command('d', 'logout'))[0]).toMatch(/^\* BYE/);
      if (spawnSync('openssl', ['version']).status === 0) expect(readFileSync(join(base, 'var', 'tls', 'cert.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    } finally {
      await listener?.stop();
      listener = undefined;
      rmSync(base, { recursive: true, force: true });
    }
  });
});
