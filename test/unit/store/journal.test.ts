/**
 * The append journal (src/store/journal.ts): whatever point a machine stops
 * at, the next open keeps an append that reached the disk whole and cuts
 * one that did not — in particular an acknowledged append is kept even when
 * the journal still says "in progress" (it was never marked idle).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync, readFileSync, writeSync, ftruncateSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { beginAppend, beginJournal, journalPath, prepareAppend, recoverJournal, settleJournalRemovals } from '../../../src/store/journal.js';

let dir: string;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
const OLD = 'From a@b Mon Jan  2 03:04:05 2023\nSubject: old\n\nold body\n\n';
const NEW = Buffer.from('From c@d Tue Jan  3 03:04:05 2023\nSubject: new\n\nnew body\n\n');

/** A mailbox with OLD, an append of NEW journalled and `written` bytes of it on disk, the journal never marked idle. */
function interrupted(written: number): string {
  dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const p = join(dir, 'box');
  writeFileSync(p, OLD);
  const fd = openSync(p, 'r+');
  const snapshot = join(dir, 'journal-at-crash');
  beginAppend(p, fd, OLD.length, NEW);
  copyFileSync(journalPath(p), snapshot); // the journal as the crash left it: in progress
  writeSync(fd, NEW, 0, written, OLD.length);
  closeSync(fd);
  copyFileSync(snapshot, journalPath(p));
  return p;
}

function reopen(p: string): boolean {
  const fd = openSync(p, 'r+');
  try {
    return recoverJournal(p, fd);
  } finally {
    closeSync(fd);
  }
}

describe('append journal', () => {
  it('keeps an append that reached the disk whole although the journal was not marked idle', () => {
    const p = interrupted(NEW.length);
    expect(reopen(p)).toBe(false);
    expect(readFileSync(p, 'latin1')).toBe(OLD + NEW.toString('latin1'));
    expect(reopen(p)).toBe(false); // the journal is idle now
  });
  for (const written of [0, 1, 20, NEW.length - 1]) {
    it(`cuts an append interrupted after ${written} of ${NEW.length} bytes`, () => {
      const p = interrupted(written);
      expect(reopen(p)).toBe(written > 0);
      expect(readFileSync(p, 'latin1')).toBe(OLD);
    });
  }
  it('cuts an append whose bytes are not the ones journalled (a torn write)', () => {
    const p = interrupted(NEW.length);
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.from('XXXX'), 0, 4, OLD.length + 10);
    closeSync(fd);
    expect(reopen(p)).toBe(true);
    expect(readFileSync(p, 'latin1')).toBe(OLD);
  });
  it('is made once and reused: committed appends leave an idle journal that recovery ignores', () => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const p = join(dir, 'box');
    writeFileSync(p, OLD);
    const fd = openSync(p, 'r+');
    for (let i = 0; i < 3; i++) {
      const size = OLD.length + i * NEW.length;
      const j = beginAppend(p, fd, size, NEW);
      writeSync(fd, NEW, 0, NEW.length, size);
      j.commit();
    }
    ftruncateSync(fd, OLD.length + 3 * NEW.length);
    closeSync(fd);
    expect(existsSync(journalPath(p))).toBe(true);
    expect(readFileSync(journalPath(p), 'latin1')).toMatch(/^UWAPPEND1 idle\n/);
    expect(reopen(p)).toBe(false);
    expect(readFileSync(p, 'latin1')).toBe(OLD + NEW.toString('latin1').repeat(3));
  });
});

describe('prepareAppend: the check before an append to a mailbox not open here', () => {
  const journalText = (p: string) => readFileSync(journalPath(p), 'latin1').slice(0, 128).trimEnd();
  /** An append of NEW through prepareAppend, the journal's record taken as it stood before the bytes were written. */
  function appendVia(p: string): { record: string; reused: boolean } {
    const fd = openSync(p, 'r+');
    try {
      const { journal } = prepareAppend(p, fd);
      const size = readFileSync(p).length;
      const j = beginAppend(p, fd, size, NEW, journal);
      const record = journalText(p);
      writeSync(fd, NEW, 0, NEW.length, size);
      j.commit();
      return { record, reused: journal !== undefined };
    } finally {
      closeSync(fd);
    }
  }

  it('cuts off an interrupted append first, then records the new one in the same journal', () => {
    const p = interrupted(20);
    const { record, reused } = appendVia(p);
    expect(reused).toBe(false); // the journal was in progress: recovered, not reused
    expect(record).toMatch(new RegExp(`^UWAPPEND1 ${OLD.length} ${OLD.length + NEW.length} [0-9a-f]{40}$`));
    expect(readFileSync(p, 'latin1')).toBe(OLD + NEW.toString('latin1'));
    expect(journalText(p)).toBe('UWAPPEND1 idle');
  });

  it('keeps the idle journal open for the append, which records, syncs and marks it idle again', () => {
    const p = interrupted(NEW.length);
    expect(reopen(p)).toBe(false); // whole: kept, journal idle
    const first = appendVia(p);
    expect(first.reused).toBe(true);
    expect(first.record).toMatch(new RegExp(`^UWAPPEND1 ${OLD.length + NEW.length} ${OLD.length + 2 * NEW.length} [0-9a-f]{40}$`));
    expect(journalText(p)).toBe('UWAPPEND1 idle');
    expect(readFileSync(p, 'latin1')).toBe(OLD + NEW.toString('latin1').repeat(2));
  });

  it('makes the journal at a mailbox\'s first append (nothing to keep open before it)', () => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const p = join(dir, 'box');
    writeFileSync(p, OLD);
    const { reused } = appendVia(p);
    expect(reused).toBe(false);
    expect(journalText(p)).toBe('UWAPPEND1 idle');
    expect(appendVia(p).reused).toBe(true);
    expect(readFileSync(p, 'latin1')).toBe(OLD + NEW.toString('latin1').repeat(2));
  });

  it('rolls back an interrupted rewrite before the append', () => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const p = join(dir, 'box');
    writeFileSync(p, OLD);
    const fd = openSync(p, 'r+');
    beginJournal(p, fd, 0, OLD.length);
    writeSync(fd, Buffer.alloc(OLD.length, 0x2a), 0, OLD.length, 0); // the rewrite died half-way
    closeSync(fd);
    const { reused } = appendVia(p);
    expect(reused).toBe(false);
    expect(readFileSync(p, 'latin1')).toBe(OLD + NEW.toString('latin1'));
  });
});

