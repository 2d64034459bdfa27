import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mbxDriver } from '../../../src/store/drivers/mbx/index.js';
import { mixDriver } from '../../../src/store/drivers/mix/index.js';
import type { Driver, DriverContext } from '../../../src/store/driver.js';
import { driverContext } from '../../helpers/drivers.js';

// mbx and mix are the formats several read-write sessions share. Real
// processes write at once (no update may be lost), and a process killed
// with -9 in the middle of a compaction must not cost a message.
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
const ctx = (): DriverContext => driverContext(dir);
const DRIVERS: Record<string, Driver> = { mbx: mbxDriver, mix: mixDriver };
const dist = (fmt: string) => new URL(`../../../dist/store/drivers/${fmt}/index.js`, import.meta.url).pathname;

const CHILD = `
const [mod, fmt, path, lockdir, who, count, mode] = process.argv.slice(2);
const d = (await import(mod))[fmt + 'Driver'];
const noLog = { debug() {}, info() {}, notice() {}, warning() {}, error() {}, crit() {}, alert() {} };
const ctx = { user: 'u', hostname: 'h', log: noLog, fileMode: 0o600, dirMode: 0o700, dotLockTimeout: 5, lockDirectory: lockdir, defaultKeywords: [] };
if (mode === 'deliver') {
  for (let k = 0; k < Number(count); k++) await d.append(path, [{ data: Buffer.from('Subject: ' + who + '-' + k + '\\r\\n\\r\\nbody ' + who + ' ' + k + '\\r\\n') }], ctx);
} else if (mode === 'session') {
  const mb = await d.open(path, 'box', ctx, {});
  for (let k = 0; k < Number(count); k++) {
    const r = await mb.append([{ data: Buffer.from('Subject: ' + who + '-' + k + '\\r\\n\\r\\nbody ' + who + ' ' + k + '\\r\\n') }]);
    await mb.sync();
    await mb.store(r.uids, 'add', ['\\\\Flagged', who]);
    const other = mb.messages().filter((m) => !m.flags.has('\\\\Seen'));
    if (other.length) await mb.store([other[0].uid], 'add', ['\\\\Seen']);
  }
  await mb.close();
} else if (mode === 'append') {
  for (let k = 0; k < Number(count); k++) await d.append(path, [{ data: Buffer.from('Subject: new-' + k + '\\r\\n\\r\\n' + 'y'.repeat(3000) + '\\r\\n') }], ctx);
} else if (mode === 'expunge') {
  const mb = await d.open(path, 'box', ctx, {});
  await mb.expunge();
  await mb.close();
}
`;

function child(script: string, args: string[], env: Record<string, string> = {}): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    p.on('exit', (code, sig) => resolve(sig ? -1 : code));
  });
}

