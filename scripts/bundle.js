// Bundle each per-connection program (the daemons inetd starts and the
// delivery agents an MTA starts) into one CommonJS file, dist/bundle/<name>.cjs,
// and record a V8 code cache for it (dist/bundle/<name>.cache) from a short
// real run. bin/boot.cjs loads them; without them it falls back to dist/cli.
// A process start then reads and compiles one file instead of resolving and
// compiling ~130 ES modules: see docs/performance.md (start-up).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, chmodSync, chownSync, copyFileSync, readdirSync } from 'node:fs';
import { writeCorpus } from '../bench/corpus.js';
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

// The code cache: run each program once through a real session with
// UWIMAP_CODE_CACHE_WRITE set; bin/boot.cjs writes V8's cache at exit, holding
// every function that session compiled (login, SELECT, FETCH, SEARCH, STORE,
// EXPUNGE, APPEND, COPY … for imapd), so a real session compiles little.
// The session logs in as a virtual user (SQLite) of a throw-away sandbox.
const sandbox = mkdtempSync(join(tmpdir(), 'uwimap-cache-'));
try {
  const IS_ROOT = process.getuid() === 0;
  const uid = IS_ROOT ? 65534 : process.getuid();
  const gid = IS_ROOT ? 65534 : process.getgid();
  chmodSync(sandbox, 0o755);
  const home = join(sandbox, 'home');
  const state = join(sandbox, 'state');
  const spool = join(sandbox, 'spool');
  const cacheOut = join(sandbox, 'cache');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(state, { mode: 0o700 });
  mkdirSync(spool);
  chmodSync(spool, 0o1777);
  mkdirSync(cacheOut);
  chmodSync(cacheOut, 0o777); // written at exit, after the session became the user
  await writeCorpus(40, join(home, 'INBOX'), 7);
  const conf = join(sandbox, 'c.conf');
  const db = join(state, 'users.sqlite');
  writeFileSync(
    conf,
    `hostname = build\nlog-target = none\nspool-directory = ${spool}\nstate-directory = ${state}\nauth-modules = sqlite\nvirtual-users-db = ${db}\n` +
      `virtual-uid = ${uid}\nvirtual-gid = ${gid}\nvirtual-mail-root = ${home}\nplaintext = always\nlogin-failure-delay = 0\n`,
  );
  const added = spawnSync(process.execPath, [join('bin', 'uwimap-users'), '--config', conf, 'add', 'build'], { input: 'build\n', encoding: 'utf8' });
  if (IS_ROOT) {
    for (const d of [home, join(home, 'INBOX'), state]) chownSync(d, uid, gid);
    for (const f of readdirSync(state)) chownSync(join(state, f), uid, gid);
  }
  const msg = 'From: a@example.com\r\nSubject: saved\r\n\r\nbody\r\n';
  const imap = [
    'a LOGIN build build',
    'b SELECT INBOX',
    'c FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)',
    'd FETCH 1:5 (BODY.PEEK[] BODY.PEEK[HEADER.FIELDS (From Subject)] BINARY.PEEK[1] BODY.PEEK[TEXT])',
    'e SEARCH TEXT "zebra"',
    'f SEARCH FROM "alice" SUBJECT "invoice" SINCE 1-Jun-2023',
    'g UID STORE 1:* +FLAGS.SILENT (\\Seen)',
    'h STORE 1:3 +FLAGS (\\Deleted)',
    'i EXPUNGE',
    'j CREATE saved',
    'k COPY 1:5 saved',
    `l APPEND saved (\\Seen) {${msg.length}+}\r\n${msg}`,
    'm STATUS saved (MESSAGES UIDNEXT UNSEEN)',
    'n LIST "" "*"',
    'o CLOSE',
    // INBOX again, unchanged since: opened from its scan cache (mapped, derived columns)
    'o1 SELECT INBOX',
    'o2 FETCH 1:* (FLAGS UID)',
    'o3 CLOSE',
    'p LOGOUT',
  ];
  const runs = {
    imapd: { args: ['--config', conf], input: added.status === 0 ? imap.join('\r\n') + '\r\n' : 'a CAPABILITY\r\nb LOGOUT\r\n' },
    ipop3d: { args: ['--config', conf], input: ['CAPA', 'USER build', 'PASS build', 'STAT', 'LIST', 'UIDL', 'RETR 1', 'TOP 2 5', 'DELE 1', 'QUIT'].join('\r\n') + '\r\n' },
    ipop2d: { args: ['--config', conf], input: ['HELO build build', 'READ 1', 'RETR', 'ACKS', 'QUIT'].join('\r\n') + '\r\n' },
    tmail: { args: ['--help'], input: '' },
    dmail: { args: ['--help'], input: '' },
  };
  for (const p of PROGRAMS) {
    const tmp = join(cacheOut, `${p}.cache`);
    const r = spawnSync(process.execPath, [join('bin', p), ...runs[p].args], {
      input: runs[p].input,
      env: { PATH: process.env.PATH, HOME: home, TZ: 'UTC', UWIMAP_CODE_CACHE_WRITE: tmp },
      timeout: 30000,
      cwd: process.cwd(),
    });
    if (existsSync(tmp)) copyFileSync(tmp, join(out, `${p}.cache`));
    else process.stderr.write(`note: no code cache for ${p} (exit ${r.status}); it starts without one\n`);
  }
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
