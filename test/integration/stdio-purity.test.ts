import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

describe('daemons over stdio', () => {
  it('imapd greets, answers CAPABILITY and LOGOUT, writes nothing to stderr', async () => {
    sb = makeSandbox();
    const c = spawnDaemon(sb, 'imapd');
    const greeting = await c.readLine();
    expect(greeting).toMatch(/^\* (OK|PREAUTH) /);
    const cap = await c.command('a', 'CAPABILITY');
    expect(cap[0]).toMatch(/^\* CAPABILITY .*IMAP4REV1/i);
    expect(cap.at(-1)).toMatch(/^a OK/);
    const bye = await c.command('b', 'LOGOUT');
    expect(bye[0]).toMatch(/^\* BYE/);
    expect(bye.at(-1)).toMatch(/^b OK/);
    expect(await c.exited).toBe(0);
    expect(c.stderr).toBe('');
  });
  it('a client that reads slowly (output blocked again and again) gets every byte, and nothing goes to stderr', async () => {
    sb = makeSandbox();
    // About 3 MB of mail: far more than a pipe holds, so writes wait for the reader many times.
    const body = ('x'.repeat(76) + '\n').repeat(1000);
    let spool = '';
    for (let i = 0; i < 40; i++) spool += `From a@example.com Mon Jan  2 03:04:05 2023\nSubject: m${i}\n\n${body}\n`;
    const c = spawnDaemon(sb, 'imapd');
    await c.readLine();
    const who = await c.command('w', 'NAMESPACE');
    expect(who.at(-1)).toMatch(/^w OK/);
    sb.writeFile(join(sb.root, 'big.mbox'), spool);
    c.child.stdout.pause();
    c.send(`f SELECT ${join(sb.root, 'big.mbox')}`);
    c.send('g FETCH 1:* BODY.PEEK[]');
    // Let the server fill the pipe and wait, several times over.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 30));
      c.child.stdout.resume();
      await new Promise((r) => setTimeout(r, 5));
      c.child.stdout.pause();
    }
    c.child.stdout.resume();
    let lines: string[] = [];
    for (;;) {
      const l = await c.readLine(20_000);
      lines.push(l);
      if (l.startsWith('g ')) break;
    }
    expect(lines.at(-1)).toMatch(/^g OK/);
    expect(lines.filter((l) => /^\* \d+ FETCH \(BODY\[\] \{\d+\}$/.test(l)).length).toBe(40);
    lines = [];
    const bye = await c.command('z', 'LOGOUT');
    expect(bye.at(-1)).toMatch(/^z OK/);
    expect(await c.exited).toBe(0);
    expect(c.stderr).toBe('');
  });
});
