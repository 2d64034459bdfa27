// Mailbox-format benchmark: the same corpus stored as a traditional UNIX
// mbox, an mbx file and a mix directory, driven through the store drivers
// (no protocol in between). Times per format: first read-write open (UIDs
// and \Recent claimed), a second open, reading every message, and an
// expunge of every tenth message (including the rewrite/compaction/burp).
//
//   node bench/formats.js            # 10k messages
//   node bench/formats.js --size 1k --reps 3
//
// Prints a markdown table and writes bench/out/formats-<size>.md.
import { mkdtempSync, rmSync, copyFileSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './corpus.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, '..', 'dist', 'store', 'drivers');
const { unixDriver } = await import(join(DIST, 'unix', 'index.js'));
const { mbxDriver } = await import(join(DIST, 'mbx', 'index.js'));
const { mixDriver } = await import(join(DIST, 'mix', 'index.js'));

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const SIZES = { '1k': 1000, '10k': 10000, '50k': 50000 };
const sizeName = opt('size', '10k');
const COUNT = SIZES[sizeName] ?? Number(sizeName);
const REPS = Number(opt('reps', '3'));

const noLog = { debug() {}, info() {}, notice() {}, warning() {}, error() {}, crit() {}, alert() {} };
const work = mkdtempSync(join(tmpdir(), 'uwimap-fmtbench-'));
const ctx = { user: 'bench', hostname: 'bench', log: noLog, fileMode: 0o600, dirMode: 0o700, dotLockTimeout: 5, lockDirectory: work, defaultKeywords: [] };
const drivers = { unix: unixDriver, mbx: mbxDriver, mix: mixDriver };

const corpus = join(work, 'corpus.mbox');
await writeCorpus(COUNT, corpus);
// Masters in each format (not timed): unix is the corpus itself.
const masters = { unix: corpus };
{
  const src = await unixDriver.open(corpus, 'corpus', ctx, { readOnly: true, silent: true });
  for (const fmt of ['mbx', 'mix']) {
    const p = join(work, `master.${fmt}`);
    await drivers[fmt].create(p, ctx);
    const msgs = src.messages();
    for (let i = 0; i < msgs.length; i += 500) {
      const batch = [];
      for (const m of msgs.slice(i, i + 500)) batch.push({ data: await src.read(m.uid), internalDate: m.internalDate, internalDateZone: m.internalDateZone });
      await drivers[fmt].append(p, batch, ctx);
    }
    masters[fmt] = p;
  }
  await src.close();
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const results = {};
for (const fmt of ['unix', 'mbx', 'mix']) {
  const r = { open: [], reopen: [], fetchAll: [], expunge: [] };
  for (let rep = 0; rep < REPS; rep++) {
    const p = join(work, `run.${fmt}`);
    rmSync(p, { recursive: true, force: true });
    if (fmt === 'mix') cpSync(masters[fmt], p, { recursive: true });
    else copyFileSync(masters[fmt], p);
    let t = process.hrtime.bigint();
    let mb = await drivers[fmt].open(p, 'box', ctx, {});
    r.open.push(ms(t));
    await mb.close();
    t = process.hrtime.bigint();
    mb = await drivers[fmt].open(p, 'box', ctx, {});
    r.reopen.push(ms(t));
    t = process.hrtime.bigint();
    let bytes = 0;
    for (const m of mb.messages()) bytes += (await mb.read(m.uid)).length;
    r.fetchAll.push(ms(t));
    const del = mb.messages().filter((_, i) => i % 10 === 0).map((m) => m.uid);
    t = process.hrtime.bigint();
    await mb.store(del, 'add', ['\\Deleted']);
    await mb.expunge();
    await mb.close();
    r.expunge.push(ms(t));
    void bytes;
  }
  results[fmt] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}
rmSync(work, { recursive: true, force: true });

const rows = Object.entries(results).map(([fmt, r]) => `| ${fmt} | ${r.open.toFixed(0)} | ${r.reopen.toFixed(0)} | ${r.fetchAll.toFixed(0)} | ${r.expunge.toFixed(0)} |`);
const md = [`Mailbox formats, ${COUNT} messages, median of ${REPS} (ms, lower is better)`, '', '| format | first open | open again | read all | expunge 10% |', '|---|---|---|---|---|', ...rows, ''].join('\n');
console.log(md);
mkdirSync(join(HERE, 'out'), { recursive: true });
writeFileSync(join(HERE, 'out', `formats-${sizeName}.md`), md);
