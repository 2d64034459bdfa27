// Bundle each per-connection program (the daemons inetd starts and the
// delivery agents an MTA starts) into one CommonJS file, dist/bundle/<name>.cjs,
// and record a V8 code cache for it (dist/bundle/<name>.cache) from a short
// real run. bin/boot.cjs loads them; without them it falls back to dist/cli.
// A process start then reads and compiles one file instead of resolving and
// compiling ~130 ES modules: see docs/performance.md (start-up).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROGRAMS = ['imapd', 'ipop3d', 'ipop2d', 'tmail', 'dmail'];
const out = 'dist/bundle';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: Object.fromEntries(PROGRAMS.map((p) => [p, `dist/cli/${p}.js`])),
  outdir: out,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // native addons and what is loaded lazily by name stay in node_modules
  external: ['better-sqlite3', 'koffi', 'bcryptjs', 'iconv-lite', 'pino'],
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: ['scripts/import-meta-url.cjs'],
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
});

// The code cache: run each program once (a greeting and a logout, or --help)
// with UWIMAP_CODE_CACHE_WRITE set; bin/boot.cjs writes V8's cache at exit,
// holding the functions that run gets compiled.
const sandbox = mkdtempSync(join(tmpdir(), 'uwimap-cache-'));
try {
  chmodSync(sandbox, 0o755);
  mkdirSync(join(sandbox, 'spool'), { mode: 0o1777 });
  chmodSync(join(sandbox, 'spool'), 0o1777);
  const conf = join(sandbox, 'c.conf');
  writeFileSync(conf, `hostname = build\nlog-target = none\nspool-directory = ${join(sandbox, 'spool')}\nstate-directory = ${sandbox}\n`);
  const runs = {
    imapd: { args: ['--config', conf], input: 'a CAPABILITY\r\nb LOGOUT\r\n' },
    ipop3d: { args: ['--config', conf], input: 'CAPA\r\nQUIT\r\n' },
    ipop2d: { args: ['--config', conf], input: 'QUIT\r\n' },
    tmail: { args: ['--help'], input: '' },
    dmail: { args: ['--help'], input: '' },
  };
  for (const p of PROGRAMS) {
    const cache = join(out, `${p}.cache`);
    const r = spawnSync(process.execPath, [join('bin', p), ...runs[p].args], {
      input: runs[p].input,
      env: { PATH: process.env.PATH, HOME: sandbox, UWIMAP_CODE_CACHE_WRITE: cache },
      timeout: 20000,
      cwd: process.cwd(),
    });
    if (!existsSync(cache)) process.stderr.write(`note: no code cache for ${p} (exit ${r.status}); it starts without one\n`);
  }
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
