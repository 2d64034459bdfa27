/**
 * Test sandboxes: a temporary "system" (home directory, spool directory,
 * state directory, configuration file, log file) and helpers that start the
 * real daemons (bin/imapd, bin/ipop3d, bin/ipop2d) as child processes over
 * stdio, the way inetd or ssh would.
 *
 * When the tests run as root (CI), the daemon is started as uid/gid 65534
 * (no passwd entry needed) and the sandbox is owned by it, so it behaves like
 * `ssh host imapd` run by an ordinary user: PREAUTH as that user. When not
 * root, the daemon runs as the current user.
 */
import { mkdtempSync, mkdirSync, writeFileSync, chownSync, chmodSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { driverContext } from './drivers.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const BIN = (name: string) => join(REPO, 'bin', name);

export const IS_ROOT = process.getuid?.() === 0;
/** The uid/gid daemons run as in tests. */
export const TEST_UID = IS_ROOT ? 65534 : process.getuid!();
export const TEST_GID = IS_ROOT ? 65534 : process.getgid!();

export interface Sandbox {
  root: string;
  home: string;
  spool: string;
  state: string;
  logFile: string;
  configFile: string;
  uid: number;
  gid: number;
  /** The user name the daemon will see for TEST_UID (PREAUTH). */
  /** Write a file owned by the test user (mode default 0600). */
  writeFile(path: string, data: string | Buffer, mode?: number): string;
  mkdir(path: string, mode?: number): string;
  /** Log lines written by daemons so far. */
  log(): string;
  /** Replace configuration keys (rewrites the config file). */
  setConfig(extra: Record<string, string>): void;
  cleanup(): void;
}

export function makeSandbox(config: Record<string, string> = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'uwimap-test-'));
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  const spool = join(root, 'spool');
  const state = join(root, 'state');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(spool);
  chmodSync(spool, 0o1777);
  mkdirSync(state, { mode: 0o700 });
  const logFile = join(root, 'daemon.log');
  writeFileSync(logFile, '');
  chmodSync(logFile, 0o666);
  const configFile = join(root, 'uwimap.conf');
  if (IS_ROOT) {
    chownSync(home, TEST_UID, TEST_GID);
    chownSync(state, TEST_UID, TEST_GID);
  }
  let cfg: Record<string, string> = {
    hostname: 'testhost',
    'log-target': 'file',
    'log-file': logFile,
    'spool-directory': spool,
    'state-directory': state,
    ...config,
  };
  const writeConfig = () =>
    writeFileSync(
      configFile,
      Object.entries(cfg)
        .map(([k, v]) => `${k} = ${v}\n`)
        .join(''),
    );
  writeConfig();
  const own = (p: string) => {
    if (IS_ROOT) chownSync(p, TEST_UID, TEST_GID);
  };
  return {
    root,
    home,
    spool,
    state,
    logFile,
    configFile,
    uid: TEST_UID,
    gid: TEST_GID,
    writeFile(path, data, mode = 0o600) {
      const p = path.startsWith('/') ? path : join(home, path);
      writeFileSync(p, data, { mode });
      chmodSync(p, mode);
      own(p);
      return p;
    },
    mkdir(path, mode = 0o700) {
      const p = path.startsWith('/') ? path : join(home, path);
      const first = mkdirSync(p, { recursive: true, mode });
      // Every directory mkdir created belongs to the test user, not just the last one.
      if (first) {
        let d = p;
        for (;;) {
          own(d);
          chmodSync(d, mode);
          if (d === first || d.length <= first.length) break;
          d = d.slice(0, d.lastIndexOf('/'));
        }
      }
      return p;
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    setConfig(extra) {
      cfg = { ...cfg, ...extra };
      writeConfig();
    },
    cleanup() {
      // A daemon may still be finishing (its scan cache is written at close): retry while files appear.
      rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    },
  };
}

export interface SpawnOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Run as root even when the tests are root (login tests that need privilege drop). */
  asRoot?: boolean;
}

