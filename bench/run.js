// Benchmark harness: runs IMAP workloads on a deterministic corpus against our
// imapd and, side by side in the same run, against any other stdio IMAP server
// (Dovecot's /usr/lib/dovecot/imap by default when installed), and prints the
// ratios. Every workload starts from a fresh copy of the corpus in a fresh
// PREAUTH session over stdio, the way `ssh host imapd` runs a server.
//
//   npm run bench                      # 1k messages, ours vs Dovecot if present
//   npm run bench -- --size 10k        # or 50k
//   npm run bench -- --reps 5 --only select-cold,fetch-fast
//   npm run bench -- --compare none    # ours only
//   npm run bench -- --compare-cmd '/path/to/server --flags'   # any stdio PREAUTH server
//
// Writes bench/out/results-<size>.json and bench/out/results-<size>.md.
// Measures per step: median wall time, server CPU (utime+stime from /proc),
// peak RSS (VmHWM) and PSS (smaps_rollup) of the server process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, copyFileSync, rmSync, writeFileSync, readFileSync, chownSync, mkdtempSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { writeCorpus } from './corpus.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..');
const OUT = join(HERE, 'out');
const IS_ROOT = process.getuid() === 0;
const UID = IS_ROOT ? 65534 : process.getuid();
const GID = IS_ROOT ? 65534 : process.getgid();
const TICK = 100; // clock ticks per second on Linux

// ------------------------------------------------------------------ options
const argv = process.argv.slice(2);
function opt(name, def) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  return argv[i + 1];
}
const SIZES = { '1k': 1000, '10k': 10000, '50k': 50000 };
const sizeName = opt('size', '1k');
const COUNT = SIZES[sizeName] ?? Number(sizeName);
const REPS = Number(opt('reps', COUNT >= 50000 ? 1 : COUNT >= 10000 ? 2 : 3));
const only = opt('only', '')?.split(',').filter(Boolean) ?? [];
const compare = opt('compare', 'dovecot');
const compareCmd = opt('compare-cmd', '');

