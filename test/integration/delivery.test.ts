import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, chmodSync, openSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, useFormat, FORMATS, BIN, IS_ROOT, TEST_UID, TEST_GID, type Sandbox } from '../helpers/sandbox.js';
import * as posix from '../../src/runtime/posix.js';

const USER = (() => {
  const r = spawnSync('sh', ['-c', `getent passwd ${TEST_UID} | cut -d: -f1`], { encoding: 'utf8' });
  return r.stdout.trim();
})();
const HAVE_USER = USER !== '';
let sb: Sandbox;
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', [m]);
  sb?.cleanup();
});

/** Run tmail (as root when the tests are root, like an MTA) or dmail (as the user). */
function run(prog: 'tmail' | 'dmail', args: string[], input: string, asUser = prog === 'dmail'): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN(prog), '--config', sb.configFile, ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: sb.home, TZ: 'UTC' },
      ...(IS_ROOT && asUser ? { uid: TEST_UID, gid: TEST_GID } : {}),
    });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => resolve({ code, err }));
    c.stdin.end(input);
  });
}

const message = (n: number, size = 0) => `From sender@example.com Mon Jan  2 03:04:05 2023\nSubject: delivery ${n}\n\nbody ${n}\n${'x'.repeat(size)}\n`;

describe.skipIf(!HAVE_USER)('tmail and dmail', () => {
  it('tmail delivers to the spool INBOX with Return-Path and Received, exits 0; unknown users get 67', async () => {
    sb = makeSandbox();
    const r = await run('tmail', ['-f', 'bounce@example.com', USER], message(1));
    expect(r.code, r.err).toBe(0);
    const spool = readFileSync(join(sb.spool, USER), 'latin1');
    expect(spool).toMatch(/^From MAILER-DAEMON /); // a new spool file starts with the pseudo-message
    expect(spool).toMatch(/\nFrom \S+ Mon Nov|\nFrom \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} [+-]\d{4}\nStatus: \nX-Status: \nX-Keywords:\nX-UID: 1\nReturn-Path: <bounce@example.com>\nReceived: via tmail-[\d.]+ for \S+; /);
    expect(spool).toContain('Subject: delivery 1\n\nbody 1\n');
    expect((await run('tmail', ['no-such-user-here'], message(2))).code).toBe(67);
    const imap = spawnDaemon(sb, 'imapd');
    await imap.readLine();
    const sel = await imap.command('a', 'SELECT INBOX');
    expect(sel).toContain('* 1 EXISTS');
    expect(sel).toContain('* 1 RECENT');
  });

  it('dmail delivers into a folder of the user, with -s, and falls back to INBOX for a missing folder', async () => {
    sb = makeSandbox();
    sb.mkdir('lists');
    writeFileSync(join(sb.home, 'lists', 'linux'), '');
    if (IS_ROOT) spawnSync('chown', [`${TEST_UID}:${TEST_GID}`, join(sb.home, 'lists', 'linux')]);
    let r = await run('dmail', ['-s', '+lists/linux'], message(1));
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(sb.home, 'lists', 'linux'), 'latin1')).toMatch(/Subject: delivery 1\n[\s\S]*Status: R/);
    r = await run('dmail', ['+nowhere'], message(2));
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(sb.spool, USER), 'latin1')).toContain('Subject: delivery 2');
    r = await run('dmail', ['someone-else+x'], message(3));
    expect(r.code).toBe(64);
  });

  for (const fmt of FORMATS) it(`many parallel deliveries to a ${fmt} INBOX while an IMAP session expunges: nothing lost, nothing corrupted`, async () => {
    sb = makeSandbox();
    await useFormat(sb, fmt);
    let seed = '';
    for (let i = 0; i < 10; i++) seed += `From old@example.com Mon Jan  2 03:04:05 2023\nSubject: old ${i}\n\nold\n\n`;
    sb.writeFile(join(sb.spool, USER), seed);
    const imap = spawnDaemon(sb, 'imapd');
    await imap.readLine();
    await imap.command('a', 'SELECT INBOX');
    // The test user's passwd home is not the sandbox: name the mbx/mix INBOX with -I.
    const target = fmt === 'unix' ? [USER] : ['-I', join(sb.home, 'INBOX'), USER];
    const deliveries = Array.from({ length: 24 }, (_, i) => run('tmail', target, message(100 + i)));
    let t = 0;
    // Expunge the old messages one by one while the deliveries run.
    for (let i = 0; i < 10; i++) {
      const s = await imap.command(`s${t++}`, 'SEARCH SUBJECT old');
      const first = /^\* SEARCH (\d+)/.exec(s[0]);
      if (!first) break;
      await imap.command(`d${t++}`, `STORE ${first[1]} +FLAGS.SILENT (\\Deleted)`);
      await imap.command(`e${t++}`, 'EXPUNGE');
    }
    const results = await Promise.all(deliveries);
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
    await imap.command('n', 'NOOP');
    const st = await imap.command('z', 'SEARCH SUBJECT delivery');
    expect(st[0].split(' ').length - 2).toBe(24);
    const old = await imap.command('y', 'SEARCH SUBJECT old');
    expect(old[0]).toBe('* SEARCH');
    // Every delivered message is intact.
    const all = await imap.command('x', 'FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])');
    const text = all.join('\n');
    for (let i = 0; i < 24; i++) expect(text).toMatch(new RegExp(`Subject: delivery ${100 + i}\\s+BODY\\[TEXT\\] \\{12\\}\\s+body ${100 + i}\\s`));
    if (fmt === 'unix') {
      const spool = readFileSync(join(sb.spool, USER), 'latin1');
      for (let i = 0; i < 24; i++) expect(spool).toContain(`Subject: delivery ${100 + i}\n`);
      // No unfinished rewrite left behind; the append journal, if any, is idle.
      const j = join(sb.spool, `.${USER}.uwjournal`);
      if (existsSync(j)) expect(readFileSync(j, 'latin1')).toMatch(/^UWAPPEND1 idle\n/);
    }
  }, 60_000);

  it('exit status 75 (EX_TEMPFAIL) when another process holds the mailbox lock too long', async () => {
    sb = makeSandbox({ 'lock-wait': '1' });
    sb.writeFile(join(sb.spool, USER), message(0));
    const fd = openSync(join(sb.spool, USER), 'r+');
    expect(posix.flockSync(fd, posix.LOCK_EX | posix.LOCK_NB)).toBe(true);
    try {
      const r = await run('tmail', [USER], message(1));
      expect(r.code).toBe(75);
      expect(r.err).toMatch(/Unable to lock mailbox/);
    } finally {
      posix.flockSync(fd, posix.LOCK_UN);
      closeSync(fd);
    }
    expect(readFileSync(join(sb.spool, USER), 'latin1')).not.toContain('delivery 1');
  });

  it.skipIf(!IS_ROOT)('exit status 75 on a full disk, and the mailbox is left exactly as it was', async () => {
    sb = makeSandbox();
    const small = join(sb.root, 'smallspool');
    mkdirSync(small);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]).status !== 0) return;
    mounts.push(small);
    chmodSync(small, 0o1777);
    sb.setConfig({ 'spool-directory': small });
    writeFileSync(join(small, USER), message(0, 20000));
    spawnSync('chown', [`${TEST_UID}:${TEST_GID}`, join(small, USER)]);
    // Open it once so UIDs are written, then remember the bytes.
    expect((await run('tmail', [USER], message(1))).code).toBe(0);
    const before = readFileSync(join(small, USER));
    const r = await run('tmail', [USER], message(2, 60000));
    expect(r.code).toBe(75);
    expect(readFileSync(join(small, USER)).equals(before)).toBe(true);
  });
});
