import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, IS_ROOT, type Sandbox, type StdioClient } from '../helpers/sandbox.js';

// Anonymous IMAP (UW: enabled by /etc/anonymous.newsgroups): the session runs
// as "nobody", sees only #ftp/ and #public/, and can change nothing.
let sb: Sandbox | undefined;
const clients: StdioClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
  sb?.cleanup();
  sb = undefined;
});

describe.skipIf(!IS_ROOT)('anonymous IMAP', () => {
  it('LOGIN anonymous and AUTHENTICATE ANONYMOUS; only the public namespaces, read-only, no changes', async () => {
    sb = makeSandbox();
    const ftp = join(sb.root, 'ftp');
    const pub = join(sb.root, 'pub');
    mkdirSync(ftp);
    mkdirSync(pub);
    chmodSync(ftp, 0o755);
    chmodSync(pub, 0o1777);
    writeFileSync(join(ftp, 'announce'), 'From a@example.com Mon Jan  2 03:04:05 2023\nSubject: welcome\n\nhello\n\n', { mode: 0o644 });
    writeFileSync(join(pub, 'board'), 'From b@example.com Mon Jan  2 03:04:05 2023\nSubject: notice\n\nboard\n\n', { mode: 0o666 });
    chmodSync(join(pub, 'board'), 0o666);
    const flag = join(sb.root, 'anonymous.newsgroups');
    sb.setConfig({ 'anonymous-file': flag, 'ftp-directory': ftp, 'public-directory': pub, 'shared-directory': 'none', plaintext: 'always' });
    // Off while the file is missing.
    let c = spawnDaemon(sb, 'imapd', { asRoot: true });
    clients.push(c);
    expect(await c.readLine()).not.toContain('AUTH=ANONYMOUS');
    expect((await c.command('a', 'LOGIN anonymous guest@example.com')).at(-1)).toMatch(/^a NO/);
    writeFileSync(flag, '');
    c = spawnDaemon(sb, 'imapd', { asRoot: true });
    clients.push(c);
    expect(await c.readLine()).toContain('AUTH=ANONYMOUS');
    let r = await c.command('b', 'LOGIN anonymous guest@example.com');
    expect(r.at(-1)).toMatch(/^b OK/);
    expect(r.join(' ')).not.toContain('MULTIAPPEND');
    r = await c.command('c', 'NAMESPACE');
    expect(r[0]).toBe('* NAMESPACE NIL NIL (("#ftp/" "/")("#public/" "/"))');
    r = await c.command('d', 'SELECT #public/board');
    expect(r.at(-1)).toBe('d OK [READ-ONLY] SELECT completed');
    r = await c.command('e', 'FETCH 1 (BODY[TEXT])');
    expect(r[0]).toContain('board');
    r = await c.command('f', 'STORE 1 +FLAGS (\\Deleted)');
    expect(r.at(-1)).toMatch(/^f NO/);
    r = await c.command('g', 'SELECT announce'); // relative names are in #ftp/
    expect(r).toContain('* 1 EXISTS');
    for (const [t, cmd] of [['h', 'CREATE #public/mine'], ['i', 'APPEND #public/board {9+}\r\nSubject: x'], ['j', 'DELETE #public/board'], ['k', 'SUBSCRIBE #public/board'], ['l', 'COPY 1 #public/board']] as const) {
      r = await c.command(t, cmd);
      expect(r.at(-1), cmd).toMatch(new RegExp(`^${t} NO`));
    }
    for (const [t, name] of [['m', '/etc/passwd'], ['n', '~root/x'], ['o', '#shared/x'], ['p', '../pub/board']] as const) {
      r = await c.command(t, `SELECT ${name}`);
      expect(r.at(-1), name).toMatch(new RegExp(`^${t} NO`));
    }
    r = await c.command('q', 'LIST "" "#public/*"');
    expect(r.some((l) => l.endsWith('#public/board'))).toBe(true);
    await c.command('z', 'LOGOUT');
    expect(sb.log()).toMatch(/Login anonymous=guest@example.com/);
    // SASL ANONYMOUS (RFC 4505) with the trace in the initial response.
    c = spawnDaemon(sb, 'imapd', { asRoot: true });
    clients.push(c);
    await c.readLine();
    r = await c.command('s', `AUTHENTICATE ANONYMOUS ${Buffer.from('sasl-guest').toString('base64')}`);
    expect(r.at(-1)).toMatch(/^s OK/);
    r = await c.command('t', 'SELECT #ftp/announce');
    expect(r.at(-1)).toBe('t OK [READ-ONLY] SELECT completed');
  });
});
