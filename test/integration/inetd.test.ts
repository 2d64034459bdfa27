import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { makeSandbox, spawnDaemon, BIN, IS_ROOT, TEST_UID, TEST_GID, type Sandbox } from '../helpers/sandbox.js';
import { TcpClient } from '../helpers/servers.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
let sb: Sandbox;
let launcher: ChildProcess | undefined;
afterEach(() => {
  launcher?.kill('SIGKILL');
  launcher = undefined;
  sb?.cleanup();
});

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

async function connectRetry(port: number): Promise<TcpClient> {
  for (let i = 0; i < 50; i++) {
    try {
      return await TcpClient.connect(port);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('launcher did not listen');
}

/** The telnet walk-through of the seeds: greeting, login/PREAUTH, select, uid fetch, logout. */
async function walkThrough(c: TcpClient): Promise<void> {
  const g = await c.readLine();
  expect(g).toMatch(/^\* PREAUTH /);
  const s = await c.command('b', 'select inbox');
  expect(s.at(-1)).toMatch(/^b OK \[READ-WRITE\]/);
  const f = await c.command('c', 'uid fetch 1 body.peek[]');
  expect(f[0]).toMatch(/^\* 1 FETCH \(UID 1 BODY\[\] \{\d+\}$/);
  expect(f.join('\n')).toContain('Subject: hello inetd');
  const l = await c.command('d', 'logout');
  expect(l[0]).toMatch(/^\* BYE /);
  // The daemon closes the mailbox (and writes its scan cache) after the
  // tagged OK: let it finish before the sandbox is removed.
  await c.ended();
}

function prepare(): void {
  sb = makeSandbox();
  const user = (spawnSync('sh', ['-c', `getent passwd ${TEST_UID} | cut -d: -f1`], { encoding: 'utf8' }).stdout.trim() || `uid${TEST_UID}`);
  sb.writeFile(`${sb.spool}/${user}`, 'From a@example.com Mon Jan  2 03:04:05 2023\nSubject: hello inetd\n\nbody\n\n');
}

const daemonCmd = () => [process.execPath, BIN('imapd'), '--config', sb.configFile];

describe('behind an inetd-style launcher', () => {
  it.skipIf(!has('systemd-socket-activate'))('systemd-socket-activate --accept --inetd: the socket is stdin/stdout, the peer address is logged', async () => {
    prepare();
    const port = await freePort();
    launcher = spawn('systemd-socket-activate', ['--accept', '--inetd', '-l', `127.0.0.1:${port}`, ...daemonCmd()], {
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '', HOME: sb.home, TZ: 'UTC' },
      ...(IS_ROOT ? { uid: TEST_UID, gid: TEST_GID } : {}),
    });
    const c = await connectRetry(port);
    await walkThrough(c);
    await new Promise((r) => setTimeout(r, 300));
    expect(sb.log()).toMatch(/Preauthenticated user=\S+ host=\[127\.0\.0\.1\]/);
  });

  it.skipIf(!has('socat'))('socat TCP-LISTEN … EXEC: (a socket pair on stdio)', async () => {
    prepare();
    const port = await freePort();
    launcher = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `EXEC:${daemonCmd().join(' ')}`], {
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '', HOME: sb.home, TZ: 'UTC' },
      ...(IS_ROOT ? { uid: TEST_UID, gid: TEST_GID } : {}),
    });
    const c = await connectRetry(port);
    await walkThrough(c);
  });
});

describe('nothing but protocol bytes on stdout and stderr', () => {
  for (const [prog, greet, quit, bye] of [
    ['imapd', /^\* (OK|PREAUTH) /, 'z LOGOUT', /^z OK LOGOUT completed$/],
    ['ipop3d', /^\+OK POP3 /, 'QUIT', /^\+OK Sayonara$/],
    ['ipop2d', /^(\+ POP2 |- POP2 server disabled)/, 'QUIT', /^\+ Sayonara$/],
  ] as const) {
    it(`${prog}: normal session, bad input, abrupt end`, async () => {
      sb = makeSandbox({ plaintext: 'always' });
      const c = spawnDaemon(sb, prog);
      expect(await c.readLine()).toMatch(greet);
      c.send('garbage command here');
      const reply = await c.readLine();
      expect(reply).toMatch(/^(\S+ BAD |-ERR |- )/);
      if (prog !== 'ipop2d') {
        c.send(quit);
        let last = '';
        while (!bye.test(last)) last = await c.readLine();
      }
      expect(await c.exited).toBe(0);
      expect(c.stderr).toBe('');
      // A second session that just disconnects.
      const d = spawnDaemon(sb, prog);
      await d.readLine();
      d.end();
      expect(await d.exited).toBe(0);
      expect(d.stderr).toBe('');
      expect(sb.log()).toMatch(/Unexpected client disconnect, while reading line/);
    });
  }

  it('a bad configuration gives a protocol-level refusal and exit 78 (EX_CONFIG)', async () => {
    sb = makeSandbox({ 'no-such-key': 'x' });
    for (const [prog, text] of [
      ['imapd', '* BYE Server configuration error'],
      ['ipop3d', '-ERR Server configuration error'],
      ['ipop2d', '- Server configuration error'],
    ] as const) {
      const c = spawnDaemon(sb, prog);
      expect(await c.readLine()).toBe(text);
      expect(await c.exited).toBe(78);
      expect(c.stderr).toBe('');
    }
    const r = spawnSync(process.execPath, [BIN('imapd'), '--config', sb.configFile, '--show-config'], { encoding: 'utf8' });
    expect(r.status).toBe(78);
  });
});
