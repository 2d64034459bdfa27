import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mixDriver } from '../../../../src/store/drivers/mix/index.js';
import type { DriverContext } from '../../../../src/store/driver.js';
import { driverContext } from '../../../helpers/drivers.js';

const FIX = new URL('../../../fixtures/uw/mix/', import.meta.url).pathname;
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
const ctx = (): DriverContext => driverContext(dir);
function fixture(name: string): string {
  dir = mkdtempSync(join(tmpdir(), 'uw-mix-'));
  const p = join(dir, 'box');
  cpSync(join(FIX, name), p, { recursive: true });
  return p;
}
const files = (p: string) => readdirSync(p).sort();
const dataFile = (p: string) => files(p).find((n) => /^\.mix[0-9a-f]{8}$/.test(n))!;
/** Records of a text file without the S line and without modseq fields (time-dependent). */
const records = (text: string, dropLast = false) =>
  text
    .split('\r\n')
    .filter((l) => l && !l.startsWith('S'))
    .map((l) => (dropLast ? l.replace(/:[0-9a-f]{8}:$/, ':') : l));

describe('mix driver against UW c-client files', () => {
  it('reads UW\'s mailbox: UIDs, flags, dates, sizes and text, without writing when read-only', async () => {
    const p = fixture('after-appends');
    const before = files(p).map((n) => readFileSync(join(p, n)));
    const mb = await mixDriver.open(p, 'box', ctx(), { readOnly: true });
    expect(mb.uidValidity).toBe(0x6b02d348);
    expect(mb.uidNext).toBe(4);
    expect(mb.messages().map((m) => [m.uid, [...m.flags], m.size, m.recent])).toEqual([
      [1, ['\\Seen'], 103, true],
      [2, ['\\Flagged'], 103, true],
      [3, ['\\Draft'], 35, true],
    ]);
    expect(mb.get(3)!.internalDate.toISOString()).toBe('2023-01-17T18:00:00.000Z');
    expect(mb.get(3)!.internalDateZone).toBe(-300);
    expect((await mb.read(3))!.toString()).toBe('Subject: mix three\r\n\r\nBody three.\r\n');
    expect((await mb.readHeader(1))!.toString()).toBe('Date: Mon, 16 Jan 2023 12:00:00 +0000\r\nFrom: Alice <alice@example.com>\r\nSubject: mix one\r\n\r\n');
    await mb.close();
    expect(files(p).map((n) => readFileSync(join(p, n)))).toEqual(before);
  });

  it('replays UW\'s two-session scenario: claim, flags, shared expunge keeps data, the lone session burps', async () => {
    const p = fixture('after-appends');
    const a = await mixDriver.open(p, 'box', ctx(), {});
    const b = await mixDriver.open(p, 'box', ctx(), {});
    expect(b.messages().some((m) => m.recent)).toBe(false);
    await a.store([1], 'add', ['\\Answered', 'Keyword2']);
    await a.store([2], 'add', ['\\Deleted']);
    expect(await a.expunge()).toEqual([2]);
    const exp = join(FIX, 'after-shared-expunge');
    // Index and status lost UID 2, the data file still holds it; metadata got the keyword.
    expect(records(readFileSync(join(p, '.mixindex'), 'latin1'))).toEqual(records(readFileSync(join(exp, '.mixindex'), 'latin1')));
    expect(records(readFileSync(join(p, '.mixstatus'), 'latin1'), true)).toEqual(records(readFileSync(join(exp, '.mixstatus'), 'latin1'), true));
    expect(records(readFileSync(join(p, '.mixmeta'), 'latin1'))).toEqual(records(readFileSync(join(exp, '.mixmeta'), 'latin1')));
    expect(readFileSync(join(p, dataFile(p)))).toEqual(readFileSync(join(exp, dataFile(exp))));
    const ch = await b.sync();
    expect(ch.expunged).toEqual([2]);
    expect(ch.flagsChanged).toEqual([1]);
    await b.close();
    expect(await a.checkpoint()).toBe('Reclaimed 148 bytes of expunged space');
    const rec = join(FIX, 'after-reclaim');
    expect(readFileSync(join(p, dataFile(p)))).toEqual(readFileSync(join(rec, dataFile(rec))));
    // Same records; the data file number is new (surviving messages were copied, not slid).
    const norm = (t: string) => records(t).map((l) => l.replace(/:[0-9a-f]{8}:([0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{8}:)$/, ':F:$1'));
    expect(norm(readFileSync(join(p, '.mixindex'), 'latin1'))).toEqual(norm(readFileSync(join(rec, '.mixindex'), 'latin1')));
    expect(files(p).filter((n) => /^\.mix[0-9a-f]{8}$/.test(n)).length).toBe(1);
    await a.close();
    const c = await mixDriver.open(p, 'box', ctx(), { readOnly: true });
    const texts = await Promise.all(c.messages().map(async (m) => (await c.read(m.uid))!.toString()));
    expect(texts[0]).toContain('Subject: mix one\r\n\r\nBody one.\r\n');
    expect(texts[1]).toBe('Subject: mix three\r\n\r\nBody three.\r\n');
    await c.close();
  });

  it('creates like mix_create and appends like mix_append; a full data file rolls over', async () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-mix-'));
    const p = join(dir, 'new');
    await mixDriver.create(p, ctx());
    expect(statSync(p).mode & 0o777).toBe(0o700);
    expect(files(p).length).toBe(4);
    const meta = readFileSync(join(p, '.mixmeta'), 'latin1');
    expect(meta).toMatch(/^S([0-9a-f]{8})\r\nV\1\r\nL00000000\r\nN\1\r\n$/);
    expect(statSync(join(p, '.mixindex')).size).toBe(0);
    const r = await mixDriver.append(p, [{ data: Buffer.from('Subject: x\n\nbody\n'), flags: ['\\Draft', '$Work'], internalDate: new Date(Date.UTC(2023, 0, 2, 2, 4, 5)), internalDateZone: 60 }], ctx());
    expect(r).toMatchObject({ uids: [1], warnings: ['Unknown flag: $Work'] });
    expect(readFileSync(join(p, dataFile(p)), 'latin1')).toBe(':msg:00000001:20230102030405+0100:00000014:\r\nSubject: x\r\n\r\nbody\r\n');
    expect(records(readFileSync(join(p, '.mixindex'), 'latin1'))[0]).toBe(`:00000001:20230102030405+0100:00000014:${dataFile(p).slice(4)}:00000000:0000002d:0000000e:`);
    expect(records(readFileSync(join(p, '.mixstatus'), 'latin1'), true)).toEqual([':00000001:00000000:0020:']);
    // 1.2 MB of mail in 300 KB messages: the data file rolls at 1 MiB.
    const big = Buffer.from('Subject: big\r\n\r\n' + 'x'.repeat(300_000) + '\r\n');
    for (let i = 0; i < 4; i++) await mixDriver.append(p, [{ data: big }], ctx());
    expect(files(p).filter((n) => /^\.mix[0-9a-f]{8}$/.test(n)).length).toBe(2);
    const mb = await mixDriver.open(p, 'box', ctx(), {});
    expect(mb.messages().map((m) => m.uid)).toEqual([1, 2, 3, 4, 5]);
    expect((await mb.read(5))!.equals(big)).toBe(true);
    await mb.close();
  });

  it('reads the mailbox mailutil copy writes (keywords in metadata, flags in status)', async () => {
    const p = fixture('mailutil-copy');
    const mb = await mixDriver.open(p, 'box', ctx(), {});
    expect(mb.keywords()).toEqual(['$Label1', 'Junk']);
    expect(mb.messages().map((m) => [m.uid, [...m.flags]])).toEqual([
      [2, ['\\Seen', '\\Answered', '$Label1']],
      [3, ['\\Flagged', '\\Draft', 'Junk']],
    ]);
    await mb.close();
  });

  it('a damaged index is an error, not a silent reset', async () => {
    const p = fixture('after-appends');
    writeFileSync(join(p, '.mixindex'), 'S6b02d34d\r\n:zz:garbage\r\n');
    await expect(mixDriver.open(p, 'box', ctx(), {})).rejects.toThrow(/mix index file/);
  });
});
