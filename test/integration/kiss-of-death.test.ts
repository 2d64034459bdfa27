import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, TEST_UID, TEST_GID, IS_ROOT, type Sandbox } from '../helpers/sandbox.js';

// UW's "kiss of death" between processes that want the same mailbox read-write:
// the /tmp/.<dev>.<ino> lock holds the owner's PID; a newcomer sends SIGUSR2.
const USER = spawnSync('sh', ['-c', `getent passwd ${TEST_UID} | cut -d: -f1`], { encoding: 'utf8' }).stdout.trim() || `uid${TEST_UID}`;
let sb: Sandbox;
let holder: ChildProcess | undefined;
afterEach(() => {
  holder?.kill('SIGKILL');
  holder = undefined;
  sb?.cleanup();
});

function prepare(): string {
  const locks = join(process.env.TMPDIR ?? '/tmp', `uwimap-kod-${process.pid}-${Date.now()}`);
  mkdirSync(locks);
  chmodSync(locks, 0o1777);
  sb = makeSandbox({ 'lock-directory': locks });
  sb.writeFile(join(sb.spool, USER), 'From a@example.com Mon Jan  2 03:04:05 2023\nSubject: kod\n\nbody\n\n');
  return locks;
}

describe('kiss of death', () => {
  it('a session that receives SIGUSR2 checkpoints, says "Killed (lost mailbox lock)" and exits 1', async () => {
    prepare();
    const c = spawnDaemon(sb, 'imapd');
    await c.readLine();
    await c.command('a', 'SELECT INBOX');
    await c.command('b', 'STORE 1 +FLAGS (\\Flagged)');
    c.child.kill('SIGUSR2');
    expect(await c.readLine()).toBe('* BYE Killed (lost mailbox lock)');
    expect(await c.exited).toBe(1);
    expect(sb.log()).toMatch(/Killed \(lost mailbox lock\) user=\S+ host=/);
  });

  it('a newcomer signals a UW-style holder of the /tmp lock and gets the mailbox read-write', async () => {
    const locks = prepare();
    const script = join(sb.root, 'holder.mjs');
    // A stand-in for a UW process: exclusive flock on the /tmp lock with its PID; gives up on SIGUSR2.
    writeFileSync(
      script,
      `import { statSync, openSync, writeSync, ftruncateSync, closeSync, fchmodSync } from 'node:fs';
const posix = await import(${JSON.stringify(new URL('../../dist/runtime/posix.js', import.meta.url).pathname)});
const st = statSync(process.argv[2]);
const path = process.argv[3] + '/.' + st.dev.toString(16) + '.' + st.ino.toString(16);
const fd = openSync(path, 'w+', 0o666); fchmodSync(fd, 0o666); // UW: mode 0666 so that every user can lock it
posix.flockSync(fd, posix.LOCK_EX);
writeSync(fd, String(process.pid), 0); ftruncateSync(fd, String(process.pid).length);
process.on('SIGUSR2', () => { posix.flockSync(fd, posix.LOCK_UN); closeSync(fd); process.stdout.write('released\\n'); process.exit(0); });
process.stdout.write('holding\\n');
setInterval(() => {}, 1000);
`,
    );
    // The same user, as in real life: a process may only signal its own user's processes.
    holder = spawn(process.execPath, [script, join(sb.spool, USER), locks], { stdio: ['ignore', 'pipe', 'inherit'], ...(IS_ROOT ? { uid: TEST_UID, gid: TEST_GID } : {}) });
    let out = '';
    holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 50 && !out.includes('holding'); i++) await new Promise((r) => setTimeout(r, 100));
    const c = spawnDaemon(sb, 'imapd');
    await c.readLine();
    const r = await c.command('a', 'SELECT INBOX', 30000);
    expect(r, r.join('\n')).toContain(`* NO Trying to get mailbox lock from process ${holder.pid}`);
    expect(r.at(-1)).toBe('a OK [READ-WRITE] SELECT completed');
    expect(out).toContain('released');
  });
});

describe('POP3 holds its mailbox alone', () => {
  it('a second POP3 session gets [IN-USE]; an active one ignores the kiss of death', async () => {
    prepare();
    const { withVirtualUsers } = await import('../helpers/servers.js');
    withVirtualUsers(sb, { pat: 'pw' }, { plaintext: 'always' });
    const a = spawnDaemon(sb, 'ipop3d');
    await a.readLine();
    a.write('USER pat\r\nPASS pw\r\n');
    await a.readLine();
    expect(await a.readLine()).toBe('+OK Mailbox open, 0 messages');
    const b = spawnDaemon(sb, 'ipop3d');
    await b.readLine();
    b.write('USER pat\r\nPASS pw\r\n');
    await b.readLine();
    // b asked a to give up (SIGUSR2); a was active, so it kept the lock and b gives up after its retries.
    expect(await b.readLine(30000)).toBe("-ERR [IN-USE] Can't get lock.  Mailbox in use");
    a.send('STAT');
    expect(await a.readLine()).toBe('+OK 0 0');
    a.send('QUIT');
    expect(await a.readLine()).toBe('+OK Sayonara');
  }, 40000);

  it('an abandoned POP3 session (idle past pop3-kiss-of-death-idle) gives the mailbox to a newcomer; its DELE is not applied', async () => {
    prepare();
    const { withVirtualUsers } = await import('../helpers/servers.js');
    withVirtualUsers(sb, { pat: 'pw' }, { plaintext: 'always', 'pop3-kiss-of-death-idle': '2' });
    // Give pat one message through IMAP first.
    const i = spawnDaemon(sb, 'imapd');
    await i.readLine();
    await i.command('a', 'LOGIN pat pw');
    await i.command('b', 'APPEND INBOX {21+}\r\nSubject: kod\r\n\r\nbody\r\n');
    await i.command('c', 'LOGOUT');
    const a = spawnDaemon(sb, 'ipop3d');
    await a.readLine();
    a.write('USER pat\r\nPASS pw\r\n');
    await a.readLine();
    expect(await a.readLine()).toBe('+OK Mailbox open, 1 messages');
    a.send('DELE 1');
    expect(await a.readLine()).toBe('+OK Message deleted');
    // a falls silent (a client that died without closing the connection).
    await new Promise((r) => setTimeout(r, 2500));
    const b = spawnDaemon(sb, 'ipop3d');
    await b.readLine();
    b.write('USER pat\r\nPASS pw\r\n');
    await b.readLine();
    expect(await b.readLine(30000)).toBe('+OK Mailbox open, 1 messages');
    expect(await a.readLine()).toBe('-ERR Received Kiss of Death');
    expect(await a.exited).not.toBeNull();
    expect(sb.log()).toMatch(/Killed \(lost mailbox lock\) user=pat/);
    b.send('QUIT');
    expect(await b.readLine()).toBe('+OK Sayonara');
  }, 40000);
});
