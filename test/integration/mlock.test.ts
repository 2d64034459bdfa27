import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, chmodSync, chownSync, copyFileSync, writeFileSync, existsSync, openSync, closeSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO, IS_ROOT } from '../helpers/sandbox.js';

// The setgid helper for spools that are not 1777 (UW's mlock protocol).
const MLOCK = join(REPO, 'build', 'mlock');
const HAVE = IS_ROOT && existsSync(MLOCK);
const MAILGID = 41234; // any group the test user is not in
const USER = 65534;

interface Run {
  out: string;
  code: number | null;
  release: () => Promise<number | null>;
}

function runMlock(bin: string, fdPath: string, argPath: string, extraArgs?: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const fd = openSync(fdPath, 'r');
    const child = spawn(bin, extraArgs ?? ['3', argPath], { stdio: ['pipe', 'pipe', 'inherit', fd], uid: USER, gid: USER });
    closeSync(fd);
    let out = '';
    let done = false;
    // 'close' comes after stdout is drained (unlike 'exit').
    const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      resolve({
        out,
        code,
        release: async () => {
          child.stdin.end('x');
          return exited;
        },
      });
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length >= 1) finish(null);
    });
    exited.then((c) => finish(c));
  });
}

describe.skipIf(!HAVE)('mlock (setgid dot-lock helper)', () => {
  let dir: string;
  let spool: string;
  let box: string;
  let bin: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlock-'));
    chmodSync(dir, 0o755);
    spool = join(dir, 'spool');
    mkdirSync(spool);
    chownSync(spool, 0, MAILGID);
    chmodSync(spool, 0o775); // not 1777: the user cannot create locks here
    box = join(spool, 'nobody');
    writeFileSync(box, 'From a@b Mon Jan  2 03:04:05 2023\nSubject: x\n\nhi\n');
    chownSync(box, USER, USER);
    chmodSync(box, 0o600);
    bin = join(dir, 'mlock');
    copyFileSync(MLOCK, bin);
    chownSync(bin, 0, MAILGID);
    chmodSync(bin, 0o2755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the dot-lock for an unprivileged caller and removes it on request', async () => {
    const r = await runMlock(bin, box, box);
    expect(r.out).toBe('+');
    const lock = `${box}.lock`;
    expect(existsSync(lock)).toBe(true);
    expect(statSync(lock).gid).toBe(MAILGID);
    // No hitching posts left behind.
    expect(readdirSync(spool).filter((n: string) => n.startsWith('nobody.lock.'))).toEqual([]);
    expect(await r.release()).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('waits while another process holds a fresh lock, then takes it', async () => {
    // A fresh foreign lock: the helper keeps trying; release it after a moment and the helper gets it.
    const lock = `${box}.lock`;
    writeFileSync(lock, '');
    setTimeout(() => rmSync(lock, { force: true }), 1500);
    const t0 = Date.now();
    const r = await runMlock(bin, box, box);
    expect(r.out).toBe('+');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(await r.release()).toBe(0);
  });

  it('answers ? when the descriptor and the path are different files', async () => {
    const other = join(spool, 'other');
    writeFileSync(other, 'x');
    const r = await runMlock(bin, other, box);
    expect(r.out).toBe('?');
  });

  it('answers ? for bad usage', async () => {
    const r = await runMlock(bin, box, box, ['x', 'relative/path']);
    expect(r.out).toBe('?');
  });

  it('refuses to work unless installed setgid', async () => {
    const plain = join(dir, 'mlock-plain');
    copyFileSync(MLOCK, plain);
    chmodSync(plain, 0o755);
    const r = await runMlock(plain, box, box);
    expect(r.out).toBe('?');
  });
});

describe.skipIf(!HAVE)('the servers use mlock when the spool is not 1777', () => {
  it('an IMAP session rewrites a spool INBOX under a dot-lock made by mlock; without it, UW\'s "vulnerable" warning', async () => {
    const { makeSandbox, spawnDaemon } = await import('../helpers/sandbox.js');
    for (const withHelper of [true, false]) {
      const sb = makeSandbox();
      try {
        chownSync(sb.spool, 0, MAILGID);
        chmodSync(sb.spool, 0o775);
        const bin = join(sb.root, 'mlock');
        copyFileSync(MLOCK, bin);
        chownSync(bin, 0, MAILGID);
        chmodSync(bin, 0o2755);
        sb.setConfig({ 'mlock-path': withHelper ? bin : join(sb.root, 'no-such-mlock') });
        const user = (await import('node:fs')).readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(USER))!.split(':')[0];
        sb.writeFile(join(sb.spool, user), 'From a@b Mon Jan  2 03:04:05 2023\nSubject: x\n\nhi\n\n');
        const c = spawnDaemon(sb, 'imapd');
        await c.readLine();
        const sel = await c.command('a', 'SELECT INBOX');
        expect(sel.at(-1), sel.join('\n') + sb.log()).toMatch(/^a OK/);
        await c.command('b', 'STORE 1 +FLAGS (\\Flagged)');
        const r = await c.command('c', 'CHECK');
        expect(r.at(-1)).toMatch(/^c OK/);
        await c.command('d', 'LOGOUT');
        expect(await c.exited).toBe(0);
        const spool = (await import('node:fs')).readFileSync(join(sb.spool, user), 'latin1');
        expect(spool).toMatch(/X-Status: F/);
        expect(existsSync(join(sb.spool, `${user}.lock`))).toBe(false);
        if (withHelper) expect(sb.log()).not.toMatch(/Mailbox vulnerable/);
        else expect(sb.log()).toMatch(/Mailbox vulnerable - directory .* must have 1777 protection/);
      } finally {
        sb.cleanup();
      }
    }
  });
});
