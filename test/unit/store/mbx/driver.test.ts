import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, copyFileSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mbxDriver, repairMbx } from '../../../../src/store/drivers/mbx/index.js';
import type { DriverContext } from '../../../../src/store/driver.js';
import { driverContext } from '../../../helpers/drivers.js';

const FIX = new URL('../../../fixtures/uw/mbx/', import.meta.url).pathname;
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
const ctx = (): DriverContext => driverContext(dir);
function fixture(name: string): string {
  dir = mkdtempSync(join(tmpdir(), 'uw-mbx-'));
  const p = join(dir, 'box');
  copyFileSync(join(FIX, name), p);
  return p;
}
/** The file with the last-flag-writer PID field (bytes 2038..2045) blanked. */
const noPid = (b: Buffer) => Buffer.concat([b.subarray(0, 2038), Buffer.from('PIDPIDPI'), b.subarray(2046)]);

describe('mbx driver against UW c-client files', () => {
  it('reads UW\'s file: UIDs, flags, dates, sizes and text', async () => {
    const p = fixture('after-appends.mbx');
    const mb = await mbxDriver.open(p, 'box', ctx(), { readOnly: true });
    expect(mb.uidValidity).toBe(0x6b02d332);
    expect(mb.uidNext).toBe(4);
    const m = mb.messages();
    expect(m.map((x) => [x.uid, [...x.flags], x.size, x.recent])).toEqual([
      [1, ['\\Seen'], 115, true],
      [2, ['\\Flagged'], 103, true],
      [3, [], 35, true],
    ]);
    expect(m[0].internalDate.toISOString()).toBe('2023-01-02T02:04:05.000Z');
    expect(m[0].internalDateZone).toBe(60);
    expect((await mb.read(3))!.toString()).toBe('Subject: mbx three\r\n\r\nBody three.\r\n');
    expect((await mb.readHeader(3))!.toString()).toBe('Subject: mbx three\r\n\r\n');
    await mb.close();
    // Read-only: nothing written.
    expect(readFileSync(p).equals(readFileSync(join(FIX, 'after-appends.mbx')))).toBe(true);
  });

  it('replays UW\'s two-session scenario byte for byte: claim, flags, shared expunge (0x8000), reclaim', async () => {
    const p = fixture('after-appends.mbx');
    const a = await mbxDriver.open(p, 'box', ctx(), {});
    expect(a.messages().every((m) => m.recent)).toBe(true);
    const b = await mbxDriver.open(p, 'box', ctx(), {});
    expect(b.messages().some((m) => m.recent)).toBe(false); // claimed by a
    await a.store([1], 'add', ['\\Answered', 'Keyword2']);
    await a.store([2], 'add', ['\\Deleted']);
    expect(await a.expunge()).toEqual([2]);
    expect(noPid(readFileSync(p))).toEqual(noPid(readFileSync(join(FIX, 'after-shared-expunge.mbx'))));
    const ch = await b.sync();
    expect(ch.expunged).toEqual([2]);
    expect(ch.flagsChanged).toEqual([1]);
    expect(ch.keywordsChanged).toBe(true);
    expect([...b.get(1)!.flags]).toEqual(['\\Seen', '\\Answered', 'Keyword2']);
    await b.close();
    expect(await a.checkpoint()).toBe('Reclaimed 157 bytes of expunged space');
    expect(noPid(readFileSync(p))).toEqual(noPid(readFileSync(join(FIX, 'after-reclaim.mbx'))));
    expect(readFileSync(p).subarray(2038, 2048).toString()).toBe(`${process.pid.toString(16).padStart(8, '0')}\r\n`);
    await a.close();
  });

  it('numbers the UID-less messages mailutil copy leaves, keeps keyword slots', async () => {
    const p = fixture('mailutil-copy.mbx');
    const mb = await mbxDriver.open(p, 'box', ctx(), {});
    expect(mb.keywords()).toEqual(['$Label1', 'Junk']);
    expect(mb.messages().map((m) => [m.uid, [...m.flags]])).toEqual([
      [2, ['\\Seen', '\\Answered', '$Label1']],
      [3, ['\\Flagged', '\\Draft', 'Junk']],
    ]);
    await mb.close();
    const again = await mbxDriver.open(p, 'box', ctx(), { readOnly: true });
    expect(again.messages().map((m) => m.uid)).toEqual([2, 3]);
    expect(again.uidNext).toBe(4);
    await again.close();
  });

  it('creates files like mbx_create, appends like mbx_append (no keyword creation when not open)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-mbx-'));
    const p = join(dir, 'new');
    await mbxDriver.create(p, ctx());
    const b = readFileSync(p);
    expect(b.length).toBe(2048);
    expect(b.subarray(0, 7).toString()).toBe('*mbx*\r\n');
    expect(b.subarray(15, 85).toString()).toBe('00000000\r\n' + '\r\n'.repeat(30));
    expect(b.subarray(85).every((x) => x === 0)).toBe(true);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const r = await mbxDriver.append(p, [{ data: Buffer.from('Subject: x\n\nbody\n'), flags: ['\\Flagged', '$Work'], internalDate: new Date(Date.UTC(2023, 0, 2, 2, 4, 5)), internalDateZone: 60 }], ctx());
    expect(r.uids).toEqual([1]);
    expect(r.warnings).toEqual(['Unknown flag: $Work']);
    const text = readFileSync(p).subarray(2048).toString('latin1');
    expect(text).toBe(' 2-Jan-2023 03:04:05 +0100,20;000000000004-00000001\r\nSubject: x\r\n\r\nbody\r\n');
    const st = await mbxDriver.status(p, ctx());
    expect(st).toMatchObject({ messages: 1, recent: 1, unseen: 1, uidNext: 2 });
  });

  it('a corrupt record stops the open with UW\'s diagnostic; repair keeps every message', async () => {
    const p = fixture('after-appends.mbx');
    const b = readFileSync(p);
    // Damage the second record line ("22-Nov-2026 …,103;…") so it no longer parses.
    const at = b.indexOf('22-Nov-2026');
    b.write('XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', at, 'latin1');
    writeFileSync(p, b);
    await expect(mbxDriver.open(p, 'box', ctx(), {})).rejects.toThrow(/Unable to parse internal header at 2217/);
    const r = await repairMbx(p, dir);
    expect(r.changed).toBe(true);
    const mb = await mbxDriver.open(p, 'box', ctx(), {});
    const texts = await Promise.all(mb.messages().map(async (m) => (await mb.read(m.uid))!.toString('latin1')));
    expect(texts.length).toBe(3); // the damaged record's bytes are kept as a message of their own
    expect(texts[0]).toContain('Subject: mbx one');
    expect(texts[1]).toContain('Subject: mbx two');
    expect(texts[1]).toContain('XXXXXXXX');
    expect(texts[2]).toContain('Subject: mbx three');
    await mb.close();
  });
});