describe('rewrite journal saving only what is overwritten', () => {
  const SIZE = 3000;
  const old = Buffer.from(Array.from({ length: SIZE }, (_, i) => 65 + (i % 26)));
  function box(): { p: string; fd: number } {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const p = join(dir, 'box');
    writeFileSync(p, old);
    return { p, fd: openSync(p, 'r+') };
  }
  const header = (p: string) => readFileSync(journalPath(p), 'latin1').slice(0, 64).trimEnd();

  it('saves [start, end) and grows it (bytes synced before the header counts them)', () => {
    const { p, fd } = box();
    const j = beginJournal(p, fd, 100, SIZE, 600);
    expect(j.end).toBe(600);
    expect(header(p)).toBe('UWJOURNAL1 100 3000 600');
    expect(readFileSync(journalPath(p)).length).toBe(64 + 500);
    j.extend(5000); // capped at the old size
    expect(j.end).toBe(SIZE);
    expect(header(p)).toBe('UWJOURNAL1 100 3000 3000');
    const b = Buffer.alloc(10);
    expect(j.read(b, 0, 10, 2500)).toBe(10);
    expect(b.equals(old.subarray(2500, 2510))).toBe(true);
    j.commit();
    closeSync(fd);
    expect(existsSync(journalPath(p))).toBe(false);
  });

  it('is removed by renaming it aside and freeing it in the background; a leftover from a process that exited first goes at the next open', async () => {
    const { p, fd } = box();
    beginJournal(p, fd, 0, SIZE).commit();
    expect(existsSync(journalPath(p))).toBe(false); // gone under its name at once
    await settleJournalRemovals();
    expect(existsSync(journalPath(p) + '.old')).toBe(false);
    writeFileSync(journalPath(p) + '.old', 'left behind');
    closeSync(fd);
    expect(reopen(p)).toBe(false);
    expect(existsSync(journalPath(p) + '.old')).toBe(false);
    expect(readFileSync(p).equals(old)).toBe(true);
  });

  it('rolls back an interrupted shrinking rewrite: the saved part put back, the unsaved tail never touched', () => {
    const { p, fd } = box();
    beginJournal(p, fd, 100, SIZE, 1200);
    writeSync(fd, Buffer.alloc(1100, 0x2a), 0, 1100, 100); // the rewrite wrote [100, 1200) and died
    closeSync(fd);
    expect(reopen(p)).toBe(true);
    expect(readFileSync(p).equals(old)).toBe(true);
    expect(existsSync(journalPath(p))).toBe(false);
  });

  it('ignores journal bytes past the counted end (an extension that died before its header was written)', () => {
    const { p, fd } = box();
    beginJournal(p, fd, 0, SIZE, 1000);
    const jfd = openSync(journalPath(p), 'r+');
    writeSync(jfd, Buffer.alloc(500, 0x21), 0, 500, 64 + 1000); // uncounted, and not the mailbox's bytes
    closeSync(jfd);
    writeSync(fd, Buffer.alloc(1000, 0x2a), 0, 1000, 0);
    closeSync(fd);
    expect(reopen(p)).toBe(true);
    expect(readFileSync(p).equals(old)).toBe(true);
  });

  it('completes the cut when the journal was marked done, however far the cut got', () => {
    for (const cut of [false, true]) {
      const { p, fd } = box();
      const j = beginJournal(p, fd, 100, SIZE, 900);
      writeSync(fd, Buffer.alloc(700, 0x2a), 0, 700, 100); // new content [100, 800)
      j.done(800);
      expect(header(p)).toBe('UWJOURNAL1 100 3000 D 800');
      if (cut) ftruncateSync(fd, 800);
      closeSync(fd);
      expect(reopen(p)).toBe(true);
      const now = readFileSync(p);
      expect(now.length).toBe(800);
      expect(now.subarray(0, 100).equals(old.subarray(0, 100))).toBe(true);
      expect(now.subarray(100).equals(Buffer.alloc(700, 0x2a))).toBe(true);
      expect(existsSync(journalPath(p))).toBe(false);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still reads a journal in the earlier two-number form (the whole tail saved)', () => {
    const { p, fd } = box();
    const j = beginJournal(p, fd, 0, SIZE);
    expect(header(p)).toBe('UWJOURNAL1 0 3000 3000');
    const jfd = openSync(journalPath(p), 'r+');
    const h = Buffer.alloc(64, 0x20);
    h.write('UWJOURNAL1 0 3000\n', 'latin1');
    writeSync(jfd, h, 0, 64, 0);
    closeSync(jfd);
    writeSync(fd, Buffer.alloc(SIZE, 0x2a), 0, SIZE, 0);
    ftruncateSync(fd, 10);
    closeSync(fd);
    void j;
    expect(reopen(p)).toBe(true);
    expect(readFileSync(p).equals(old)).toBe(true);
  });
});
