import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, FORMATS, type Sandbox } from '../helpers/sandbox.js';
import { withVirtualUsers, startListener, TcpClient, type RunningListener } from '../helpers/servers.js';

const HAVE = spawnSync('sh', ['-c', 'command -v mbsync']).status === 0;
let sb: Sandbox;
let l: RunningListener | undefined;
afterEach(async () => {
  await l?.stop();
  l = undefined;
  sb?.cleanup();
});

async function imap(cmds: string[]): Promise<string[][]> {
  const c = await TcpClient.connect(l!.ports.imap);
  await c.readLine();
  await c.command('a', 'LOGIN alice wonderland');
  const out: string[][] = [];
  let i = 0;
  for (const cmd of cmds) out.push(await c.command(`t${i++}`, cmd));
  await c.command('z', 'LOGOUT');
  return out;
}

describe.skipIf(!HAVE)('mbsync (isync)', () => {
  for (const fmt of FORMATS) it(`synchronises ${fmt} mailboxes to a local Maildir and back, twice, idempotently`, async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { alice: 'wonderland' }, { plaintext: 'always', 'new-mailbox-format': fmt });
    l = await startListener(sb, { imap: '127.0.0.1:0' });
    const m = (s: string) => `APPEND INBOX (\\Seen) {${Buffer.byteLength(s)}+}\r\n${s}`;
    await imap(['CREATE Archive', m('Subject: s1\r\nMessage-ID: <s1@x>\r\n\r\none\r\n'), m('Subject: s2\r\nMessage-ID: <s2@x>\r\n\r\ntwo\r\n')]);
    const local = join(sb.root, 'maildir');
    mkdirSync(local);
    const rc = join(sb.root, 'mbsyncrc');
    writeFileSync(
      rc,
      `IMAPAccount acc\nHost 127.0.0.1\nPort ${l.ports.imap}\nUser alice\nPass wonderland\nSSLType None\nAuthMechs LOGIN\n\nIMAPStore remote\nAccount acc\n\nMaildirStore local\nPath ${local}/\nInbox ${local}/INBOX\nSubFolders Verbatim\n\nChannel ch\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n`,
    );
    const sync = () => spawnSync('mbsync', ['-c', rc, '-a'], { encoding: 'utf8', env: { ...process.env, HOME: sb.root }, timeout: 60000 });
    let r = sync();
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const cur = readdirSync(join(local, 'INBOX', 'cur'));
    expect(cur.length).toBe(2);
    expect(readdirSync(local).sort()).toEqual(expect.arrayContaining(['Archive', 'INBOX']));
    // A message made locally goes to the server; a flag made on the server comes back.
    writeFileSync(join(local, 'INBOX', 'new', `${Date.now()}.local.host`), 'Subject: local\r\nMessage-ID: <l1@x>\r\n\r\nfrom the maildir\r\n');
    await imap(['SELECT INBOX', 'STORE 1 +FLAGS (\\Flagged)']);
    r = sync();
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const st = await imap(['STATUS INBOX (MESSAGES)', 'SELECT INBOX', 'SEARCH SUBJECT local']);
    expect(st[0][0]).toBe('* STATUS INBOX (MESSAGES 3)');
    expect(st[2][0]).toBe('* SEARCH 3');
    expect(readdirSync(join(local, 'INBOX', 'cur')).some((f) => /:2,[A-Z]*F/.test(f))).toBe(true);
    // Again: nothing changes on either side.
    r = sync();
    expect(r.status).toBe(0);
    expect((await imap(['STATUS INBOX (MESSAGES)']))[0][0]).toBe('* STATUS INBOX (MESSAGES 3)');
    expect(readdirSync(join(local, 'INBOX', 'cur')).length + readdirSync(join(local, 'INBOX', 'new')).length).toBe(3);
  });
});
