import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, IS_ROOT, TEST_UID, type Sandbox, type StdioClient } from '../helpers/sandbox.js';

// The pam module through real libpam, with a PAM service that checks a
// password file (pam_pwdfile, Debian libpam-pwdfile) — installed in CI.
const PWDFILE = ['/usr/lib/x86_64-linux-gnu/security/pam_pwdfile.so', '/lib/x86_64-linux-gnu/security/pam_pwdfile.so', '/usr/lib/aarch64-linux-gnu/security/pam_pwdfile.so'].some((p) => existsSync(p));
const USER = spawnSync('sh', ['-c', `getent passwd ${TEST_UID} | cut -d: -f1`], { encoding: 'utf8' }).stdout.trim();
const CAN = IS_ROOT && PWDFILE && USER !== '';
if (!CAN) console.warn('pam tests skipped: need root, pam_pwdfile.so and a passwd entry for uid 65534');

let sb: Sandbox | undefined;
const clients: StdioClient[] = [];
const services: string[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
  for (const s of services.splice(0)) rmSync(join('/etc/pam.d', s), { force: true });
  sb?.cleanup();
  sb = undefined;
});

describe.skipIf(!CAN)('auth module pam (libpam)', () => {
  it('IMAP LOGIN and POP3 USER/PASS through PAM services imap/pop; wrong passwords fail; the session runs as the user', async () => {
    sb = makeSandbox();
    const hash = spawnSync('openssl', ['passwd', '-6', 'pam-secret'], { encoding: 'utf8' }).stdout.trim();
    const pwd = join(sb.root, 'pam.pwd');
    writeFileSync(pwd, `${USER}:${hash}\n`);
    const imapService = `uwimap-test-imap-${process.pid}`;
    const popService = `uwimap-test-pop-${process.pid}`;
    for (const s of [imapService, popService]) {
      writeFileSync(join('/etc/pam.d', s), `auth required pam_pwdfile.so pwdfile=${pwd} nodelay\naccount required pam_permit.so\n`);
      services.push(s);
    }
    sb.setConfig({ 'auth-modules': 'pam', 'pam-service-imap': imapService, 'pam-service-pop': popService, plaintext: 'always', 'login-failure-delay': '0' });
    sb.writeFile(join(sb.spool, USER), 'From a@example.com Mon Jan  2 03:04:05 2023\nSubject: via pam\n\nhello\n\n');
    const c = spawnDaemon(sb, 'imapd', { asRoot: true });
    clients.push(c);
    await c.readLine();
    let r = await c.command('a', `LOGIN ${USER} wrong`);
    expect(r.at(-1)).toMatch(/^a NO /);
    r = await c.command('b', `LOGIN ${USER} pam-secret`);
    expect(r.at(-1)).toMatch(/^b OK /);
    r = await c.command('c', 'SELECT INBOX');
    expect(r).toContain('* 1 EXISTS');
    const status = spawnSync('sh', ['-c', `grep -E '^(Uid|Gid):' /proc/${c.child.pid}/status`], { encoding: 'utf8' }).stdout;
    expect(status).toMatch(new RegExp(`Uid:\\s+${TEST_UID}\\s+${TEST_UID}`));
    expect(sb.log()).not.toContain('pam-secret');
    await c.command('d', 'LOGOUT');
    const p = spawnDaemon(sb, 'ipop3d', { asRoot: true });
    clients.push(p);
    await p.readLine();
    p.write(`USER ${USER}\r\nPASS pam-secret\r\n`);
    await p.readLine();
    expect(await p.readLine()).toBe('+OK Mailbox open, 1 messages');
    p.send('QUIT');
    expect(await p.readLine()).toBe('+OK Sayonara');
    // A PAM service that refuses the account (pam_deny in account) refuses the login.
    writeFileSync(join('/etc/pam.d', imapService), `auth required pam_pwdfile.so pwdfile=${pwd} nodelay\naccount required pam_deny.so\n`);
    const d = spawnDaemon(sb, 'imapd', { asRoot: true });
    clients.push(d);
    await d.readLine();
    r = await d.command('e', `LOGIN ${USER} pam-secret`);
    expect(r.at(-1)).toMatch(/^e NO /);
  });
});
