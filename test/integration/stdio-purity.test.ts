import { describe, it, expect, afterEach } from 'vitest';
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
});
