import { describe, it, expect, afterEach } from 'vitest';
import { makeSandbox, spawnDaemon, type Sandbox, type StdioClient } from '../helpers/sandbox.js';
import { withVirtualUsers, startListener, TcpClient, type RunningListener } from '../helpers/servers.js';

let sb: Sandbox | undefined;
let listener: RunningListener | undefined;
const clients: StdioClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.kill();
  listener?.child.kill();
  listener = undefined;
  sb?.cleanup();
  sb = undefined;
});

async function imap(): Promise<StdioClient> {
  const i = spawnDaemon(sb!, 'imapd');
  clients.push(i);
  await i.readLine();
  await i.command('l', 'LOGIN dave pw');
  return i;
}
async function pop(): Promise<StdioClient> {
  const p = spawnDaemon(sb!, 'ipop3d');
  clients.push(p);
  await p.readLine();
  p.write('USER dave\r\nPASS pw\r\n');
  await p.readLine();
  return p;
}
async function uidl(p: StdioClient): Promise<string[]> {
  p.send('UIDL');
  const [status, ...out] = await p.readUntilDot();
  expect(status).toBe('+OK Unique-ID listing follows');
  return out;
}

describe('POP3 and IMAP on one mailbox', () => {
  it('POP3 deletions are gone for IMAP, IMAP \\Deleted hides from POP3, UIDL survives an IMAP expunge of others', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { dave: 'pw' }, { plaintext: 'always' });
    let i = await imap();
    for (const n of [1, 2, 3, 4]) await i.command(`a${n}`, `APPEND INBOX {20+}\r\nSubject: m${n}\r\n\r\nbody\r\n`);
    await i.command('s', 'SELECT INBOX');
    await i.command('d', 'STORE 2 +FLAGS (\\Deleted)');
    await i.command('o', 'LOGOUT');
    let p = await pop();
    expect(await p.readLine()).toBe('+OK Mailbox open, 3 messages'); // \Deleted is hidden
    const before = await uidl(p);
    expect(before.map((l) => l.slice(-8))).toEqual(['00000001', '00000003', '00000004']);
    p.send('DELE 1');
    expect(await p.readLine()).toBe('+OK Message deleted');
    p.send('QUIT');
    expect(await p.readLine()).toBe('+OK Sayonara');
    i = await imap();
    let r = await i.command('s', 'SELECT INBOX');
    expect(r).toContain('* 3 EXISTS');
    r = await i.command('f', 'UID FETCH 1:* (UID)');
    expect(r.filter((l) => l.startsWith('*'))).toEqual(['* 1 FETCH (UID 2)', '* 2 FETCH (UID 3)', '* 3 FETCH (UID 4)']);
    // IMAP expunges message 2 (\Deleted) and 4; POP3's UIDL of the one left is unchanged.
    await i.command('d', 'UID STORE 4 +FLAGS (\\Deleted)');
    await i.command('e', 'EXPUNGE');
    await i.command('o', 'LOGOUT');
    p = await pop();
    expect(await p.readLine()).toBe('+OK Mailbox open, 1 messages');
    expect(await uidl(p)).toEqual([`1 ${before[1].split(' ')[1]}`]);
    p.send('QUIT');
    await p.readLine();
  });
});

describe('POP2 over a raw socket', () => {
  it('follows the RFC 937 example session: HELO, READ, RETR, ACKS, ACKD, FOLD, NACK, QUIT', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { dave: 'pw' }, { plaintext: 'always' });
    let i = await imap();
    await i.command('c', 'CREATE work');
    await i.command('a1', 'APPEND INBOX {28+}\r\nSubject: first\r\n\r\nfirst body\r\n');
    await i.command('a2', 'APPEND INBOX {30+}\r\nSubject: second\r\n\r\nsecond body\r\n');
    await i.command('a3', 'APPEND work {26+}\r\nSubject: filed\r\n\r\nin work\r\n\r\n');
    await i.command('o', 'LOGOUT');
    listener = await startListener(sb, { pop2: '127.0.0.1:0' });
    const c = await TcpClient.connect(listener.ports.pop2);
    expect(await c.readLine()).toMatch(/^\+ POP2 testhost .*server ready$/);
    c.send('HELO dave pw');
    expect(await c.readLine()).toBe('#2 messages in INBOX');
    c.send('READ');
    const retr = async (expectSubject: string) => {
      const m = /^=(\d+) characters in message (\d+)$/.exec(await c.readLine());
      expect(m).not.toBeNull();
      c.send('RETR');
      let got = 0;
      const lines: string[] = [];
      while (got < Number(m![1])) {
        const l = await c.readLine();
        lines.push(l);
        got += Buffer.byteLength(l, 'latin1') + 2;
      }
      expect(got).toBe(Number(m![1]));
      expect(lines[0]).toBe(`Subject: ${expectSubject}`);
      return lines;
    };
    await retr('first');
    c.send('ACKS'); // keep it, as seen; the next message's size follows
    await retr('second');
    c.send('ACKD'); // delete it
    expect(await c.readLine()).toBe('=0 No more messages');
    c.send('FOLD work');
    expect(await c.readLine()).toBe('#1 messages in work');
    c.send('READ 1');
    await retr('filed');
    c.send('NACK'); // leave it unseen; like ACKS/ACKD the answer is the next message's size
    expect(await c.readLine()).toBe('=0 No more messages');
    c.send('QUIT');
    expect(await c.readLine()).toBe('+ Sayonara');
    // INBOX kept the first message (seen), lost the second; work is unchanged and unseen.
    i = await imap();
    const r = await i.command('s', 'STATUS INBOX (MESSAGES UNSEEN)');
    expect(r[0]).toBe('* STATUS INBOX (MESSAGES 1 UNSEEN 0)');
    const w = await i.command('t', 'STATUS work (MESSAGES UNSEEN)');
    expect(w[0]).toBe('* STATUS work (MESSAGES 1 UNSEEN 1)');
  });
});