// ------------------------------------------------------------------ servers
const DOVECOT = '/usr/lib/dovecot/imap';
function servers() {
  const list = [
    {
      name: 'ours',
      setup(home, root) {
        const conf = join(root, 'uwimap.conf');
        writeFileSync(conf, `hostname = bench\nlog-target = none\nspool-directory = ${join(root, 'spool')}\nstate-directory = ${join(root, 'state')}\n`);
        return { cmd: process.execPath, args: [join(REPO, 'bin', 'imapd'), '--config', conf] };
      },
      // POP3 has no pre-authentication: a virtual user whose mail root is the home, logged in untimed.
      setupPop(home, root) {
        const conf = join(root, 'uwimap-pop.conf');
        const db = join(root, 'state', 'users.sqlite');
        writeFileSync(conf, `hostname = bench\nlog-target = none\nspool-directory = ${join(root, 'spool')}\nstate-directory = ${join(root, 'state')}\nauth-modules = sqlite\nvirtual-users-db = ${db}\nvirtual-uid = ${UID}\nvirtual-gid = ${GID}\nvirtual-mail-root = ${home}\nplaintext = always\nlogin-failure-delay = 0\n`);
        const r = spawnSync(process.execPath, [join(REPO, 'bin', 'uwimap-users'), '--config', conf, 'add', 'bench'], { input: 'bench\n', encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`uwimap-users: ${r.stderr}`);
        if (IS_ROOT) for (const f of ['users.sqlite', 'users.sqlite-wal', 'users.sqlite-shm']) if (existsSync(join(root, 'state', f))) chownSync(join(root, 'state', f), UID, GID);
        return { cmd: process.execPath, args: [join(REPO, 'bin', 'ipop3d'), '--config', conf], login: ['USER bench', 'PASS bench'] };
      },
    },
  ];
  if (compareCmd) {
    const [cmd, ...args] = compareCmd.split(' ').filter(Boolean);
    list.push({ name: 'other', setup: () => ({ cmd, args }) });
  } else if (compare === 'dovecot' && existsSync(DOVECOT)) {
    list.push({
      name: 'dovecot',
      setup(home, root) {
        const conf = join(root, 'dovecot.conf');
        writeFileSync(
          conf,
          `mail_location = mbox:~/mail:INBOX=~/mbox\nssl = no\nlog_path = /dev/null\ninfo_log_path = /dev/null\nbase_dir = ${join(root, 'dovecot-base')}\n`,
        );
        return { cmd: DOVECOT, args: ['-c', conf] };
      },
      setupPop(home, root) {
        const conf = join(root, 'dovecot.conf');
        writeFileSync(conf, `mail_location = mbox:~/mail:INBOX=~/mbox\nssl = no\nlog_path = /dev/null\ninfo_log_path = /dev/null\nbase_dir = ${join(root, 'dovecot-base')}\npop3_uidl_format = %08Xv%08Xu\n`);
        // Pre-authenticated Dovecot POP3 starts in TRANSACTION state without a greeting.
        return { cmd: '/usr/lib/dovecot/pop3', args: ['-c', conf], login: [], greeting: false };
      },
    });
  }
  return list;
}

// ------------------------------------------------------------------ client
/** A fast IMAP response scanner over a child's stdout: skips literals without copying them. */
class Client {
  constructor(child) {
    this.child = child;
    this.chunks = [];
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.waiter = null;
    this.litLeft = 0;
    this.lines = [];
    this.exited = new Promise((res) => child.on('exit', (c) => res(c)));
    child.stdout.on('data', (d) => {
      this.feed(d);
      if (this.waiter) this.waiter();
    });
    child.stdin.on('error', () => {});
  }
  feed(d) {
    // Consume literals directly from incoming chunks; keep only line text.
    let off = 0;
    while (off < d.length) {
      if (this.litLeft > 0) {
        const take = Math.min(this.litLeft, d.length - off);
        this.litLeft -= take;
        off += take;
        continue;
      }
      const nl = d.indexOf(10, off);
      if (nl < 0) {
        this.partial = this.partial ? Buffer.concat([this.partial, d.subarray(off)]) : Buffer.from(d.subarray(off));
        return;
      }
      let line = d.subarray(off, nl);
      if (this.partial) {
        line = Buffer.concat([this.partial, line]);
        this.partial = null;
      }
      off = nl + 1;
      const s = line.toString('latin1');
      const m = /\{(\d+)\}\r?$/.exec(s);
      if (m) this.litLeft = Number(m[1]);
      this.lines.push(s.replace(/\r$/, ''));
    }
  }
  async waitLine(pred, what) {
    for (;;) {
      while (this.lines.length) {
        const l = this.lines.shift();
        if (pred(l)) return l;
      }
      await new Promise((res, rej) => {
        this.waiter = res;
        this.exited.then(() => rej(new Error(`server exited while waiting for ${what}`)));
      });
      this.waiter = null;
    }
  }
  send(s) {
    this.child.stdin.write(s);
  }
  async cmd(tag, text) {
    this.send(`${tag} ${text}\r\n`);
    const l = await this.waitLine((x) => x.startsWith(tag + ' '), tag);
    if (!/^\S+ OK/.test(l)) throw new Error(`${text.slice(0, 60)} → ${l}`);
    return l;
  }
}

// ------------------------------------------------------------- /proc probes
function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
  } catch {
    return NaN;
  }
}
/**
 * VmHWM (the kernel's own peak) and PSS of a process. `pss: false` skips
 * PSS: reading smaps_rollup walks every page of the process (about 3 ms for
 * a 140 MB one against 40 µs for status), so the samplers read it only
 * every PSS_EVERY-th tick — read every 25 ms it held up this client's loop
 * and the server's memory map, the more the larger the server.
 */
