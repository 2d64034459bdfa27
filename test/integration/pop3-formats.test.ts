import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, FORMATS, IS_ROOT, TEST_UID, TEST_GID, type Sandbox, type StdioClient } from '../helpers/sandbox.js';
import { withVirtualUsers } from '../helpers/servers.js';
import { driverContext } from '../helpers/drivers.js';

// The POP3 server on every mailbox format: the same session gives the same
// answers whether the INBOX is a traditional file, an mbx file or a mix directory.
let sb: Sandbox;
const clients: StdioClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
  sb?.cleanup();
});

async function pop(): Promise<StdioClient> {
  const p = spawnDaemon(sb, 'ipop3d');
  clients.push(p);
  expect(await p.readLine()).toMatch(/^\+OK POP3 /);
  p.write('USER dave\r\nPASS pw\r\n');
  expect(await p.readLine()).toBe('+OK User name accepted, password please');
  return p;
}
async function multi(p: StdioClient, cmd: string): Promise<string[]> {
  p.send(cmd);
  const out: string[] = [];
  for (;;) {
    const l = await p.readLine();
    out.push(l);
    if (l === '.' || (out.length === 1 && l.startsWith('-ERR'))) return out;
  }
}

for (const fmt of FORMATS) {
  describe(`ipop3d with an INBOX in ${fmt} format`, () => {
    it('STAT, LIST, UIDL, RETR, TOP, DELE at QUIT, [IN-USE] for a second session', async () => {
      sb = makeSandbox();
      withVirtualUsers(sb, { dave: 'pw' }, { plaintext: 'always', 'new-mailbox-format': fmt });
      const root = join(sb.root, 'vmail', 'dave');
      mkdirSync(root, { recursive: true, mode: 0o700 });
      if (IS_ROOT) chownSync(root, TEST_UID, TEST_GID);
      const ctx = driverContext('/tmp', { user: 'dave', hostname: 'testhost' });
      const { unixDriver } = await import('../../src/store/drivers/unix/index.js');
      const { mbxDriver } = await import('../../src/store/drivers/mbx/index.js');
      const { mixDriver } = await import('../../src/store/drivers/mix/index.js');
      const drv = { unix: unixDriver, mbx: mbxDriver, mix: mixDriver }[fmt];
      const inbox = join(root, 'INBOX');
      await drv.create(inbox, ctx);
      const msgs = [1, 2, 3].map((i) => ({ data: Buffer.from(`Subject: m${i}\r\nFrom: a@example.com\r\n\r\nline one of ${i}\r\n.dot line\r\nlast\r\n`), internalDate: new Date(Date.UTC(2023, 0, i)) }));
      const r = await drv.append(inbox, msgs, ctx);
      if (IS_ROOT) {
        const { readdirSync, statSync } = await import('node:fs');
        chownSync(inbox, TEST_UID, TEST_GID);
        if (statSync(inbox).isDirectory()) for (const n of readdirSync(inbox)) chownSync(join(inbox, n), TEST_UID, TEST_GID);
      }
      const p = await pop();
      expect(await p.readLine()).toBe('+OK Mailbox open, 3 messages');
      p.send('STAT');
      const stat = await p.readLine();
      expect(stat).toMatch(/^\+OK 3 \d+$/);
      const list = await multi(p, 'LIST');
      expect(list[0]).toBe('+OK Mailbox scan listing follows');
      const sizes = list.slice(1, 4).map((l) => Number(l.split(' ')[1]));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(Number(stat.split(' ')[2]));
      const uidl = await multi(p, 'UIDL');
      expect(uidl.slice(1, 4)).toEqual(r.uids.map((u, i) => `${i + 1} ${r.uidValidity.toString(16).padStart(8, '0')}${u.toString(16).padStart(8, '0')}`));
      const retr = await multi(p, 'RETR 2');
      expect(retr[0]).toBe(`+OK ${sizes[1]} octets`);
      expect(retr.slice(1)).toEqual(['Subject: m2', 'From: a@example.com', 'Status:   ', '', 'line one of 2', '..dot line', 'last', '.']);
      const top = await multi(p, 'TOP 3 1');
      expect(top.slice(1)).toEqual(['Subject: m3', 'From: a@example.com', 'Status:   ', '', 'line one of 3', '.']);
      // A second POP3 session may not have the mailbox meanwhile.
      const q = spawnDaemon(sb, 'ipop3d');
      clients.push(q);
      await q.readLine();
      q.write('USER dave\r\nPASS pw\r\n');
      await q.readLine();
      expect(await q.readLine(30_000)).toBe("-ERR [IN-USE] Can't get lock.  Mailbox in use");
      p.send('DELE 1');
      expect(await p.readLine()).toBe('+OK Message deleted');
      p.send('QUIT');
      expect(await p.readLine()).toBe('+OK Sayonara');
      expect(await p.exited).toBe(0);
      const p2 = await pop();
      expect(await p2.readLine()).toBe('+OK Mailbox open, 2 messages');
      const uidl2 = await multi(p2, 'UIDL');
      expect(uidl2.slice(1, 3)).toEqual(uidl.slice(2, 4).map((l) => l.replace(/^\d+/, (n) => String(Number(n) - 1))));
      p2.send('QUIT');
      expect(await p2.readLine()).toBe('+OK Sayonara');
    }, 60_000);
  });
}
