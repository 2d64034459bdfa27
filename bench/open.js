// Opening traditional mboxes of 1k, 10k and 50k messages: wall time and peak
// memory of a fresh process, for the first read-write open of MTA-delivered
// mail (UIDs assigned, \Recent claimed: the whole file is rewritten), for a
// later open that scans the file, and for a later open from the scan cache.
//
//   node bench/open.js [--sizes 1k,10k,50k]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './corpus.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DRIVER = join(HERE, '..', 'dist', 'store', 'drivers', 'unix', 'index.js');
const CACHE = join(HERE, '..', 'dist', 'store', 'drivers', 'unix', 'cache.js');
const argv = process.argv.slice(2);
const sizes = (argv.includes('--sizes') ? argv[argv.indexOf('--sizes') + 1] : '1k,10k,50k').split(',');
const N = { '1k': 1000, '10k': 10000, '50k': 50000 };

const CHILD = `
const { unixDriver } = await import(${JSON.stringify(DRIVER)});
const { setScanCacheDir } = await import(${JSON.stringify(CACHE)});
const [path, lockdir, cache] = process.argv.slice(2);
if (cache !== '-') setScanCacheDir(cache);
const noLog = { debug() {}, info() {}, notice() {}, warning() {}, error() {}, crit() {}, alert() {} };
const ctx = { user: 'bench', hostname: 'bench', log: noLog, fileMode: 0o600, dirMode: 0o700, dotLockTimeout: 5, lockDirectory: lockdir, defaultKeywords: [] };
const t = process.hrtime.bigint();
const mb = await unixDriver.open(path, 'box', ctx, {});
const ms = Number(process.hrtime.bigint() - t) / 1e6;
const n = mb.messages().length;
await mb.close();
process.stdout.write(JSON.stringify({ ms, n, rssMB: process.resourceUsage().maxRSS / 1024 }));
`;

const work = mkdtempSync(join(tmpdir(), 'uwimap-open-'));
const script = join(work, 'child.mjs');
writeFileSync(script, CHILD);
const rows = [];
for (const s of sizes) {
  const path = join(work, `box-${s}`);
  await writeCorpus(N[s], path);
  const mb = statSync(path).size / 1048576;
  const cache = join(work, `cache-${s}`);
  mkdirSync(cache);
  const run = (c) => JSON.parse(spawnSync(process.execPath, [script, path, work, c], { encoding: 'utf8', maxBuffer: 1 << 20 }).stdout);
  const first = run('-');
  const scan = run('-');
  run(cache); // leaves the cache entry
  const cached = run(cache);
  rows.push(`| ${s} | ${mb.toFixed(0)} | ${first.ms.toFixed(0)} / ${first.rssMB.toFixed(0)} | ${scan.ms.toFixed(0)} / ${scan.rssMB.toFixed(0)} | ${cached.ms.toFixed(0)} / ${cached.rssMB.toFixed(0)} |`);
  rmSync(path);
}
rmSync(work, { recursive: true, force: true });
const md = ['Opening a traditional mbox in a fresh process (ms / peak RSS MB)', '', '| messages | file MB | first open (UIDs assigned, file rewritten) | open again (scan) | open again (scan cache) |', '|---|---|---|---|---|', ...rows, ''].join('\n');
console.log(md);
mkdirSync(join(HERE, 'out'), { recursive: true });
writeFileSync(join(HERE, 'out', 'open.md'), md);