const PSS_EVERY = 20;
function procMem(pid, { pss: withPss = true } = {}) {
  let hwm = 0;
  let pss = 0;
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    hwm = Number(/VmHWM:\s+(\d+)/.exec(st)?.[1] ?? 0) * 1024;
  } catch {}
  if (withPss) {
    try {
      const sm = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss = Number(/Pss:\s+(\d+)/.exec(sm)?.[1] ?? 0) * 1024;
    } catch {}
  }
  return { hwm, pss };
}

// ------------------------------------------------------------------ sessions
function freshHome(corpus) {
  const root = mkdtempSync(join(tmpdir(), 'uwimap-bench-'));
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(join(home, 'mail'), { mode: 0o700 });
  mkdirSync(join(root, 'spool'), { mode: 0o1777 });
  chmodSync(join(root, 'spool'), 0o1777);
  mkdirSync(join(root, 'state'), { mode: 0o700 });
  if (corpus) copyFileSync(corpus, join(home, 'mbox'));
  else writeFileSync(join(home, 'mbox'), '');
  if (IS_ROOT) for (const p of [home, join(home, 'mail'), join(home, 'mbox'), join(root, 'state')]) chownSync(p, UID, GID);
  return { root, home };
}

async function startSession(server, env) {
  const { cmd, args } = server.setup(env.home, env.root);
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, {
    cwd: env.home,
    env: { PATH: process.env.PATH, HOME: env.home, USER: 'nobody', LOGNAME: 'nobody', TZ: 'UTC' },
    stdio: ['pipe', 'pipe', 'ignore'],
    ...(IS_ROOT ? { uid: UID, gid: GID } : {}),
  });
  const c = new Client(child);
  const greeting = await c.waitLine(() => true, 'greeting');
  const greetMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!/^\* PREAUTH/.test(greeting)) throw new Error(`${server.name}: expected PREAUTH, got ${greeting}`);
  let peak = { hwm: 0, pss: 0 };
  let tick = 0;
  const sampler = setInterval(() => {
    const m = procMem(child.pid, { pss: tick++ % PSS_EVERY === 0 });
    peak = { hwm: Math.max(peak.hwm, m.hwm), pss: Math.max(peak.pss, m.pss) };
  }, 25);
  return {
    c,
    pid: child.pid,
    greetMs,
    peak: () => {
      const m = procMem(child.pid);
      return { hwm: Math.max(peak.hwm, m.hwm), pss: Math.max(peak.pss, m.pss) };
    },
    async end() {
      try {
        c.send('zz LOGOUT\r\n');
      } catch {}
      await Promise.race([c.exited, new Promise((r) => setTimeout(r, 60000))]);
      clearInterval(sampler);
    },
  };
}

function seqChunks(count, step, from, per) {
  const out = [];
  let cur = [];
  for (let i = from; i <= count; i += step) {
    cur.push(i);
    if (cur.length === per) {
      out.push(cur.join(','));
      cur = [];
    }
  }
  if (cur.length) out.push(cur.join(','));
  return out;
}

const APPEND_MSG = (i) =>
  `Date: Mon, 2 Jan 2023 03:04:05 +0000\r\nFrom: Bench <bench@example.com>\r\nTo: You <you@example.com>\r\nSubject: appended ${i}\r\nMessage-ID: <append-${i}@example.com>\r\n\r\n` +
  'This is an appended message body line for the benchmark.\r\n'.repeat(40);

/**
 * Workloads: `prep` runs untimed after the greeting; `run` is timed (wall and
 * server CPU); LOGOUT at the end is untimed except in the logout workload.
 */
