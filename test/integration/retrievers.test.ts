import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, FORMATS, type Format, type Sandbox } from '../helpers/sandbox.js';
import { withVirtualUsers, startListener, TcpClient, type RunningListener } from '../helpers/servers.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
let sb: Sandbox;
let l: RunningListener | undefined;
afterEach(async () => {
  await l?.stop();
  l = undefined;
  sb?.cleanup();
});

/** Format of the user's INBOX in the current test (the retrievers run on all three). */
let format: Format = 'unix';
async function setup(messages: string[]): Promise<RunningListener> {
  sb = makeSandbox();
  withVirtualUsers(sb, { alice: 'wonderland' }, { plaintext: 'always', 'new-mailbox-format': format });
  l = await startListener(sb, { pop3: '127.0.0.1:0', imap: '127.0.0.1:0' });
  const c = await TcpClient.connect(l.ports.imap);
  await c.readLine();
  await c.command('a', 'LOGIN alice wonderland');
  for (const m of messages) await c.command('b', `APPEND INBOX {${Buffer.byteLength(m)}+}\r\n${m}`);
  await c.command('c', 'LOGOUT');
  return l;
}

async function imapCount(): Promise<number> {
  const c = await TcpClient.connect(l!.ports.imap);
  await c.readLine();
  await c.command('a', 'LOGIN alice wonderland');
  const r = await c.command('b', 'STATUS INBOX (MESSAGES)');
  await c.command('c', 'LOGOUT');
  return Number(/MESSAGES (\d+)/.exec(r[0])![1]);
}

for (const fmt of FORMATS) describe(`POP3 and IMAP with real retrieval clients, INBOX in ${fmt} format`, () => {
  beforeEach(() => {
    format = fmt;
  });
  it.skipIf(!has('fetchmail'))('fetchmail: --keep with UIDL tracking, then a run that flushes, then one that finds nothing', async () => {
    const lis = await setup(['Subject: one\r\n\r\nfirst\r\n', 'Subject: two\r\n\r\nsecond\r\n']);
    const rc = join(sb.root, 'fetchmailrc');
    const out = join(sb.root, 'out.mbox');
    writeFileSync(rc, `set no bouncemail\npoll 127.0.0.1 with proto POP3 port ${lis.ports.pop3} uidl and options no dns\n  user "alice" there with password "wonderland" is root here options sslproto "" mda "cat >> ${out}"\n`);
    chmodSync(rc, 0o600);
    const fm = (...extra: string[]) => spawnSync('fetchmail', ['-f', rc, '-i', join(sb.root, 'fetchids'), '--nosyslog', ...extra], { encoding: 'utf8', env: { ...process.env, HOME: sb.root }, timeout: 30000 });
    let r = fm('--keep');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/Subject: one[\s\S]*first[\s\S]*Subject: two[\s\S]*second/);
    expect(await imapCount()).toBe(2);
    r = fm('--keep');
    expect(r.status).toBe(1); // fetchmail: "no mail" — the UIDs are known
    r = fm('--flush');
    expect(r.status === 0 || r.status === 1).toBe(true);
    expect(await imapCount()).toBe(0);
    r = fm();
    expect(r.status).toBe(1);
    expect((readFileSync(out, 'utf8').match(/Subject: one/g) ?? []).length).toBe(1);
  });

  it.skipIf(!has('fetchmail'))('fetchmail over IMAP retrieves and marks messages seen', async () => {
    const lis = await setup(['Subject: via imap\r\n\r\nimap body\r\n']);
    const rc = join(sb.root, 'fetchmailrc');
    const out = join(sb.root, 'out.mbox');
    writeFileSync(rc, `set no bouncemail\npoll 127.0.0.1 with proto IMAP port ${lis.ports.imap} and options no dns\n  user "alice" there with password "wonderland" is root here options keep sslproto "" mda "cat >> ${out}"\n`);
    chmodSync(rc, 0o600);
    const r = spawnSync('fetchmail', ['-f', rc, '-i', join(sb.root, 'fetchids'), '--nosyslog'], { encoding: 'utf8', env: { ...process.env, HOME: sb.root }, timeout: 30000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/Subject: via imap[\s\S]*imap body/);
    const c = await TcpClient.connect(lis.ports.imap);
    await c.readLine();
    await c.command('a', 'LOGIN alice wonderland');
    await c.command('b', 'SELECT INBOX');
    expect((await c.command('c', 'SEARCH SEEN'))[0]).toBe('* SEARCH 1');
  });

  it.skipIf(!has('curl'))('curl: LIST, RETR and UIDL over POP3; LIST and FETCH over IMAP', async () => {
    const lis = await setup(['Subject: hello curl\r\n\r\nbody\r\n']);
    const pop = `pop3://127.0.0.1:${lis.ports.pop3}`;
    let r = spawnSync('curl', ['-s', '--user', 'alice:wonderland', `${pop}/`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toMatch(/^1 \d+$/);
    r = spawnSync('curl', ['-s', '--user', 'alice:wonderland', `${pop}/1`], { encoding: 'utf8' });
    expect(r.stdout).toContain('Subject: hello curl');
    r = spawnSync('curl', ['-s', '--user', 'alice:wonderland', '-X', 'UIDL', `${pop}/`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toMatch(/^1 [0-9a-f]{16}$/);
    const imap = `imap://127.0.0.1:${lis.ports.imap}`;
    r = spawnSync('curl', ['-s', '--user', 'alice:wonderland', `${imap}/`], { encoding: 'utf8' });
    expect(r.stdout).toContain('INBOX');
    r = spawnSync('curl', ['-s', '--user', 'alice:wonderland', `${imap}/INBOX;UID=1`], { encoding: 'utf8' });
    expect(r.stdout).toContain('Subject: hello curl');
    expect(existsSync(sb.logFile)).toBe(true);
  });
});
