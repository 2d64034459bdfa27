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
import { spawnSync } from 'node:child_process';
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
