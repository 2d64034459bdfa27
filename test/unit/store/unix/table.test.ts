import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MessageTable } from '../../../../src/store/drivers/unix/table.js';
import type { ScannedMessage } from '../../../../src/store/drivers/unix/scan.js';
import { unixDriver } from '../../../../src/store/drivers/unix/index.js';
import { driverContext } from '../../../helpers/drivers.js';

const G4 = 2 ** 32;

/** A row as the scanner reports it, from `at` on (a 4 GB offset is as good as any other here). */
function row(at: number, priv: boolean, xuid?: string): ScannedMessage {
  return {
    start: at,
    hdrStart: at + 40,
    hdrEnd: at + 300,
    bodyStart: at + 301,
    end: at + 900,
    next: at + 901,
    date: 1672531200000,
    zone: 60,
    priv: priv ? [at + 250, at + 300] : [],
    status: priv ? 'RO' : undefined,
    xstatus: priv ? 'F' : undefined,
    xkeywords: undefined,
    xuid,
    size: 920,
    headerSize: 280,
  };
}
const rows = (t: MessageTable) => Array.from({ length: t.length }, (_, i) => t.row(i));
const narrow = (t: MessageTable) => t.start instanceof Uint32Array;
const same = (t: MessageTable, input: ScannedMessage[]) => {
  expect(rows(t).map((r) => ({ ...r, ximap: undefined, ximapbase: undefined, ximapValueAt: undefined }))).toEqual(input.map((r) => ({ ...r, ximap: undefined, ximapbase: undefined, ximapValueAt: undefined })));
};

describe('message table: 32-bit offsets while they fit', () => {
  it('keeps offsets and sizes in 32 bits under 4 GB and widens, values intact, at the first that does not fit', () => {
    const t = new MessageTable();
    const input = [row(0, true, '1'), row(1000, false, '2'), row(G4 - 2000, true, '3')];
    for (const r of input) t.push(r);
    expect(narrow(t)).toBe(true);
    same(t, input);
    expect(t.priv(1)).toEqual([]);
    expect(t.privIsOneRun(1)).toBe(false);
    const big = [row(G4 + 5, false, '4'), row(7 * G4, true, '5')];
    for (const r of big) t.push(r);
    expect(narrow(t)).toBe(false);
    same(t, [...input, ...big]);
    expect(t.priv(1)).toEqual([]); // "no range" survived the widening
    expect(t.privIsOneRun(2)).toBe(true);
  });

  it('copies rows between narrow and wide tables, keeping "no range"', () => {
    const wide = new MessageTable();
    const input = [row(0, false, '1'), row(G4 + 100, true, '2'), row(G4 + 2000, false, '3')];
    for (const r of input) wide.push(r);
    expect(narrow(wide)).toBe(false);
    const small = new MessageTable();
    small.copyRow(wide, 0);
    expect(narrow(small)).toBe(true);
    same(small, [input[0]]);
    small.copyRow(wide, 1);
    small.copyRow(wide, 2);
    expect(narrow(small)).toBe(false);
    same(small, input);
    // And a narrow row into a wide table.
    const n = new MessageTable();
    n.push(row(10, false, '9'));
    wide.copyRow(n, 0);
    expect(wide.row(3).priv).toEqual([]);
  });

  it('places a rewritten row and sets its block beyond 4 GB', () => {
    const t = new MessageTable();
    t.push(row(0, true, '1'));
    t.setPlace(0, G4 + 1, G4 + 41, G4 + 301, G4 + 302, G4 + 902);
    expect(narrow(t)).toBe(false);
    expect(t.row(0)).toMatchObject({ start: G4 + 1, hdrStart: G4 + 41, hdrEnd: G4 + 301, bodyStart: G4 + 302, end: G4 + 902, next: G4 + 903 });
    const u = new MessageTable();
    u.push(row(0, false, '1'));
    u.setBlockRun(0, G4 + 10, G4 + 60, 'RO', 'F', '', 1);
    expect(u.priv(0)).toEqual([G4 + 10, G4 + 60]);
    const v = new MessageTable();
    v.push(row(0, false, '1'));
    v.setBlock(0, { priv: [G4 + 10, G4 + 60], status: 'RO', xstatus: undefined, xkeywords: undefined, xuid: '1', ximapbase: undefined });
    expect(v.priv(0)).toEqual([G4 + 10, G4 + 60]);
  });

  it('the scan cache image gives back a narrow and a wide table as they were', () => {
    for (const input of [
      [row(0, true, '1'), row(1000, false, '2')],
      [row(0, false, '1'), row(G4 + 1000, true, '2')],
    ]) {
      const t = new MessageTable();
      for (const r of input) t.push(r);
      const img = t.image();
      expect(img.columns.find((c) => c.name === 'start')!.bytes.length).toBe(input.length * (narrow(t) ? 4 : 8));
      const back = MessageTable.fromImage(img)!;
      expect(narrow(back)).toBe(narrow(t));
      same(back, input);
    }
  });

  it('an X-UID beyond 32 bits is no X-UID', () => {
    const t = new MessageTable();
    t.push(row(0, true, '4294967295'));
    t.push(row(1000, true, '4294967296'));
    expect(t.row(0).xuid).toBe('4294967295');
    expect(t.row(1).xuid).toBeUndefined();
  });
});

describe('unix mailbox: UIDs are 32-bit', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  it('when UIDLAST is at the end of the range, a new UIDVALIDITY numbers the messages from 1 again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'unix-uids-'));
    const p = join(dir, 'box');
    writeFileSync(
      p,
      'From a@b Mon Jan  2 03:04:05 2023\nSubject: one\nX-IMAPbase: 1000 4294967295\nStatus: O\nX-UID: 4294967295\n\nbody 1\n\n' +
        'From a@b Mon Jan  2 03:04:06 2023\nSubject: two\n\nbody 2\n',
    );
    const warnings: string[] = [];
    const ctx = driverContext(dir, { log: { debug() {}, info() {}, notice() {}, warning: (m: string) => warnings.push(m), error() {}, crit() {}, alert() {} } as never });
    const mb = await unixDriver.open(p, 'box', ctx, {});
    try {
      expect([...mb.uids()]).toEqual([1, 2]);
      expect(mb.uidValidity).toBeGreaterThan(1000);
      expect(warnings.some((w) => /UIDs of .* exhausted/.test(w))).toBe(true);
    } finally {
      await mb.close();
    }
    // Written back: the next open keeps them.
    expect(readFileSync(p, 'latin1')).toMatch(/X-UID: 2\n/);
    const again = await unixDriver.open(p, 'box', ctx, {});
    expect([...again.uids()]).toEqual([1, 2]);
    await again.close();
  });
});
