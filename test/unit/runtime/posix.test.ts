import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as posix from '../../../src/runtime/posix.js';

// fcntl(2) record locks are what Postfix, procmail and mutt take: another
// process must see ours, and we must see theirs. Python's fcntl module is
// the other process (it calls fcntl(2) itself).
const HAVE_PY = spawnSync('python3', ['-c', 'import fcntl'], { encoding: 'utf8' }).status === 0;
const py = HAVE_PY ? it : it.skip;
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

describe('fcntl record locks (posix.ts)', () => {
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
