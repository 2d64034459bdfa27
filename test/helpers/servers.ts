/**
 * Helpers for tests that log in (virtual users in the sandbox's SQLite user
 * database) and that talk TCP (the built-in listener on ephemeral ports).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, chownSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { openUserDb } from '../../src/auth/users-db.js';
import { BIN, IS_ROOT, TEST_UID, TEST_GID, type Sandbox } from './sandbox.js';

/** Configure the sandbox for virtual-user logins and add users. */
export function withVirtualUsers(sb: Sandbox, users: Record<string, string>, extra: Record<string, string> = {}): void {
  const vmail = join(sb.root, 'vmail');
  mkdirSync(vmail, { recursive: true });
  if (IS_ROOT) chownSync(vmail, TEST_UID, TEST_GID);
  chmodSync(vmail, 0o755);
  const dbPath = join(sb.state, 'users.sqlite');
  const db = openUserDb(dbPath);
  for (const [user, password] of Object.entries(users)) if (!db.get(user)) db.addUser({ user, password });
  db.close();
  if (IS_ROOT) for (const f of ['users.sqlite', 'users.sqlite-wal', 'users.sqlite-shm']) {
    try {
      chownSync(join(sb.state, f), TEST_UID, TEST_GID);
    } catch {
      /* not there */
    }
  }
  sb.setConfig({
    'auth-modules': 'sqlite',
    'virtual-users-db': dbPath,
    'virtual-uid': String(TEST_UID),
    'virtual-gid': String(TEST_GID),
    'virtual-mail-root': `${vmail}/%u`,
    preauth: 'never',
    'login-failure-delay': '0',
    ...extra,
  });
}

export interface RunningListener {
  child: ChildProcess;
  ports: Record<string, number>;
  stop(): Promise<void>;
}

/** Start bin/mailserverd on ephemeral loopback ports; resolves when it says where it listens. */
export function startListener(sb: Sandbox, services: Record<string, string>, env: Record<string, string> = {}): Promise<RunningListener> {
  const args = [BIN('mailserverd'), '--config', sb.configFile];
  for (const k of ['imap', 'imaps', 'pop3', 'pop3s', 'pop2']) args.push(`--listen-${k}`, services[k] ?? '');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', TZ: 'UTC', HOME: sb.root, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`listener did not start: ${out}`)), 15000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /mailserverd listening: (.*)\n/.exec(out);
      if (m) {
        clearTimeout(t);
        const ports: Record<string, number> = {};
        for (const part of m[1].split(', ')) {
          const mm = /^(\w+) .*:(\d+)$/.exec(part);
          if (mm) ports[mm[1]] = Number(mm[2]);
        }
        resolve({
          child,
          ports,
          stop: () =>
            new Promise((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r();
              const t = setTimeout(() => child.kill('SIGKILL'), 3000);
              child.once('exit', () => {
                clearTimeout(t);
                r();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (c) => reject(new Error(`listener exited ${c}: ${out}`)));
  });
}

/** A tiny line client over TCP. */
export class TcpClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }
  static connect(port: number, host = '127.0.0.1'): Promise<TcpClient> {
    return new Promise((res, rej) => {
      const s = net.connect({ port, host }, () => res(new TcpClient(s)));
      s.once('error', rej);
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async readLine(timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf(10);
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString('latin1').replace(/\r$/, '');
        this.buf = this.buf.subarray(i + 1);
        return l;
      }
      if (this.closed) throw new Error(`closed; got ${JSON.stringify(this.buf.toString())}`);
      if (Date.now() > deadline) throw new Error(`timeout; got ${JSON.stringify(this.buf.toString())}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  send(line: string): void {
    this.sock.write(line + '\r\n');
  }
  /** Until the server has closed the connection (a daemon closes it after its mailbox and caches). */
  async ended(timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the server did not close the connection');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  async command(tag: string, cmd: string): Promise<string[]> {
    this.send(`${tag} ${cmd}`);
    const out: string[] = [];
    for (;;) {
      const l = await this.readLine();
      out.push(l);
      if (l.startsWith(tag + ' ')) return out;
    }
  }
  close(): void {
    this.sock.destroy();
  }
}
