import { describe, it, expect, afterEach, beforeAll, beforeEach } from 'vitest';
import { spawnSync, spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import { makeSandbox, spawnDaemon, FORMATS, type Format, type Sandbox } from '../helpers/sandbox.js';
import { withVirtualUsers, startListener, TcpClient, type RunningListener } from '../helpers/servers.js';
import { unixDriver } from '../../src/store/drivers/unix/index.js';
import { mbxDriver } from '../../src/store/drivers/mbx/index.js';
import { mixDriver } from '../../src/store/drivers/mix/index.js';

let sb: Sandbox;
let listener: RunningListener | undefined;
afterEach(async () => {
  await listener?.stop();
  listener = undefined;
  sb?.cleanup();
});

const HAVE_PY = spawnSync('python3', ['-c', 'import imaplib, poplib'], { encoding: 'utf8' }).status === 0;
const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;
let cert = '';
let key = '';
beforeAll(() => {
  if (!HAVE_OPENSSL) return;
  const dir = join(process.env.TMPDIR ?? '/tmp');
  cert = join(dir, `uwimap-test-cert-${process.pid}.pem`);
  key = join(dir, `uwimap-test-key-${process.pid}.pem`);
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  spawnSync('chmod', ['644', key]);
});

function py(script: string): { code: number | null; out: string; err: string } {
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Format of the virtual user's INBOX and new mailboxes in the current test. */
let format: Format = 'unix';
async function listenerWithUser(services: Record<string, string>, extra: Record<string, string> = {}) {
  sb = makeSandbox();
  withVirtualUsers(sb, { alice: 'wonderland' }, { plaintext: 'tls-only', 'new-mailbox-format': format, ...(cert ? { 'tls-cert': cert, 'tls-key': key } : {}), ...extra });
  listener = await startListener(sb, services);
  return listener;
}

for (const fmt of FORMATS) describe(`real clients through the built-in listener, mailboxes in ${fmt} format`, () => {
  beforeEach(() => {
    format = fmt;
  });
  it.skipIf(!HAVE_PY)('Python imaplib: login, append, select, search, fetch, store, expunge', async () => {
    const l = await listenerWithUser({ imap: '127.0.0.1:0' });
    const r = py(`
import imaplib
m = imaplib.IMAP4('127.0.0.1', ${l.ports.imap})
print(m.login('alice', 'wonderland')[0])
print(m.append('INBOX', '(\\\\Flagged)', None, b'Subject: hello\\r\\nFrom: a@example.com\\r\\n\\r\\nhi there\\r\\n')[0])
typ, data = m.select('INBOX'); print(typ, data[0].decode())
typ, data = m.search(None, 'SUBJECT', 'hello'); print(typ, data[0].decode())
typ, data = m.fetch('1', '(FLAGS BODY.PEEK[TEXT])'); print(data[0][0].decode()); print(data[0][1].decode().strip())
print(m.store('1', '+FLAGS', '\\\\Deleted')[0])
typ, data = m.expunge(); print(typ, data[0].decode())
print(m.logout()[0])
`);
    expect(r.err).toBe('');
    expect(r.out.split('\n')).toEqual(['OK', 'OK', 'OK 1', 'OK 1', '1 (FLAGS (\\Flagged \\Recent) BODY[TEXT] {10}', 'hi there', 'OK', 'OK 1', 'BYE', '']);
    // The virtual user's INBOX was made in this format (not a traditional file that the test would also pass on).
    const inbox = join(sb.root, 'vmail', 'alice', 'INBOX');
    expect(await ({ unix: unixDriver, mbx: mbxDriver, mix: mixDriver })[format].detect(inbox)).toBe(true);
  });

  it('imapflow: list, open, append, fetch with envelope and bodystructure, flags, search', async () => {
    const l = await listenerWithUser({ imap: '127.0.0.1:0' });
    const client = new ImapFlow({ host: '127.0.0.1', port: l.ports.imap, secure: false, auth: { user: 'alice', pass: 'wonderland' }, logger: false, tls: { rejectUnauthorized: false }, doSTARTTLS: cert ? true : false });
    await client.connect();
    await client.mailboxCreate('Archive');
    const list = (await client.list()).map((m) => m.path).sort();
    expect(list).toEqual(['Archive', 'INBOX']);
    const raw = 'From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: =?UTF-8?B?w6lsw6hwaGFudA==?=\r\nMessage-ID: <x1@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n';
    const res = await client.append('INBOX', raw, ['\\Seen']);
    expect(res && typeof res === 'object' && 'uid' in res ? res.uid : 0).toBe(1);
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msg = await client.fetchOne('1', { envelope: true, bodyStructure: true, flags: true, uid: true, source: true });
      expect(msg && msg.envelope?.subject).toBe('élèphant');
      expect(msg && msg.envelope?.from?.[0].address).toBe('bob@example.com');
      expect(msg && msg.bodyStructure?.childNodes?.length).toBe(2);
      expect(msg && msg.flags?.has('\\Seen')).toBe(true);
      expect(msg && msg.source?.toString()).toBe(raw);
      await client.messageFlagsAdd('1', ['\\Flagged', 'Important']);
      const found = await client.search({ flagged: true });
      expect(found).toEqual([1]);
      const part = await client.download('1', '2');
      const chunks: Buffer[] = [];
      for await (const c of part.content) chunks.push(c as Buffer);
      expect([...Buffer.concat(chunks)]).toEqual([0, 1, 2]);
      await client.messageMove('1', 'Archive');
    } finally {
      lock.release();
    }
    const st = await client.status('Archive', { messages: true });
    expect(st.messages).toBe(1);
    await client.logout();
  });

  it.skipIf(!HAVE_PY)('Python poplib: STAT/LIST/UIDL/RETR/TOP/DELE, UIDL consistent with the IMAP UID', async () => {
    const l = await listenerWithUser({ imap: '127.0.0.1:0', pop3: '127.0.0.1:0' });
    // Put two messages in alice's INBOX through IMAP.
    const c = await TcpClient.connect(l.ports.imap);
    await c.readLine();
    await c.command('a', 'LOGIN alice wonderland');
    const lit = (m: string) => `{${Buffer.byteLength(m)}+}\r\n${m}`;
    await c.command('b', `APPEND INBOX ${lit('Subject: one\r\n\r\n.leading dot\r\n')}`);
    await c.command('c', `APPEND INBOX ${lit('Subject: two\r\n\r\nx\r\n')}`);
    const st = await c.command('d', 'STATUS INBOX (UIDVALIDITY)');
    const uidv = Number(/UIDVALIDITY (\d+)/.exec(st[0])![1]);
    await c.command('e', 'LOGOUT');
    const r = py(`
import poplib
p = poplib.POP3('127.0.0.1', ${l.ports.pop3})
print(p.user('alice').decode()); print(p.pass_('wonderland').decode())
print(p.stat())
resp, lines, octets = p.list(); print([l.decode() for l in lines])
resp, lines, octets = p.uidl(); print([l.decode() for l in lines])
resp, lines, octets = p.retr(1); print(octets, [l.decode() for l in lines])
resp, lines, octets = p.top(2, 0); print([l.decode() for l in lines])
print(p.dele(1).decode()); print(p.quit().decode())
p = poplib.POP3('127.0.0.1', ${l.ports.pop3}); p.user('alice'); p.pass_('wonderland'); print(p.stat()); p.quit()
`);
    expect(r.err).toBe('');
    const out = r.out.split('\n');
    expect(out[0]).toBe('+OK User name accepted, password please');
    expect(out[1]).toBe('+OK Mailbox open, 2 messages');
    expect(out[2]).toBe('(2, 73)');
    expect(out[3]).toBe("['1 42', '2 31']");
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    expect(out[4]).toBe(`['1 ${hex(uidv)}${hex(1)}', '2 ${hex(uidv)}${hex(2)}']`);
    // poplib counts octets as it received them (with the stuffed dot); the body line comes back unstuffed.
    expect(out[5]).toMatch(/^\d+ \['Subject: one', 'Status:   ', '', '.leading dot'\]$/);
    expect(out[6]).toBe("['Subject: two', 'Status:   ', '']");
    expect(out[7]).toBe('+OK Message deleted');
    expect(out[8]).toBe('+OK Sayonara');
    expect(out[9]).toBe('(1, 31)');
  });

});

describe('real clients through the built-in listener', () => {
  beforeEach(() => {
    format = 'unix';
  });
  it.skipIf(!HAVE_OPENSSL)('STARTTLS over TCP and implicit TLS, verified with node:tls and openssl s_client', async () => {
    const l = await listenerWithUser({ imap: '127.0.0.1:0', imaps: '127.0.0.1:0', pop3: '127.0.0.1:0' });
    // STARTTLS by hand, then LOGIN inside TLS.
    const c = await TcpClient.connect(l.ports.imap);
    expect(await c.readLine()).toMatch(/STARTTLS/);
    expect((await c.command('a', 'STARTTLS')).at(-1)).toBe('a OK STARTTLS completed');
    const secure = tls.connect({ socket: c.sock, rejectUnauthorized: false, servername: 'localhost' });
    secure.on('error', () => undefined);
    await new Promise((r) => secure.once('secureConnect', r));
    expect(secure.getProtocol()).toMatch(/TLSv1\.[23]/);
    const t = new TcpClient(secure);
    const cap = await t.command('b', 'CAPABILITY');
    expect(cap[0]).not.toMatch(/STARTTLS/);
    expect((await t.command('c', 'LOGIN alice wonderland')).at(-1)).toMatch(/^c OK/);
    t.close();
    // Implicit TLS port.
    const s = tls.connect({ port: l.ports.imaps, host: '127.0.0.1', rejectUnauthorized: false });
    s.on('error', () => undefined);
    await new Promise((r) => s.once('secureConnect', r));
    const ti = new TcpClient(s);
    expect(await ti.readLine()).toMatch(/^\* OK \[CAPABILITY IMAP4REV1 .*AUTH=PLAIN/);
    ti.close();
    // openssl s_client -starttls imap / pop3
    for (const [proto, port, cmd, expectText] of [
      ['imap', l.ports.imap, 'a LOGOUT\r\n', /\* BYE/],
      ['pop3', l.ports.pop3, 'QUIT\r\n', /\+OK Sayonara/],
    ] as const) {
      const out = await new Promise<string>((resolve) => {
        const p = spawn('openssl', ['s_client', '-quiet', '-starttls', proto, '-connect', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
        let o = '';
        p.stdout.on('data', (d: Buffer) => (o += d.toString()));
        // s_client does the STARTTLS dance itself; then our command ends the session and s_client exits.
        setTimeout(() => p.stdin.write(cmd), 2000);
        p.on('exit', () => resolve(o));
        setTimeout(() => p.kill(), 15000);
      });
      expect(out).toMatch(expectText);
    }
  });

  it('LOGINDISABLED when plaintext is not allowed; AUTHENTICATE PLAIN with SASL-IR and SCRAM-SHA-256', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { bob: 'secret' }, { plaintext: 'never' });
    const c = spawnDaemon(sb, 'imapd');
    const g = await c.readLine();
    expect(g).toMatch(/LOGINDISABLED/);
    expect(g).toMatch(/AUTH=SCRAM-SHA-256/);
    expect(g).not.toMatch(/AUTH=PLAIN/);
    expect((await c.command('a', 'LOGIN bob secret')).at(-1)).toMatch(/^a NO \[PRIVACYREQUIRED\]/);
    expect((await c.command('b', `AUTHENTICATE PLAIN ${Buffer.from('\0bob\0secret').toString('base64')}`)).at(-1)).toBe('b BAD Command unrecognized');
    // SCRAM-SHA-256 (RFC 7677) done by the test as a client.
    const { createHash, createHmac, pbkdf2Sync } = await import('node:crypto');
    const cnonce = 'rOprNGfwEbeRWgbNEkqO';
    c.send(`c AUTHENTICATE SCRAM-SHA-256 ${Buffer.from(`n,,n=bob,r=${cnonce}`).toString('base64')}`);
    const sf = Buffer.from((await c.readLine()).slice(2), 'base64').toString();
    const attrs = Object.fromEntries(sf.split(',').map((kv) => [kv[0], kv.slice(2)]));
    const salted = pbkdf2Sync('secret', Buffer.from(attrs.s, 'base64'), Number(attrs.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `n=bob,r=${cnonce},${sf},${withoutProof}`;
    const sig = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
    c.send(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`).toString('base64'));
    const r = await c.readTagged('c');
    expect(r.at(-1)).toMatch(/^c OK \[CAPABILITY IMAP4REV1 /);
    expect(sb.log()).toMatch(/Authenticated user=bob host=\S+ mech=SCRAM-SHA-256/);
  });

  it('wrong passwords fail with one generic text, are logged without the password, and sessions end after too many', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { carol: 'right' }, { plaintext: 'always', 'allowed-login-attempts': '2' });
    const c = spawnDaemon(sb, 'imapd');
    await c.readLine();
    expect((await c.command('a', 'LOGIN carol wrong1')).at(-1)).toBe('a NO [AUTHENTICATIONFAILED] Authentication failed');
    expect((await c.command('b', 'LOGIN nobody-here wrong2')).at(-1)).toBe('b NO [AUTHENTICATIONFAILED] Authentication failed');
    expect((await c.command('c', 'LOGIN carol right')).at(-1)).toBe('c NO [AUTHENTICATIONFAILED] Authentication failed');
    const log = sb.log();
    expect(log).toMatch(/Login failed user=carol auth=carol host=/);
    expect(log).toMatch(/excessive login failures/);
    expect(log).not.toMatch(/wrong1|wrong2/);
  });

  it('POP3 over stdio: 500 pipelined commands answered in order; POP2 session as RFC 937', async () => {
    sb = makeSandbox();
    withVirtualUsers(sb, { dave: 'pw' }, { plaintext: 'always' });
    const p = spawnDaemon(sb, 'ipop3d');
    expect(await p.readLine()).toMatch(/^\+OK POP3 /);
    p.write('USER dave\r\nPASS pw\r\n' + 'NOOP\r\n'.repeat(498));
    expect(await p.readLine()).toBe('+OK User name accepted, password please');
    expect(await p.readLine()).toBe('+OK Mailbox open, 0 messages');
    for (let i = 0; i < 498; i++) expect(await p.readLine()).toBe('+OK No-op to you too!');
    p.send('QUIT');
    expect(await p.readLine()).toBe('+OK Sayonara');
    // Give dave a message through IMAP, then read it over POP2.
    const i = spawnDaemon(sb, 'imapd');
    await i.readLine();
    await i.command('a', 'LOGIN dave pw');
    await i.command('b', 'APPEND INBOX {26+}\r\nSubject: pop2\r\n\r\nhello\r\n\r\n');
    await i.command('c', 'LOGOUT');
    const q = spawnDaemon(sb, 'ipop2d');
    expect(await q.readLine()).toMatch(/^\+ POP2 testhost /);
    q.send('HELO dave pw');
    expect(await q.readLine()).toBe('#1 messages in INBOX');
    q.send('READ');
    const sizeLine = await q.readLine();
    expect(sizeLine).toMatch(/^=\d+ characters in message 1$/);
    const n = Number(/^=(\d+)/.exec(sizeLine)![1]);
    q.send('RETR');
    const body = (await q.readBytes(n)).toString();
    expect(body).toBe('Subject: pop2\r\nStatus:   \r\n\r\nhello\r\n\r\n');
    q.send('ACKD');
    expect(await q.readLine()).toBe('=0 No more messages');
    q.send('QUIT');
    expect(await q.readLine()).toBe('+ Sayonara');
    expect(await q.exited).toBe(0);
    const p2 = spawnDaemon(sb, 'ipop3d');
    await p2.readLine();
    p2.write('USER dave\r\nPASS pw\r\nSTAT\r\nQUIT\r\n');
    await p2.readLine();
    await p2.readLine();
    expect(await p2.readLine()).toBe('+OK 0 0');
  });
});

describe('listener limits', () => {
  it('refuses politely beyond max-sessions-per-ip and for denied networks, and keeps serving', async () => {
    const l = await listenerWithUser({ imap: '127.0.0.1:0', pop3: '127.0.0.1:0' }, { 'max-sessions-per-ip': '1' });
    const a = await TcpClient.connect(l.ports.imap);
    expect(await a.readLine()).toMatch(/^\* OK /);
    const b = await TcpClient.connect(l.ports.imap);
    expect(await b.readLine()).toBe('* BYE Too many sessions from your address, try again later');
    const p = await TcpClient.connect(l.ports.pop3);
    expect(await p.readLine()).toBe('-ERR [SYS/TEMP] Too many sessions from your address, try again later');
    a.send('a LOGOUT');
    await a.readLine();
    // Once the first session's process has exited, the address may connect again.
    let greeting = '';
    for (let i = 0; i < 40 && !greeting.startsWith('* OK '); i++) {
      await new Promise((r) => setTimeout(r, 250));
      const c = await TcpClient.connect(l.ports.imap);
      greeting = await c.readLine();
      c.close();
    }
    expect(greeting).toMatch(/^\* OK /);
    expect(sb.log()).toMatch(/Refused imap connection from \[127\.0\.0\.1\]: max-sessions-per-ip reached/);
  });

  it('deny-networks refuses; warm workers serve connections', async () => {
    const l = await listenerWithUser({ imap: '127.0.0.1:0' }, { 'deny-networks': '127.0.0.0/8', 'warm-pool': '2' });
    const a = await TcpClient.connect(l.ports.imap);
    expect(await a.readLine()).toBe('* BYE Access denied');
  });
});

void writeFileSync;
void readFileSync;
