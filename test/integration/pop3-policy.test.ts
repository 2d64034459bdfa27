import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { makeSandbox, spawnDaemon, type Sandbox, type StdioClient } from '../helpers/sandbox.js';
import { withVirtualUsers } from '../helpers/servers.js';
import { expireDue, loginDelayLeft } from '../../src/pop3/policy.js';

let sb: Sandbox | undefined;
let dir = '';
const clients: StdioClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
  sb?.cleanup();
  sb = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function capa(p: StdioClient): Promise<string[]> {
  p.send('CAPA');
  return p.readUntilDot();
}

describe('POP3 LOGIN-DELAY and EXPIRE (RFC 2449)', () => {
  it('advertises UW\'s LOGIN-DELAY 180 by default, and what is configured; enforces the delay and EXPIRE 0', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { dave: 'pw' }, { plaintext: 'always' });
    let p = spawnDaemon(sb, 'ipop3d');
    clients.push(p);
    await p.readLine();
    let c = await capa(p);
    expect(c).toContain('LOGIN-DELAY 180');
    expect(c.some((l) => l.startsWith('EXPIRE'))).toBe(false);
    p.send('QUIT');
    await p.readLine();
    sb.setConfig({ 'pop3-login-delay': '60', 'pop3-login-delay-enforce': 'yes', 'pop3-expire': '0' });
    // Two messages through IMAP.
    const i = spawnDaemon(sb, 'imapd');
    clients.push(i);
    await i.readLine();
    await i.command('a', 'LOGIN dave pw');
    await i.command('b', 'APPEND INBOX {20+}\r\nSubject: one\r\n\r\none\r\n');
    await i.command('c', 'APPEND INBOX {20+}\r\nSubject: two\r\n\r\ntwo\r\n');
    await i.command('d', 'LOGOUT');
    p = spawnDaemon(sb, 'ipop3d');
    clients.push(p);
    await p.readLine();
    c = await capa(p);
    expect(c).toContain('LOGIN-DELAY 60');
    expect(c).toContain('EXPIRE 0');
    p.write('USER dave\r\nPASS pw\r\nRETR 1\r\n');
    await p.readLine();
    expect(await p.readLine()).toBe('+OK Mailbox open, 2 messages');
    await p.readUntilDot();
    p.send('QUIT');
    expect(await p.readLine()).toBe('+OK Sayonara');
    // Too soon.
    const q = spawnDaemon(sb, 'ipop3d');
    clients.push(q);
    await q.readLine();
    q.write('USER dave\r\nPASS pw\r\n');
    await q.readLine();
    expect(await q.readLine()).toMatch(/^-ERR \[LOGIN-DELAY\] Minimum time between logins is 60 seconds/);
    // EXPIRE 0: the retrieved message went at the end of the session that retrieved it.
    sb.setConfig({ 'pop3-login-delay-enforce': 'no' });
    const r = spawnDaemon(sb, 'ipop3d');
    clients.push(r);
    await r.readLine();
    r.write('USER dave\r\nPASS pw\r\nTOP 1 0\r\n');
    await r.readLine();
    expect(await r.readLine()).toBe('+OK Mailbox open, 1 messages');
    expect(await r.readLine()).toBe('+OK Top of message follows');
    expect(await r.readLine()).toBe('Subject: two');
  });

  it('EXPIRE N deletes a message N days after its first retrieval; the login delay counts from the last login', () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-pop-'));
    const day = 86400_000;
    const t0 = Date.UTC(2026, 0, 1);
    expect(expireDue(dir, 7, [1, 2, 3], [1], 3, t0)).toEqual([]);
    expect(expireDue(dir, 7, [1, 2, 3], [2], 3, t0 + 2 * day)).toEqual([]);
    expect(expireDue(dir, 7, [1, 2, 3], [], 3, t0 + 3 * day)).toEqual([1]);
    expect(expireDue(dir, 7, [2, 3], [1, 2, 3], 3, t0 + 5 * day)).toEqual([2]);
    // A new UIDVALIDITY forgets the old records.
    expect(expireDue(dir, 8, [2, 3], [], 3, t0 + 30 * day)).toEqual([]);
    expect(loginDelayLeft(dir, 100, t0)).toBe(0);
    expect(loginDelayLeft(dir, 100, t0 + 40_000)).toBe(60);
    expect(loginDelayLeft(dir, 100, t0 + 100_000)).toBe(0);
  });

  it('autologout: before login after login-timeout, after login after pop-idle-timeout, with UW\'s texts; DELE not applied', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { dave: 'pw' }, { plaintext: 'always', 'login-timeout': '10', 'pop-idle-timeout': '60' });
    const i = spawnDaemon(sb, 'imapd');
    clients.push(i);
    await i.readLine();
    await i.command('a', 'LOGIN dave pw');
    await i.command('b', 'APPEND INBOX {20+}\r\nSubject: one\r\n\r\none\r\n');
    await i.command('c', 'LOGOUT');
    const early = spawnDaemon(sb, 'ipop3d');
    clients.push(early);
    await early.readLine();
    expect(await early.readLine(20_000)).toBe('-ERR Autologout');
    const p = spawnDaemon(sb, 'ipop3d');
    clients.push(p);
    await p.readLine();
    p.write('USER dave\r\nPASS pw\r\nDELE 1\r\n');
    await p.readLine();
    expect(await p.readLine()).toBe('+OK Mailbox open, 1 messages');
    expect(await p.readLine()).toBe('+OK Message deleted');
    const t0 = Date.now();
    expect(await p.readLine(90_000)).toBe('-ERR Autologout; idle for too long');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(59_000);
    expect(await p.exited).not.toBeNull();
    expect(sb.log()).toMatch(/Autologout user=dave host=/);
    const q = spawnDaemon(sb, 'ipop3d');
    clients.push(q);
    await q.readLine();
    q.write('USER dave\r\nPASS pw\r\n');
    await q.readLine();
    expect(await q.readLine()).toBe('+OK Mailbox open, 1 messages');
  }, 120_000);
});
