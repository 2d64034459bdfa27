import { describe, it, expect, afterEach, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as posix from '../../../src/runtime/posix.js';

// fcntl(2) record locks are what Postfix, procmail and mutt take: another
// process must see ours, and we must see theirs. Python's fcntl module is
// the other process (it calls fcntl(2) itself).
const HAVE_PY = spawnSync('python3', ['-c', 'import fcntl'], { encoding: 'utf8' }).status === 0;
if (!HAVE_PY) console.warn('posix.test: python3 not found, fcntl interoperability tests skipped');

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** Can another process take an exclusive (or shared) fcntl lock on `path` without waiting? */
function otherCanLock(path: string, exclusive: boolean): boolean {
  const op = exclusive ? 'fcntl.LOCK_EX' : 'fcntl.LOCK_SH';
  const mode = exclusive ? 'r+' : 'r';
  const r = spawnSync('python3', ['-c', `import fcntl,sys\nf=open(sys.argv[1],'${mode}')\ntry:\n  fcntl.lockf(f, ${op}|fcntl.LOCK_NB)\n  print('yes')\nexcept OSError:\n  print('no')`, path], { encoding: 'utf8' });
  return r.stdout.trim() === 'yes';
}

// The calls go through our addon (build/posixcalls.node) when the build made
// it, else through koffi: both ways are tested, the same tests.
const ADDON_BUILT = (() => {
  posix.useAddon(true);
  return posix.posixBackend() === 'addon';
})();
if (!ADDON_BUILT) console.warn('posix.test: build/posixcalls.node not built (no C compiler?), addon tests skipped');

/** Can another process take flock(2) on `path` without waiting? */
function otherCanFlock(path: string, exclusive: boolean): boolean {
  const op = exclusive ? 'fcntl.LOCK_EX' : 'fcntl.LOCK_SH';
  const r = spawnSync('python3', ['-c', `import fcntl,sys\nf=open(sys.argv[1],'r')\ntry:\n  fcntl.flock(f, ${op}|fcntl.LOCK_NB)\n  print('yes')\nexcept OSError:\n  print('no')`, path], { encoding: 'utf8' });
  return r.stdout.trim() === 'yes';
}

for (const backend of ['addon', 'koffi'] as const) {
describe(`fcntl record locks, flock, mmap (posix.ts through ${backend})`, () => {
  const run = backend === 'koffi' || ADDON_BUILT ? it : it.skip;
  const pyRun = HAVE_PY && (backend === 'koffi' || ADDON_BUILT) ? it : it.skip;
  beforeAll(() => posix.useAddon(backend === 'addon'));
  afterAll(() => posix.useAddon(true));
  run('goes the way it says', () => {
    expect(posix.posixBackend()).toBe(backend);
  });
  pyRun('flock: another process sees our exclusive and shared locks; ours fails without waiting on theirs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'posix-'));
    const p = join(dir, 'box');
    writeFileSync(p, 'x');
    const fd = openSync(p, 'r');
    try {
      expect(posix.flockSync(fd, posix.LOCK_EX | posix.LOCK_NB)).toBe(true);
      expect(otherCanFlock(p, false)).toBe(false);
      expect(posix.flockSync(fd, posix.LOCK_SH | posix.LOCK_NB)).toBe(true);
      expect(otherCanFlock(p, false)).toBe(true);
      expect(otherCanFlock(p, true)).toBe(false);
      expect(await posix.flock(fd, posix.LOCK_UN)).toBe(true);
      expect(otherCanFlock(p, true)).toBe(true);
    } finally {
      closeSync(fd);
    }
    const holder = spawn('python3', ['-c', `import fcntl,sys,time\nf=open(sys.argv[1],'r')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(30)`, p], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const fd2 = openSync(p, 'r');
      try {
        expect(posix.flockSync(fd2, posix.LOCK_SH | posix.LOCK_NB)).toBe(false);
        // A blocking request waits (off the event loop) until the holder goes.
        const got = posix.flock(fd2, posix.LOCK_SH);
        setTimeout(() => holder.kill(), 100);
        expect(await got).toBe(true);
      } finally {
        closeSync(fd2);
      }
    } finally {
      holder.kill();
    }
  });
  run('errors carry errno: a closed descriptor is EBADF, with its text', () => {
    let err: unknown;
    try {
      posix.flockSync(1 << 20, posix.LOCK_EX | posix.LOCK_NB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(posix.PosixError);
    expect((err as posix.PosixError).code).toBe('EBADF');
    expect(() => posix.fcntlLockSync(1 << 20, posix.F_RDLCK)).toThrow(/fcntl: Bad file descriptor/);
    expect(posix.errnoText(posix.EAGAIN)).toMatch(/temporarily unavailable/i);
  });
  run('mapFile: the bytes of the file, copy-on-write (what the process changes stays its own)', () => {
    dir = mkdtempSync(join(tmpdir(), 'posix-'));
    const p = join(dir, 'f');
    const data = Buffer.alloc(3 * 4096 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    writeFileSync(p, data);
    const fd = openSync(p, 'r');
    let ab: ArrayBuffer | undefined;
    try {
      ab = posix.mapFile(fd, data.length);
      expect(posix.mapFile(fd, 0)).toBeUndefined();
    } finally {
      closeSync(fd);
    }
    expect(ab).toBeDefined();
    const view = Buffer.from(ab!);
    expect(view.equals(data)).toBe(true); // still there after the descriptor is closed
    if (process.platform === 'linux') expect(readFileSync('/proc/self/maps', 'latin1')).toContain(p);
    view.fill(0, 0, 4096);
    expect(readFileSync(p).equals(data)).toBe(true);
  });
  run('mallocTrim gives the C heap back', () => {
    expect(posix.mallocTrim()).toBe(true);
  });
});
}

for (const backend of ['addon', 'koffi'] as const) {
describe(`fcntl record locks (posix.ts through ${backend})`, () => {
  const py = HAVE_PY && (backend === 'koffi' || ADDON_BUILT) ? it : it.skip;
  beforeAll(() => posix.useAddon(backend === 'addon'));
  afterAll(() => posix.useAddon(true));
  py('a shared lock keeps out other writers but not readers; unlocking lets writers in', () => {
    dir = mkdtempSync(join(tmpdir(), 'posix-'));
    const p = join(dir, 'box');
    writeFileSync(p, 'x');
    const fd = openSync(p, 'r+');
    try {
      expect(otherCanLock(p, true)).toBe(true);
      expect(posix.fcntlLockSync(fd, posix.F_RDLCK)).toBe(true);
      expect(otherCanLock(p, true)).toBe(false);
      expect(otherCanLock(p, false)).toBe(true);
      expect(posix.fcntlLockSync(fd, posix.F_UNLCK)).toBe(true);
      expect(otherCanLock(p, true)).toBe(true);
      expect(posix.fcntlLockSync(fd, posix.F_WRLCK)).toBe(true);
      expect(otherCanLock(p, false)).toBe(false);
      expect(posix.fcntlLockSync(fd, posix.F_UNLCK)).toBe(true);
      expect(otherCanLock(p, false)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  py("another process's lock: ours fails without waiting, and the holder's pid is reported", async () => {
    dir = mkdtempSync(join(tmpdir(), 'posix-'));
    const p = join(dir, 'box');
    writeFileSync(p, 'x');
    const holder = spawn('python3', ['-c', `import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(30)`, p], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const fd = openSync(p, 'r+');
      try {
        expect(posix.fcntlLockSync(fd, posix.F_RDLCK)).toBe(false);
        expect(posix.fcntlLockSync(fd, posix.F_WRLCK)).toBe(false);
        expect(posix.fcntlLockHolder(fd, posix.F_WRLCK)).toBe(holder.pid);
      } finally {
        closeSync(fd);
      }
    } finally {
      holder.kill();
    }
  });
});
}