for (const fmt of ['mbx', 'mix'] as const) {
  const drv = DRIVERS[fmt];
  describe(`${fmt}: several writers, crashes`, () => {
    it('two sessions and a delivery agent write at once: every message and every flag arrives', async () => {
      dir = mkdtempSync(join(tmpdir(), `uw-${fmt}-`));
      chmodSync(dir, 0o1777);
      const path = join(dir, 'box');
      await drv.create(path, ctx());
      const script = join(dir, 'child.mjs');
      writeFileSync(script, CHILD);
      const N = 25;
      const codes = await Promise.all([
        child(script, [dist(fmt), fmt, path, dir, 'Alpha', String(N), 'session']),
        child(script, [dist(fmt), fmt, path, dir, 'Beta', String(N), 'session']),
        child(script, [dist(fmt), fmt, path, dir, 'Gamma', String(N), 'deliver']),
      ]);
      expect(codes).toEqual([0, 0, 0]);
      const mb = await drv.open(path, 'box', ctx(), { readOnly: true });
      const msgs = mb.messages();
      expect(msgs.length).toBe(3 * N);
      const uids = msgs.map((m) => m.uid);
      expect(new Set(uids).size).toBe(3 * N);
      expect([...uids].sort((a, b) => a - b)).toEqual(uids);
      const seen = new Map<string, number>();
      for (const m of msgs) {
        const text = (await mb.read(m.uid))!.toString();
        const [, who, k] = /^Subject: (\w+)-(\d+)\r\n\r\nbody \1 \2\r\n$/.exec(text)!;
        seen.set(who, (seen.get(who) ?? 0) + 1);
        // The sessions' own flag updates all landed.
        if (who !== 'Gamma') expect([...m.flags]).toEqual(expect.arrayContaining(['\\Flagged', who]));
        void k;
      }
      expect(Object.fromEntries(seen)).toEqual({ Alpha: N, Beta: N, Gamma: N });
      expect(mb.keywords().sort()).toEqual(['Alpha', 'Beta']);
      await mb.close();
    }, 60_000);

    it('kill -9 during expunge at many points: every undeleted message survives intact', async () => {
      dir = mkdtempSync(join(tmpdir(), `uw-${fmt}-`));
      chmodSync(dir, 0o1777);
      const path = join(dir, 'box');
      const script = join(dir, 'child.mjs');
      writeFileSync(script, CHILD);
      const N = 40;
      const text = (i: number) => `Subject: m${i}\r\n\r\n${'line of message ' + i + '\r\n'.repeat(1)}${'x'.repeat(200 + (i % 7) * 90)}\r\n`;
      let kills = 0;
      for (const at of [1, 150, 700, 2_000, 5_000, 9_000, 14_000]) {
        rmSync(path, { recursive: true, force: true });
        await drv.create(path, ctx());
        await drv.append(path, Array.from({ length: N }, (_, i) => ({ data: Buffer.from(text(i)) })), ctx());
        const mb = await drv.open(path, 'box', ctx(), {});
        await mb.store(mb.messages().filter((m) => m.uid % 3 === 0).map((m) => m.uid), 'add', ['\\Deleted']);
        await mb.close();
        const code = await child(script, [dist(fmt), fmt, path, dir, 'x', '0', 'expunge'], { UWIMAP_TEST_CRASH_AFTER_BYTES: String(at) });
        if (code === -1) kills++;
        const after = await drv.open(path, 'box', ctx(), {});
        const left = after.messages();
        for (let i = 0; i < N; i++) {
          const uid = i + 1;
          const m = after.get(uid);
          if (uid % 3 === 0 && !m) continue; // expunged, as asked
          expect(m, `message ${uid} after a kill at ${at} bytes`).toBeDefined();
          expect((await after.read(uid))!.toString()).toBe(text(i));
        }
        expect(left.length).toBeGreaterThanOrEqual(N - Math.floor(N / 3));
        await after.close();
      }
      expect(kills).toBeGreaterThan(2);
    }, 60_000);

    it('kill -9 during appends at many points: old messages intact, each new one whole or absent', async () => {
      dir = mkdtempSync(join(tmpdir(), `uw-${fmt}-`));
      chmodSync(dir, 0o1777);
      const path = join(dir, 'box');
      const script = join(dir, 'child.mjs');
      writeFileSync(script, CHILD);
      const old = (i: number) => `Subject: old ${i}\r\n\r\nold body ${i}\r\n`;
      let kills = 0;
      for (const at of [100, 1_500, 3_100, 7_000, 12_000, 20_000]) {
        rmSync(path, { recursive: true, force: true });
        await drv.create(path, ctx());
        await drv.append(path, Array.from({ length: 5 }, (_, i) => ({ data: Buffer.from(old(i)) })), ctx());
        const code = await child(script, [dist(fmt), fmt, path, dir, 'x', '10', 'append'], { UWIMAP_TEST_CRASH_AFTER_BYTES: String(at) });
        if (code === -1) kills++;
        const mb = await drv.open(path, 'box', ctx(), {});
        const msgs = mb.messages();
        for (let i = 0; i < 5; i++) expect((await mb.read(i + 1))!.toString(), `old ${i} after a kill at ${at}`).toBe(old(i));
        for (const m of msgs.slice(5)) expect((await mb.read(m.uid))!.toString()).toMatch(/^Subject: new-\d+\r\n\r\ny{3000}\r\n$/);
        // The mailbox still takes mail.
        const r = await mb.append([{ data: Buffer.from('Subject: after\r\n\r\nok\r\n') }]);
        expect((await mb.read(r.uids[0]))!.toString()).toBe('Subject: after\r\n\r\nok\r\n');
        await mb.close();
      }
      expect(kills).toBeGreaterThan(2);
    }, 60_000);
  });
}

void spawnSync;
