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
import { beginAppend, journalPath, recoverJournal } from '../../../src/store/journal.js';

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
