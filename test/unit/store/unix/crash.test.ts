import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { unixDriver } from '../../../../src/store/drivers/unix/index.js';
import type { DriverContext } from '../../../../src/store/driver.js';
import { driverContext } from '../../../helpers/drivers.js';

// Kill a real process in the middle of a flag rewrite and of an expunge, at
// many points, and check that every message that existed is still intact.
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const ctx = (): DriverContext => driverContext(dir);
const N = 120;

function seed(path: string): void {
  let s = '';
  for (let i = 0; i < N; i++) s += `From a${i}@example.com Mon Jan  2 03:04:05 2023\nSubject: m${i}\nMessage-ID: <m${i}@x>\n\nbody of message ${i}\n${'line\n'.repeat(i % 40)}\n`;
  writeFileSync(path, s);
}

const CHILD = `
const { unixDriver } = await import(process.argv[2]);
const noLog = { debug() {}, info() {}, notice() {}, warning() {}, error() {}, crit() {}, alert() {} };
const ctx = { user: 'u', hostname: 'h', log: noLog, fileMode: 0o600, dirMode: 0o700, dotLockTimeout: 5, lockDirectory: process.argv[4], defaultKeywords: [] };
const mb = await unixDriver.open(process.argv[3], 'box', ctx, {});
const uids = mb.messages().map((m) => m.uid);
if (process.argv[5] === 'flags') await mb.store(uids, 'add', ['\\\\Flagged', 'Keyword' + Date.now()]);
else { await mb.store(uids.filter((u) => u % 2), 'add', ['\\\\Deleted']); await mb.expunge(); }
await mb.close();
`;

async function verify(path: string): Promise<{ count: number; flagged: number }> {
  const mb = await unixDriver.open(path, 'box', ctx());
  const msgs = mb.messages();
  for (const m of msgs) {
    const b = (await mb.read(m.uid))!.toString();
    const i = Number(/Subject: m(\d+)/.exec(b)![1]);
    expect(b).toBe(`Subject: m${i}\r\nMessage-ID: <m${i}@x>\r\n\r\nbody of message ${i}\r\n${'line\r\n'.repeat(i % 40)}`);
  }
  const flagged = msgs.filter((m) => m.flags.has('\\Flagged')).length;
  await mb.close();
  return { count: msgs.length, flagged };
}

/** A fresh directory with the seeded mailbox (UIDs assigned) and the child script that rewrites it. */
async function mailboxWithUids(): Promise<{ path: string; script: string; mod: string; size: number }> {
  dir = mkdtempSync(join(tmpdir(), 'uw-crash-'));
  chmodSync(dir, 0o1777);
  const path = join(dir, 'box');
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  const mod = new URL('../../../../dist/store/drivers/unix/index.js', import.meta.url).pathname;
  seed(path);
  // Assign UIDs once (a first read-write open writes X-IMAPbase / X-UID).
  await (await unixDriver.open(path, 'box', ctx())).close();
  return { path, script, mod, size: statSync(path).size };
}

describe('crash safety of unix rewrites', () => {
  for (const op of ['flags', 'expunge'] as const) {
    it(`kill -9 during ${op} at many points loses nothing`, async () => {
      const { path, script, mod, size } = await mailboxWithUids();
      // The expunge rewrite writes about half the file; the flag rewrite all of it.
      const span = op === 'flags' ? size : Math.floor(size / 2);
      for (const at of [1, 100, 4096, Math.floor(span / 3), Math.floor(span / 2), span - 200]) {
        const r = spawnSync(process.execPath, [script, mod, path, dir, op], { env: { ...process.env, UWIMAP_TEST_CRASH_AFTER_BYTES: String(at) } });
        expect(r.signal).toBe('SIGKILL');
        // The dead process's dot-lock stays behind; c-client seizes such a lock after
        // dot-lock-timeout minutes. Skip the wait: remove it as that timeout would.
        rmSync(`${path}.lock`, { force: true });
        // The next open rolls the interrupted rewrite back: every message is there, unchanged.
        const v = await verify(path);
        expect(v.count).toBe(N);
        expect(v.flagged).toBe(0);
        expect(existsSync(join(dir, '.box.uwjournal'))).toBe(false);
      }
      // And without a crash the operation completes.
      const r = spawnSync(process.execPath, [script, mod, path, dir, op]);
      expect(r.status).toBe(0);
      const v = await verify(path);
      if (op === 'flags') expect(v).toEqual({ count: N, flagged: N });
      else expect(v.count).toBe(N / 2);
    });
  }
  it('an expunge saves only what it overwrites, and a crash after its new content was synced completes it', async () => {
    for (const stage of ['done', 'cut']) {
      const { path, script, mod, size } = await mailboxWithUids();
      const r = spawnSync(process.execPath, [script, mod, path, dir, 'expunge'], { env: { ...process.env, UWIMAP_TEST_CRASH_AT_STAGE: stage } });
      expect(r.signal).toBe('SIGKILL');
      // The journal held about the half that was rewritten, not the whole tail, and says where the file ends.
      const journal = join(dir, '.box.uwjournal');
      const m = /^UWJOURNAL1 (\d+) (\d+) D (\d+)\n/.exec(readFileSync(journal, 'latin1'))!;
      expect(Number(m[2])).toBe(size);
      const saved = statSync(journal).size - 64;
      expect(saved).toBeLessThan(size - Number(m[1])); // not the whole tail
      expect(saved).toBeLessThanOrEqual(Number(m[3]) - Number(m[1]) + 4096); // what was rewritten, and a little room
      rmSync(`${path}.lock`, { force: true });
      const v = await verify(path);
      expect(v.count).toBe(N / 2);
      expect(statSync(path).size).toBe(Number(m[3]));
      expect(existsSync(journal)).toBe(false);
      rmSync(dir, { recursive: true, force: true });
      dir = '';
    }
  });
});
