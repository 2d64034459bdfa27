// Start-up latency: how long a client waits for its greeting.
//   cold: inetd style, a fresh `node bin/imapd` per connection (spawn → greeting)
//   warm: through mailserverd's warm pool (TCP connect → greeting)
//   node -e 0: Node's own start-up, for reference
// Median of N (default 50) each.   node bench/startup.js [N]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const N = Number(process.argv[2] ?? 50);
const GAP = Number(process.env.GAP ?? 60); // ms between warm-pool connections
const REPO = new URL('..', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'uwimap-startup-'));
chmodSync(root, 0o755);
mkdirSync(join(root, 'spool'), { mode: 0o1777 });
mkdirSync(join(root, 'state'));
if (process.getuid() === 0) chownSync(join(root, 'state'), 65534, 65534);
const conf = join(root, 'c.conf');
writeFileSync(conf, `hostname = bench\nlog-target = none\nspool-directory = ${join(root, 'spool')}\nstate-directory = ${join(root, 'state')}\nwarm-pool = 4\n`);
const asUser = process.getuid() === 0 ? { uid: 65534, gid: 65534 } : {};
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;

function once(cmd, args, waitLine) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'], cwd: root, env: { PATH: process.env.PATH, HOME: root }, ...asUser });
    if (!waitLine) {
      c.on('exit', () => resolve(now() - t0));
      return;
    }
    c.stdout.once('data', () => {
      const dt = now() - t0;
      c.kill();
      resolve(dt);
    });
    c.on('error', reject);
  });
}

const nodeT = [];
for (let i = 0; i < N; i++) nodeT.push(await once(process.execPath, ['-e', '0'], false));
const coldT = [];
for (let i = 0; i < N; i++) coldT.push(await once(process.execPath, [join(REPO, 'bin/imapd'), '--config', conf], true));

const l = spawn(process.execPath, [join(REPO, 'bin/mailserverd'), '--config', conf, '--listen-imap', '127.0.0.1:0', '--listen-imaps', '', '--listen-pop3', '', '--listen-pop3s', '', '--listen-pop2', ''], { stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise((resolve) => {
  let out = '';
  l.stdout.on('data', (d) => {
    out += d;
    const m = /imap [^,\n]*:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
});
await new Promise((r) => setTimeout(r, 1500)); // let the pool fill
const warmT = [];
for (let i = 0; i < N; i++) {
  warmT.push(
    await new Promise((resolve) => {
      const t0 = now();
      const s = net.connect(port, '127.0.0.1');
      s.once('data', () => {
        const dt = now() - t0;
        s.destroy();
        resolve(dt);
      });
    }),
  );
  await new Promise((r) => setTimeout(r, GAP)); // a gap between connections: the pool refills
}
l.kill();
rmSync(root, { recursive: true, force: true });
const nd = median(nodeT);
const cd = median(coldT);
const wd = median(warmT);
process.stdout.write(`| measure (median of ${N}) | ms |\n|---|---|\n| node -e 0 | ${nd.toFixed(1)} |\n| cold start, spawn → greeting (inetd style) | ${cd.toFixed(1)} (${(cd / nd).toFixed(2)} × node -e 0) |\n| warm pool, connect → greeting (mailserverd) | ${wd.toFixed(1)} |\n`);
