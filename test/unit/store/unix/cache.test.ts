import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { unixDriver } from '../../../../src/store/drivers/unix/index.js';
import { setScanCacheDir, saveScan, loadScan } from '../../../../src/store/drivers/unix/cache.js';
import { scanMailbox, scanTable } from '../../../../src/store/drivers/unix/scan.js';
import type { MessageTable } from '../../../../src/store/drivers/unix/table.js';
import { openSync, closeSync, fstatSync } from 'node:fs';
import type { DriverContext } from '../../../../src/store/driver.js';
import { driverContext } from '../../../helpers/drivers.js';

let dir = '';
afterEach(() => {
  setScanCacheDir(undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
const ctx = (): DriverContext => driverContext(dir);
const msg = (i: number) => `From a${i}@example.com Mon Jan  2 03:04:05 2023\nSubject: m${i} \xe9t\xe9\nX-Status: ${i % 3 ? '' : 'F'}\n\nbody ${i}\n${'line\n'.repeat(i % 5)}\n`;

async function view(path: string) {
  const mb = await unixDriver.open(path, 'box', ctx(), { readOnly: true });
  const out = [];
  for (const m of mb.messages()) out.push({ ...m, flags: [...m.flags], text: (await mb.read(m.uid))!.toString('latin1') });
  const v = { uidValidity: mb.uidValidity, uidNext: mb.uidNext, msgs: out };
  await mb.close();
  return v;
}

/** The scan cache's key of the file at `path` as it is now. */
function keyOf(path: string) {
  const st = statSync(path, { bigint: true });
  return { dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}
/** A new directory with `box`: `n` messages made by msg(). */
function boxOf(n: number): string {
  dir = mkdtempSync(join(tmpdir(), 'uw-cache-'));
  const path = join(dir, 'box');
  let s = '';
  for (let i = 0; i < n; i++) s += msg(i);
  writeFileSync(path, s, 'latin1');
  return path;
}

describe('persistent scan cache of traditional mailboxes', () => {
  it('a later session uses the cached scan of an unchanged file, with the same result as a scan', async () => {
    const path = boxOf(40);
    const cache = join(dir, '.uwimap-cache');
    // Without a cache: the reference.
    await (await unixDriver.open(path, 'box', ctx(), {})).close(); // assigns UIDs, claims \Recent
    const reference = await view(path);
    setScanCacheDir(cache);
    const first = await view(path);
    // The scan, and the header-field index the first scan kept (fields.ts).
    expect(readdirSync(cache).sort().map((f) => f.replace(/^.*\./, ''))).toEqual(['fields', 'scan']);
    const entry = join(cache, readdirSync(cache).find((f) => f.endsWith('.scan'))!);
    const st = statSync(path, { bigint: true });
    expect(readFileSync(entry, 'latin1').split('\n')[0]).toBe(`6 ${st.dev} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`);
    const cached = await view(path);
    expect(first).toEqual(reference);
    expect(cached).toEqual(reference);
    // Any change to the file (here mail delivered behind our back) makes the entry stale.
    appendFileSync(path, msg(99), 'latin1');
    const after = await view(path);
    expect(after.msgs.length).toBe(41);
    expect(after.msgs[40].text).toContain('Subject: m99');
    // A damaged entry is ignored.
    writeFileSync(entry, readFileSync(entry, 'latin1').split('\n')[0] + '\n[{"garbage', 'latin1');
    expect((await view(path)).msgs.length).toBe(41);
  });
  it('keeps every field of every record exactly (binary numbers, shared strings, no dates, a pseudo-message)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-cache-'));
    const path = join(dir, 'box');
    let text = 'From MAILER-DAEMON Mon Jan  2 03:04:05 2023\nDate: Mon, 2 Jan 2023 03:04:05 +0000\nSubject: DON\'T DELETE\nX-IMAP: 1672628645 0000000042 Work\nStatus: RO\n\npseudo\n\n';
    for (let i = 0; i < 30; i++) text += i % 7 === 3 ? `From j\xfcrgen@example.com Xyz Abc  2 03:04:05 2023\nSubject: x\n\nb\n\n` : msg(i);
    writeFileSync(path, text, 'latin1');
    const fd = openSync(path, 'r');
    const recs = scanMailbox(fd, 0, fstatSync(fd).size).messages;
    const { table } = scanTable(fd, 0, fstatSync(fd).size);
    closeSync(fd);
    expect(recs[0].ximapValueAt).toBeGreaterThan(0);
    expect(recs.some((r) => Number.isNaN(r.date))).toBe(true);
    const rows = (t: MessageTable) => Array.from({ length: t.length }, (_, i) => t.row(i));
    // The table holds what the scanner reported (X-IMAP values for the first message only).
    expect(rows(table)).toEqual(recs.map((r, i) => (i === 0 ? r : { ...r, ximap: undefined, ximapbase: undefined, ximapValueAt: undefined })));
    // Flags, UIDs and an odd private-header layout survive too.
    table.uid[3] = 4000000000;
    table.sys[3] = 0x7f;
    table.kw[3] = 0x80000001;
    table.setBlock(5, { priv: [1, 2, 5, 9, 20, 30], status: 'RO', xstatus: 'F\xe9', xkeywords: 'a b', xuid: '17', ximapbase: undefined });
    setScanCacheDir(join(dir, 'c'));
    const key = { dev: 1, ino: 2, size: 3, mtimeNs: 4n, ctimeNs: 5n };
    const pseudo = { ...recs[0], date: NaN };
    saveScan(key, table, pseudo);
    const back = loadScan(key);
    expect(back).toBeDefined();
    expect(rows(back!.table)).toEqual(rows(table));
    expect([back!.table.uid[3], back!.table.sys[3], back!.table.kw[3]]).toEqual([4000000000, 0x7f, 0x80000001]);
    expect(back!.table.priv(5)).toEqual([1, 2, 5, 9, 20, 30]);
    expect(back!.pseudo).toEqual(pseudo);
    // The columns were laid out aligned: used where they lie in what was read, not copied one by one.
    expect(back!.table.start.buffer).toBe(back!.table.sys.buffer);
    // And a table made from them still grows and shrinks like any other.
    back!.table.push(recs[1]);
    back!.table.filter((i) => i !== 0);
    expect(rows(back!.table).slice(-1)).toEqual([{ ...recs[1], ximap: undefined, ximapbase: undefined, ximapValueAt: undefined }]);
    expect(loadScan({ ...key, ctimeNs: 6n })).toBeUndefined();
  });
  it('keeps what an open derives (UIDs, flags, keywords, \\Recent) so a later open skips that pass, with the same result', async () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-cache-'));
    const path = join(dir, 'box');
    // Mailbox data in the first message's X-IMAPbase; X-UIDs on most
    // messages, none on the last three (delivered since: numbered above
    // UIDLAST); some messages never
    // seen (no O: \Recent); keywords, one of them not in the list.
    const m = (i: number) =>
      `From a${i}@example.com Mon Jan  2 03:04:05 2023\nSubject: m${i}\n` +
      (i === 0 ? 'X-IMAPbase: 1672628645 0000000100 Work Home\n' : '') +
      `Status: ${i % 4 === 1 ? '' : 'O'}${i % 3 ? 'R' : ''}\nX-Status: ${i % 5 ? '' : 'F'}${i % 7 ? '' : 'D'}\n` +
      `X-Keywords: ${['', 'Work', 'Home Work', 'Other'][i % 4]}\n` +
      (i >= 27 ? '' : `X-UID: ${i + 1}\n`) +
      `\nbody ${i}\n\n`;
    let s = '';
    for (let i = 0; i < 30; i++) s += m(i);
    writeFileSync(path, s, 'latin1');
    const reference = await view(path);
    expect(reference.msgs.some((x) => x.recent)).toBe(true);
    expect(reference.msgs.some((x) => x.flags.includes('Work'))).toBe(true);
    expect(reference.uidNext).toBe(104); // three messages without an X-UID: 101-103
    setScanCacheDir(join(dir, 'c'));
    expect(await view(path)).toEqual(reference); // scans, saves
    const saved = loadScan(keyOf(path))!;
    // Not clean: messages without O to claim, UIDs not yet in the file.
    expect(saved.derived).toEqual({ uidLast: 103, clean: false });
    expect(await view(path)).toEqual(reference); // from the cache, derived columns as they are
    // A read-write open from that entry still writes what is missing (the
    // rows' state is not "clean"): afterwards every message is old and
    // numbered in the file, and the next entry says so.
    const rw = await unixDriver.open(path, 'box', ctx(), {});
    expect(rw.recentCount()).toBe(reference.msgs.filter((x) => x.recent).length);
    await rw.close();
    const written = readFileSync(path, 'latin1');
    expect(written.match(/^X-UID: /gm)?.length).toBe(30);
    expect(written.match(/^Status: R?O$/gm)?.length).toBe(30);
    setScanCacheDir(undefined);
    const after = await view(path);
    expect(after.msgs.every((x) => !x.recent)).toBe(true);
    expect(after.msgs.map((x) => [x.uid, x.flags])).toEqual(reference.msgs.map((x) => [x.uid, x.flags]));
    setScanCacheDir(join(dir, 'c'));
    expect(loadScan(keyOf(path))?.derived).toEqual({ uidLast: 103, clean: true });
    expect(await view(path)).toEqual(after);
    // A file whose UIDs must be renumbered (they do not ascend) gets no
    // derived columns: the new UIDVALIDITY comes from the clock.
    writeFileSync(path, m(0) + m(1).replace('X-UID: 2', 'X-UID: 9') + m(2), 'latin1');
    await view(path);
    const third = loadScan(keyOf(path));
    expect(third).toBeDefined();
    expect(third!.derived).toBeUndefined();
  });
  it('is saved by the first open (a session that stays open leaves it too), mapped copy-on-write by the next, and a clean entry does not hide what mail delivered later needs', async () => {
    const path = boxOf(20);
    const cache = join(dir, '.uwimap-cache');
    setScanCacheDir(cache);
    const first = await unixDriver.open(path, 'box', ctx(), {}); // numbers and claims: rewrites
    // Before any close: the entry of the file as the open left it, clean.
    const entry = loadScan(keyOf(path));
    expect(entry?.derived).toEqual({ uidLast: 20, clean: true });
    const entryFile = join(cache, readdirSync(cache).find((f) => f.endsWith('.scan'))!);
    const bytes = readFileSync(entryFile);
    // Mapped (Linux, through the FFI; elsewhere read), and private: what
    // the session changes in its table never reaches the file.
    if (process.platform === 'linux') expect(readFileSync('/proc/self/maps', 'latin1')).toContain(entryFile);
    entry!.table.sys.fill(0x1f);
    entry!.table.uid[0] = 999;
    expect(readFileSync(entryFile).equals(bytes)).toBe(true);
    // A second session opens from the entry while the first is still open.
    const second = await unixDriver.open(path, 'box', ctx(), { readOnly: true });
    expect([...second.uids()]).toEqual([...first.uids()]);
    await second.close();
    await first.close();
    // Another program adds a message with its UID (X-UID and UIDLAST
    // written, as a UW session's APPEND does) but unseen (no O) to a
    // mailbox opened from a clean entry: the rescan sees it, and the
    // session claims it in the file (the mailbox data being current, only
    // the rows say so).
    const third = await unixDriver.open(path, 'box', ctx(), {});
    expect(third.recentCount()).toBe(0);
    const before = readFileSync(path, 'latin1');
    expect(before).toMatch(/^X-IMAPbase: \d+ 20$/m);
    writeFileSync(path, before.replace(/^(X-IMAPbase: \d+) 20$/m, '$1 21') + msg(20).replace('\n\n', '\nX-UID: 21\n\n'), 'latin1');
    const ch = await third.sync();
    expect(ch.added.map((m) => [m.uid, m.recent])).toEqual([[21, true]]);
    await third.close();
    const text = readFileSync(path, 'latin1');
    expect(text.match(/^X-UID: /gm)?.length).toBe(20 + 1);
    expect(text.slice(text.lastIndexOf('From a20@')).match(/^Status: O$/m)).not.toBeNull();
  });
});
