/**
 * The fast start-up path: the daemons' quick command-line parser agrees with
 * commander on every command line it accepts and hands everything else over,
 * and each per-connection program is built as one bundle whose V8 code cache
 * this Node accepts (bin/boot.cjs, scripts/bundle.js).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import vm from 'node:vm';
import Module from 'node:module';
import { quickDaemonArgs } from '../../../src/runtime/args.js';
import { parseDaemonFlags } from '../../../src/runtime/flags.js';

const REPO = join(import.meta.dirname, '..', '..', '..');

describe('daemon command line', () => {
  const lines: string[][] = [
    [],
    ['--config', '/etc/uwimap.conf'],
    ['-c', '/etc/uwimap.conf'],
    ['--config=/etc/uwimap.conf'],
    ['--worker', '--preauth', 'never', '--config', '/x.conf', '--implicit-tls', 'yes'],
    ['--log-target', 'file', '--log-file=/var/log/x', '--log-target', 'none'],
    ['--spool-directory', '/var/mail', '--plaintext', 'always', '--worker'],
    ['--hostname', '--strange-but-a-value'],
  ];
  for (const args of lines) {
    it(`parses ${JSON.stringify(args)} as commander does`, () => {
      const quick = quickDaemonArgs(args);
      expect(quick).toBeDefined();
      expect(quick).toEqual(parseDaemonFlags('imapd', '0', ['node', 'imapd', ...args]));
    });
  }
  it('leaves help, version, --show-config, unknown flags, stray words and missing values to commander', () => {
    for (const args of [['--help'], ['-h'], ['-V'], ['--version'], ['--show-config'], ['--no-such-key', 'x'], ['word'], ['--config'], ['--hostname'], ['-cfile'], ['-x']]) {
      expect(quickDaemonArgs(args), JSON.stringify(args)).toBeUndefined();
    }
  });
});

describe('bundles', () => {
  for (const p of ['imapd', 'ipop3d', 'ipop2d', 'tmail', 'dmail']) {
    it(`${p}: bundle built and its code cache accepted by this Node`, () => {
      const file = join(REPO, 'dist', 'bundle', `${p}.cjs`);
      expect(existsSync(file), `${file} (npm run build)`).toBe(true);
      const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: readFileSync(join(REPO, 'dist', 'bundle', `${p}.cache`)) });
      expect(script.cachedDataRejected).toBe(false);
    });
  }
  it('bin/imapd runs from the bundle with its code cache', () => {
    // A preload that watches vm.Script, through which bin/boot.cjs compiles the bundle.
    const preload = `const vm=require('node:vm');const S=vm.Script;vm.Script=class extends S{constructor(src,o){super(src,o);` +
      `process.on('exit',()=>process.stderr.write('compiled '+o.filename+' cache '+(o.cachedData?(this.cachedDataRejected?'rejected':'accepted'):'none')+'\\n'))}}`;
    const dir = mkdtempSync(join(tmpdir(), 'uwimap-boot-'));
    writeFileSync(join(dir, 'watch.cjs'), preload);
    const r = spawnSync(process.execPath, ['--require', join(dir, 'watch.cjs'), join(REPO, 'bin', 'imapd'), '--version'], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.stderr).toContain(`compiled ${join(REPO, 'dist', 'bundle', 'imapd.cjs')} cache accepted`);
  });
});

describe('the greeting before the socket code', () => {
  // A preload that notes, at the daemon's first write to fd 1, whether Node's
  // net and stream modules were loaded yet.
  const preload =
    `const fs=require('node:fs');const w=fs.writeSync;let seen=false;fs.writeSync=function(fd,...a){` +
    `if(fd===1&&!seen){seen=true;const l=process.moduleLoadList;w(2,'first write: net '+l.includes('NativeModule net')+' stream '+l.includes('NativeModule stream')+'\\n')}` +
    `return w.call(this,fd,...a)}`;
  const ADDON = existsSync(join(REPO, 'build', 'posixcalls.node'));
  function setup(): { dir: string; args: string[] } {
    const dir = mkdtempSync(join(tmpdir(), 'uwimap-greet-'));
    writeFileSync(join(dir, 'first.cjs'), preload);
    writeFileSync(join(dir, 'c.conf'), `hostname = greet\nlog-target = none\npreauth = never\nspool-directory = ${dir}\nstate-directory = ${dir}\n`);
    return { dir, args: ['--require', join(dir, 'first.cjs'), join(REPO, 'bin', 'imapd'), '--config', join(dir, 'c.conf')] };
  }

  it('over pipes (ssh, a test harness): written before net and stream are loaded, and the session goes on', () => {
    const { dir, args } = setup();
    const r = spawnSync(process.execPath, args, { input: 'a CAPABILITY\r\nb LOGOUT\r\n', encoding: 'latin1' });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout).toMatch(/^\* OK \[CAPABILITY IMAP4REV1 [^\]]*\] greet IMAP4rev1 server ready\r\n\* CAPABILITY IMAP4REV1 .*\r\na OK CAPABILITY completed\r\n\* BYE .*\r\nb OK LOGOUT completed\r\n$/s);
    expect(r.stderr).toBe('first write: net false stream false\n');
  });

  it.skipIf(!ADDON)('on an inetd socket: the same, the peer address read without net (addon; skipped where it was not built)', async () => {
    const { dir, args } = setup();
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const accepted = await new Promise<net.Socket>((res) => server.once('connection', res));
    let got = '';
    client.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n') && !got.includes('a CAPABILITY sent')) {
        got += 'a CAPABILITY sent';
        client.write('a CAPABILITY\r\nb LOGOUT\r\n');
      }
    });
    const child = spawn(process.execPath, args, { stdio: [accepted, accepted, 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    accepted.destroy(); // the child holds it now
    await new Promise((res) => child.on('exit', res));
    await new Promise((res) => (client.destroyed ? res(undefined) : client.on('close', res)));
    server.close();
    rmSync(dir, { recursive: true, force: true });
    // Loopback: plaintext logins are offered without TLS (the address was read).
    expect(got).toMatch(/^\* OK \[CAPABILITY IMAP4REV1 [^\]]*AUTH=PLAIN[^\]]*\] greet IMAP4rev1 server ready\r\n/);
    expect(got).toMatch(/a OK CAPABILITY completed\r\n\* BYE [^\r]*\r\nb OK LOGOUT completed\r\n$/);
    expect(err).toBe('first write: net false stream false\n');
  });
});
