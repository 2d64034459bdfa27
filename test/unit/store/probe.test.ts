/**
 * Finding a mailbox's format from one probe of its path (src/store/probe.ts):
 * every driver's recognise() on the probe agrees with what UW's files are,
 * and the probe costs one stat plus, for a file, one open and one read.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, copyFileSync, writeFileSync, mkdirSync, chmodSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { probePath } from '../../../src/store/probe.js';
import { unixDriver } from '../../../src/store/drivers/unix/index.js';
import { mbxDriver } from '../../../src/store/drivers/mbx/index.js';
import { mixDriver } from '../../../src/store/drivers/mix/index.js';

const FIX = new URL('../../fixtures/uw/', import.meta.url).pathname;
const drivers = [mixDriver, mbxDriver, unixDriver];
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
const at = (name: string) => join((dir ||= mkdtempSync(join(tmpdir(), 'uw-probe-'))), name);
/** The drivers that recognise the probe of `p`, by name. */
const formats = (p: string) => {
  const probe = probePath(p);
  return probe ? drivers.filter((d) => d.recognise(probe)).map((d) => d.name) : undefined;
};

describe('probePath and the drivers\' recognise()', () => {
  it('tells UW\'s mbox, mbx and mix files apart, and agrees with detect()', async () => {
    const box = at('box');
    copyFileSync(join(FIX, 'mbox/after-appends.mbox'), box);
    const mbx = at('box.mbx');
    copyFileSync(join(FIX, 'mbx/after-appends.mbx'), mbx);
    const mix = at('box.mix');
    cpSync(join(FIX, 'mix/after-appends'), mix, { recursive: true });
    expect(formats(box)).toEqual(['unix']);
    expect(formats(mbx)).toEqual(['mbx']);
    expect(formats(mix)).toEqual(['mix']);
    for (const p of [box, mbx, mix]) for (const d of drivers) expect(await d.detect(p)).toBe(formats(p)!.includes(d.name));
  });

  it('an empty file is a unix mailbox; a plain directory, text and a missing path are none', () => {
    writeFileSync(at('empty'), '');
    mkdirSync(at('folder'));
    writeFileSync(at('text'), 'Subject: not a mailbox\n\n');
    expect(formats(at('empty'))).toEqual(['unix']);
    expect(formats(at('folder'))).toEqual([]);
    expect(formats(at('text'))).toEqual([]);
    expect(formats(at('missing'))).toBeUndefined();
    expect(formats(join(at('text'), 'below'))).toBeUndefined(); // ENOTDIR
  });

  it('reads a From line only within the first 1024 bytes (UW), after blank space', () => {
    const from = 'From someone@example.com Mon Jan  2 03:04:05 2023\n';
    writeFileSync(at('near'), '\n \t\r\n' + from + 'Subject: x\n\nbody\n');
    writeFileSync(at('far'), '\n'.repeat(1024) + from + 'Subject: x\n\nbody\n');
    expect(formats(at('near'))).toEqual(['unix']);
    expect(formats(at('far'))).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('a file we may not read is no mailbox (not even when empty)', () => {
    for (const name of ['locked', 'locked-empty']) {
      writeFileSync(at(name), name === 'locked' ? 'From a@b Mon Jan  2 03:04:05 2023\n\n' : '');
      chmodSync(at(name), 0);
      expect(probePath(at(name))).toMatchObject({ file: true, readable: false });
      expect(formats(at(name))).toEqual([]);
    }
  });
});