/** A line-oriented client over a child daemon's stdio. */
export class StdioClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  closed = false;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((res) =>
      child.on('exit', (code) => {
        this.closed = true;
        this.wake();
        res(code);
      }),
    );
    child.stdin.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitFor<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = take();
      if (r !== undefined) return r;
      if (this.closed && take() === undefined) throw new Error(`daemon exited while waiting for ${what}; got so far: ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; got so far: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Send raw text (add CRLF yourself) or a Buffer. */
  write(data: string | Buffer): void {
    this.child.stdin.write(data);
  }
  /** Send one line, CRLF appended. */
  send(line: string): void {
    this.write(line + '\r\n');
  }
  /** Next line without its CRLF. */
  readLine(timeoutMs = 10_000): Promise<string> {
    return this.waitFor(
      () => {
        const i = this.buf.indexOf('\n');
        if (i < 0) return undefined;
        const line = this.buf.subarray(0, i).toString('latin1').replace(/\r$/, '');
        this.buf = this.buf.subarray(i + 1);
        return line;
      },
      timeoutMs,
      'a line',
    );
  }
  /** POP3 multi-line response: every line up to the terminating "." (not included; the status line is the first). */
  async readUntilDot(timeoutMs = 10_000): Promise<string[]> {
    const out: string[] = [];
    for (let l = await this.readLine(timeoutMs); l !== '.'; l = await this.readLine(timeoutMs)) out.push(l);
    return out;
  }
  /** Exactly n bytes (for literals). */
  readBytes(n: number, timeoutMs = 10_000): Promise<Buffer> {
    return this.waitFor(
      () => {
        if (this.buf.length < n) return undefined;
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return Buffer.from(out);
      },
      timeoutMs,
      `${n} bytes`,
    );
  }
  /**
   * IMAP: read responses up to and including the tagged line for `tag`.
   * Literals are inlined into the returned text. Returns all lines.
   */
  async readTagged(tag: string, timeoutMs = 10_000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      let line = await this.readLine(timeoutMs);
      // Inline literals: a line ending in {n} is followed by n bytes and the rest of the line.
      let m: RegExpExecArray | null;
      while ((m = /\{(\d+)\}$/.exec(line))) {
        const lit = await this.readBytes(Number(m[1]), timeoutMs);
        const rest = await this.readLine(timeoutMs);
        line = line + '\r\n' + lit.toString('latin1') + rest;
      }
      lines.push(line);
      if (line.startsWith(tag + ' ')) return lines;
    }
  }
  /** IMAP convenience: send `tag command`, return all lines through the tagged one. */
  async command(tag: string, cmd: string, timeoutMs = 10_000): Promise<string[]> {
    this.send(`${tag} ${cmd}`);
    return this.readTagged(tag, timeoutMs);
  }
  /** Everything not yet read (waits briefly for the stream to settle). */
  async rest(waitMs = 200): Promise<string> {
    await new Promise((r) => setTimeout(r, waitMs));
    const s = this.buf.toString('latin1');
    this.buf = Buffer.alloc(0);
    return s;
  }
  end(): void {
    this.child.stdin.end();
  }
  kill(sig: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(sig);
  }
}

/** Start a daemon over stdio (pipes), as the test user (PREAUTH for imapd). */
export function spawnDaemon(sb: Sandbox, program: string, opts: SpawnOptions = {}): StdioClient {
  const asRoot = opts.asRoot && IS_ROOT;
  const child = spawn(process.execPath, [BIN(program), '--config', sb.configFile, ...(opts.args ?? [])], {
    cwd: sb.home,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: asRoot ? sb.root : sb.home,
      TZ: process.env.TZ ?? 'UTC',
      ...opts.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(IS_ROOT && !asRoot ? { uid: TEST_UID, gid: TEST_GID } : {}),
  });
  return new StdioClient(child as ChildProcessWithoutNullStreams);
}

/** Mailbox formats the protocol tests run on. */
export const FORMATS = ['unix', 'mbx', 'mix'] as const;
export type Format = (typeof FORMATS)[number];

/**
 * Make the sandbox user's INBOX an mbx file or mix directory in the home
 * directory (UW: ~/INBOX in that format replaces the spool), and make it the
 * format of new mailboxes. 'unix' leaves the spool as INBOX.
 */
export async function useFormat(sb: Sandbox, fmt: Format): Promise<void> {
  sb.setConfig({ 'new-mailbox-format': fmt });
  if (fmt === 'unix') return;
  const ctx = driverContext('/tmp', { hostname: 'testhost' });
  const path = join(sb.home, 'INBOX');
  if (fmt === 'mbx') (await import('../../src/store/drivers/mbx/index.js')).createMbxFile(path, ctx, []);
  else (await import('../../src/store/drivers/mix/index.js')).createMixDir(path, ctx, []);
  if (IS_ROOT) {
    chownSync(path, TEST_UID, TEST_GID);
    if (fmt === 'mix') for (const n of readdirSync(path)) chownSync(join(path, n), TEST_UID, TEST_GID);
  }
}
