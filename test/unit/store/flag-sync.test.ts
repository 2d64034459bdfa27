import { describe, it, expect, vi, afterEach, beforeEach } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { unixDriver } from '../../../src/store/drivers/unix/index.js';
import { mbxDriver } from '../../../src/store/drivers/mbx/index.js';
import { mixDriver } from '../../../src/store/drivers/mix/index.js';
import type { Driver } from '../../../src/store/driver.js';
import { Config } from '../../../src/config/index.js';
import { LocalStore } from '../../../src/store/store.js';
import { driverContext, noLog } from '../../helpers/drivers.js';
import { setScanCacheDir } from '../../../src/store/drivers/unix/cache.js';

// mail-fsync: every fsync and fdatasync the drivers make is counted here.
// (And, for the scan cache, which file each was and each rename.)
const syncs = vi.hoisted(() => ({ n: 0, log: [] as string[] }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    fsyncSync: (fd: number) => {
      syncs.n++;
      syncs.log.push(`sync ${real.readlinkSync(`/proc/self/fd/${fd}`)}`);
      real.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      syncs.log.push(`rename ${from} ${to}`);
      real.renameSync(from, to);
    },
    fdatasyncSync: (fd: number) => {
      syncs.n++;
      real.fdatasyncSync(fd);
    },
  };
});

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'uw-fsync-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
const msg = (n: number) => ({ data: Buffer.from(`Subject: m${n}\r\nFrom: a@b\r\n\r\nbody ${n}\r\n`) });
const DRIVERS: Record<string, Driver> = { unix: unixDriver, mbx: mbxDriver, mix: mixDriver };

for (const [fmt, drv] of Object.entries(DRIVERS)) {
  describe(`mail-fsync (${fmt})`, () => {
    it('optimized: a STORE is written at once and not synced; appends and expunges are', async () => {
      const ctx = driverContext(dir);
      const path = join(dir, 'box');
      await drv.create(path, ctx);
      syncs.n = 0;
      await drv.append(path, [msg(1), msg(2), msg(3)], ctx);
      expect(syncs.n).toBeGreaterThan(0);
      const mb = await drv.open(path, 'box', ctx, {});
      const [u1, u2] = mb.uids();
      await mb.store([u1], 'add', ['\\Seen']); // the first STORE may write what the open claimed
      syncs.n = 0;
      expect(await mb.store([u2], 'add', ['\\Flagged', '\\Seen'])).toEqual([u2]);
      expect(syncs.n).toBe(0);
      // Already in the file: another session (a new process would do the same) sees it.
      const other = await drv.open(path, 'box', ctx, { readOnly: true });
      expect([...other.get(u2)!.flags].sort()).toEqual(['\\Flagged', '\\Seen']);
      await other.close();
      await mb.store([u2], 'add', ['\\Deleted']);
      syncs.n = 0;
      expect(await mb.expunge()).toEqual([u2]);
      expect(syncs.n).toBeGreaterThan(0);
      syncs.n = 0;
      const r = await mb.append([msg(4)]);
      expect(r.uids.length).toBe(1);
      expect(syncs.n).toBeGreaterThan(0);
      await mb.close();
    });

    it('always: a STORE is synced before it returns', async () => {
      const ctx = driverContext(dir, { syncFlags: true });
      const path = join(dir, 'box');
      await drv.create(path, ctx);
      await drv.append(path, [msg(1), msg(2)], ctx);
      const mb = await drv.open(path, 'box', ctx, {});
      const [u1, u2] = mb.uids();
      await mb.store([u1], 'add', ['\\Seen']);
      syncs.n = 0;
      expect(await mb.store([u2], 'add', ['\\Answered'])).toEqual([u2]);
      expect(syncs.n).toBeGreaterThan(0);
      await mb.close();
    });
  });
}

describe('mail-fsync in the configuration', () => {
  it('defaults to optimized and reaches the drivers as syncFlags', () => {
    const id = { user: 'v', uid: process.getuid!(), gid: process.getgid!(), groups: [], home: dir, mailRoot: dir, inbox: join(dir, 'INBOX'), restrict: true, virtual: true, module: 'sqlite' };
    const c = new Config();
    c.set('spool-directory', dir);
    c.set('lock-directory', dir);
    expect(new LocalStore({ identity: id, config: c, log: noLog, hostname: 'h' }).driverContext().syncFlags).toBe(false);
    c.setText('mail-fsync', 'always', 'test');
    expect(new LocalStore({ identity: id, config: c, log: noLog, hostname: 'h' }).driverContext().syncFlags).toBe(true);
    expect(() => c.setText('mail-fsync', 'never', 'test')).toThrow(/mail-fsync/);
  });
});

describe('the scan cache (unix)', () => {
  /** A three-message mailbox without a pseudo-message, the cache on and the log of syncs and renames emptied, for `f`. */
  async function withBox(f: (path: string, ctx: ReturnType<typeof driverContext>) => Promise<void>): Promise<void> {
    setScanCacheDir(join(dir, 'cache'));
    try {
      const path = join(dir, 'box');
      fs.writeFileSync(path, 'From a@b Mon Jan  2 03:04:05 2023\nSubject: x\n\nbody\n\n'.repeat(3));
      syncs.log = [];
      await f(path, driverContext(dir));
    } finally {
      setScanCacheDir(undefined);
    }
  }
  it('is synced before it takes its name; the header-field index (checked entry by entry when used) is not', async () => {
    await withBox(async (path, ctx) => {
      const mb = await unixDriver.open(path, 'box', ctx, {});
      await mb.close();
      const scanRename = syncs.log.findIndex((l) => /^rename \S+\.tmp \S+\.scan$/.test(l));
      const fieldsRename = syncs.log.findIndex((l) => /^rename \S+\.tmp \S+\.fields$/.test(l));
      expect(scanRename).toBeGreaterThan(0);
      expect(fieldsRename).toBeGreaterThanOrEqual(0);
      const tmpOf = (i: number) => syncs.log[i].split(' ')[1];
      expect(syncs.log.slice(0, scanRename)).toContain(`sync ${tmpOf(scanRename)}`);
      expect(syncs.log).not.toContain(`sync ${tmpOf(fieldsRename)}`);
    });
  });
  it('an internal open (APPEND to a mailbox that is not selected) writes its entry once, at close', async () => {
    // No pseudo-message: the append goes through a full (silent) open.
    await withBox(async (path, ctx) => {
      await unixDriver.append(path, [msg(1)], ctx);
      expect(syncs.log.filter((l) => /^rename \S+\.tmp \S+\.scan$/.test(l)).length).toBe(1);
    });
  });
});