const WORKLOADS = [
  { name: 'greeting', greeting: true },
  { name: 'select-cold', run: (s) => s.c.cmd('a', 'SELECT INBOX') },
  {
    name: 'select-warm',
    warmup: true,
    run: (s) => s.c.cmd('a', 'SELECT INBOX'),
  },
  { name: 'fetch-fast', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)') },
  { name: 'envelope', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'FETCH 1:* ENVELOPE') },
  { name: 'bodystructure', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'FETCH 1:* BODYSTRUCTURE') },
  { name: 'body-peek', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'FETCH 1:* BODY.PEEK[]') },
  { name: 'search-text', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'SEARCH TEXT "zebra"') },
  { name: 'search-from', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'SEARCH FROM "alice"') },
  { name: 'search-subject', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'SEARCH SUBJECT "invoice"') },
  { name: 'search-since', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), run: (s) => s.c.cmd('a', 'SEARCH SINCE 1-Jun-2023') },
  {
    name: 'store-close',
    prep: (s) => s.c.cmd('p', 'SELECT INBOX'),
    run: async (s) => {
      await s.c.cmd('a', 'UID STORE 1:* +FLAGS.SILENT (\\Seen)');
      await s.c.cmd('b', 'CLOSE');
    },
  },
  {
    name: 'expunge-half',
    prep: (s) => s.c.cmd('p', 'SELECT INBOX'),
    run: async (s, n) => {
      let k = 0;
      for (const set of seqChunks(n, 2, 1, 2000)) await s.c.cmd(`s${k++}`, `STORE ${set} +FLAGS.SILENT (\\Deleted)`);
      await s.c.cmd('e', 'EXPUNGE');
    },
  },
  {
    name: 'append-1000',
    prep: (s) => s.c.cmd('p', 'CREATE appended'),
    run: async (s) => {
      for (let i = 1; i <= 1000; i++) {
        const m = APPEND_MSG(i);
        await s.c.cmd(`a${i}`, `APPEND appended (\\Seen) {${Buffer.byteLength(m)}+}\r\n${m}`);
      }
    },
  },
  {
    name: 'copy-all',
    prep: async (s) => {
      await s.c.cmd('p', 'SELECT INBOX');
      await s.c.cmd('q', 'CREATE copied');
    },
    run: (s) => s.c.cmd('a', 'COPY 1:* copied'),
  },
  { name: 'logout', prep: (s) => s.c.cmd('p', 'SELECT INBOX'), logout: true },
  { name: 'pop3-session', pop3: true },
  { name: 'idle-50-sessions', idle: true },
];

function median(a) {
  const s = [...a].filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function runOne(server, wl, corpus, n) {
  const env = freshHome(corpus);
  try {
    if (wl.warmup) {
      const w = await startSession(server, env);
      await w.c.cmd('w', 'SELECT INBOX');
      await w.end();
    }
    const s = await startSession(server, env);
    if (wl.greeting) {
      const r = { wall: s.greetMs, cpu: procStat(s.pid), ...s.peak() };
      await s.end();
      return r;
    }
    if (wl.prep) await wl.prep(s, n);
    const cpu0 = procStat(s.pid);
    const t0 = process.hrtime.bigint();
    if (wl.logout) {
      s.c.send('z LOGOUT\r\n');
      const peak = s.peak();
      await s.c.exited;
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      return { wall, cpu: NaN, ...peak };
    }
    await wl.run(s, n);
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = (procStat(s.pid) - cpu0) * 1000;
    const peak = s.peak();
    await s.end();
    return { wall, cpu, ...peak };
  } finally {
    rmSync(env.root, { recursive: true, force: true });
  }
}

/** POP3 session: STAT, LIST, UIDL, RETR every message, DELE every other one, QUIT (the update). */
async function runPop(server, corpus, n) {
  if (!server.setupPop) return { error: 'no POP3 command for this server' };
  const env = freshHome(corpus);
  try {
    // Our virtual user's INBOX is <mail root>/INBOX; Dovecot's is ~/mbox.
    if (server.name === 'ours') {
      copyFileSync(join(env.home, 'mbox'), join(env.home, 'INBOX'));
      if (IS_ROOT) chownSync(join(env.home, 'INBOX'), UID, GID);
      rmSync(join(env.home, 'mbox'));
    }
    const { cmd, args, login, greeting } = server.setupPop(env.home, env.root);
    const child = spawn(cmd, args, {
      cwd: env.home,
      env: { PATH: process.env.PATH, HOME: env.home, USER: 'nobody', LOGNAME: 'nobody', TZ: 'UTC' },
      stdio: ['pipe', 'pipe', 'ignore'],
      ...(IS_ROOT ? { uid: UID, gid: GID } : {}),
    });
    let buf = '';
    let waiter = null;
    child.stdout.on('data', (d) => {
      buf += d.toString('latin1');
      if (waiter) waiter();
    });
    const exited = new Promise((r) => child.on('exit', r));
    const line = async () => {
      for (;;) {
        const i = buf.indexOf('\n');
        if (i >= 0) {
          const l = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          return l;
        }
        await Promise.race([new Promise((r) => (waiter = r)), exited.then(() => { throw new Error('pop3 server exited'); })]);
      }
    };
    const multi = async (c) => {
      child.stdin.write(c + '\r\n');
      const first = await line();
      if (!first.startsWith('+OK')) throw new Error(`${c} → ${first}`);
      // The end is the line holding only ".": looked for as CRLF "." CRLF, not
      // by splitting every line (that made this client, not the server, the
      // slow side of a RETR of 254 MB).
      let from = 0;
      for (;;) {
        if (buf.startsWith('.\r\n')) {
          buf = buf.slice(3);
          return;
        }
        const i = buf.indexOf('\r\n.\r\n', from);
        if (i >= 0) {
          buf = buf.slice(i + 5);
          return;
        }
        from = Math.max(0, buf.length - 4);
        await Promise.race([new Promise((r) => (waiter = r)), exited.then(() => { throw new Error('pop3 server exited'); })]);
      }
    };
    const single = async (c) => {
      child.stdin.write(c + '\r\n');
      const l = await line();
      if (!l.startsWith('+OK')) throw new Error(`${c} → ${l}`);
    };
    if (greeting !== false) await line(); // greeting
    for (const c of login) await single(c);
    let peak = { hwm: 0, pss: 0 };
    let tick = 0;
    const sampler = setInterval(() => {
      const m = procMem(child.pid, { pss: tick++ % PSS_EVERY === 0 });
      peak = { hwm: Math.max(peak.hwm, m.hwm), pss: Math.max(peak.pss, m.pss) };
    }, 25);
    const cpu0 = procStat(child.pid);
    const t0 = process.hrtime.bigint();
    await single('STAT');
    await multi('LIST');
    await multi('UIDL');
    for (let i = 1; i <= n; i++) await multi(`RETR ${i}`);
    for (let i = 1; i <= n; i += 2) await single(`DELE ${i}`);
    const cpu = (procStat(child.pid) - cpu0) * 1000;
    await single('QUIT');
    await exited;
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    clearInterval(sampler);
    return { wall, cpu, ...peak };
  } finally {
    rmSync(env.root, { recursive: true, force: true });
  }
}

/** Memory of idle logged-in sessions: 50 IMAP sessions with INBOX selected, median PSS each. */
async function idleSessions(server, corpus) {
  const env = freshHome(corpus);
  const sessions = [];
  try {
    for (let i = 0; i < 50; i++) {
      const s = await startSession(server, env);
      await s.c.cmd('s', 'EXAMINE INBOX');
      sessions.push(s);
    }
    await new Promise((r) => setTimeout(r, 500));
    const pss = sessions.map((s) => procMem(s.pid).pss);
    return { wall: NaN, cpu: NaN, hwm: Math.max(...sessions.map((s) => procMem(s.pid).hwm)), pss: median(pss) };
  } finally {
    for (const s of sessions) await s.end();
    rmSync(env.root, { recursive: true, force: true });
  }
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const corpus = join(OUT, `corpus-${COUNT}.mbox`);
  if (!existsSync(corpus)) {
    process.stderr.write(`generating ${COUNT}-message corpus…\n`);
    await writeCorpus(COUNT, corpus, 42);
  }
  const list = servers();
  const results = {};
  for (const wl of WORKLOADS) {
    if (only.length && !only.includes(wl.name)) continue;
    results[wl.name] = {};
    for (const srv of list) results[wl.name][srv.name] = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const srv of list) {
        try {
          const r = wl.pop3 ? await runPop(srv, corpus, COUNT) : wl.idle ? (rep === 0 ? await idleSessions(srv, corpus) : null) : await runOne(srv, wl, corpus, COUNT);
          if (r) results[wl.name][srv.name].push(r);
        } catch (e) {
          results[wl.name][srv.name].push({ error: String(e.message ?? e) });
        }
      }
    }
    const line = list
      .map((s) => {
        const r = results[wl.name][s.name];
        const err = r.find((x) => x.error);
        return err ? `${s.name}: ERROR ${err.error}` : `${s.name} ${median(r.map((x) => x.wall)).toFixed(1)} ms`;
      })
      .join('  ');
    process.stderr.write(`${wl.name.padEnd(15)} ${line}\n`);
  }
  const names = list.map((s) => s.name);
  const rows = [];
  for (const [wl, per] of Object.entries(results)) {
    const row = { workload: wl };
    for (const n of names) {
      const r = per[n];
      const err = r.find((x) => x.error);
      row[n] = err
        ? { error: err.error }
        : {
            wallMs: median(r.map((x) => x.wall)),
            cpuMs: median(r.map((x) => x.cpu)),
            peakRssMB: Math.max(...r.map((x) => x.hwm)) / 1048576,
            peakPssMB: Math.max(...r.map((x) => x.pss)) / 1048576,
          };
    }
    if (names.length > 1 && row[names[0]].wallMs && row[names[1]].wallMs) row.ratio = row[names[0]].wallMs / row[names[1]].wallMs;
    rows.push(row);
  }
  const json = { date: new Date().toISOString(), messages: COUNT, reps: REPS, servers: names, rows };
  writeFileSync(join(OUT, `results-${sizeName}.json`), JSON.stringify(json, null, 2));
  const fmt = (v) => (v === undefined || !Number.isFinite(v) ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  let md = `Benchmark: ${COUNT} messages, median of ${REPS}, ${json.date}\n\n`;
  md += `| workload | ${names.map((n) => `${n} wall ms | ${n} cpu ms | ${n} peak RSS MB`).join(' | ')}${names.length > 1 ? ' | ratio |' : ''}\n`;
  md += `|---|${names.map(() => '---|---|---').join('|')}${names.length > 1 ? '|---|' : ''}\n`;
  for (const r of rows) {
    md += `| ${r.workload} | ${names
      .map((n) => (r[n].error ? `error | | ` : `${fmt(r[n].wallMs)} | ${fmt(r[n].cpuMs)} | ${fmt(r[n].peakRssMB)}`))
      .join(' | ')}${names.length > 1 ? ` | ${r.ratio ? r.ratio.toFixed(2) : '–'} |` : ''}\n`;
  }
  const idle = rows.find((r) => r.workload === 'idle-50-sessions');
  if (idle) md += `\nIdle logged-in IMAP sessions (50 open, INBOX examined): median PSS per session ${names.map((n) => `${n} ${fmt(idle[n].peakPssMB)} MB`).join(', ')}.\n`;
  writeFileSync(join(OUT, `results-${sizeName}.md`), md);
  process.stdout.write(md);
}

await main();
// Sessions and helpers may leave handles open (an idle server that has not exited yet): done is done.
process.exit(0);
