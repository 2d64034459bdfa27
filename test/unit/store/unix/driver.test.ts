import { describe, it, expect, afterEach, vi } from 'vitest';
import { mkdtempSync, copyFileSync, readFileSync, rmSync, writeFileSync, chmodSync, openSync, closeSync, fstatSync } from 'node:fs';
import { scanMailbox } from '../../../../src/store/drivers/unix/scan.js';
import type { MessageTable } from '../../../../src/store/drivers/unix/table.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { unixDriver, parseFromLine, validFromLine } from '../../../../src/store/drivers/unix/index.js';
import type { DriverContext } from '../../../../src/store/driver.js';
import { driverContext } from '../../../helpers/drivers.js';

const SAMPLES = new URL('../../../fixtures/uw/mbox/', import.meta.url).pathname;
let dir: string;
function ctx(): DriverContext {
  return driverContext(dir, { user: 'holdout', hostname: 'vm' });
}
function fresh(): string {
  dir = mkdtempSync(join(tmpdir(), 'unix-drv-'));
  chmodSync(dir, 0o1777);
  return dir;
}
/** What an open mailbox holds about each message, row by row, as the scanner reports messages. */
function rowsOf(mb: unknown) {
  const t = (mb as { t: MessageTable }).t;
  return Array.from({ length: t.length }, (_, i) => t.row(i));
}
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('From line grammar (formats.md §1.1, UW imapd 2007f observations)', () => {
  const ok = [
    'From a@example.com Wed Dec  2 05:53:22 1992',
    'From a@example.com Wed Dec 02 05:53:22 1992',
    'From a@example.com Wed Dec  2 05:53 1992',
    'From a@example.com Wed Dec  2 05:53:22 PST 1992',
    'From a@example.com Wed Dec  2 05:53 PST 1992',
    'From a@example.com Wed Dec  2 05:53:22 1992 PST',
    'From a@example.com Wed Dec  2 05:53:22 -0700 1992',
    'From a@example.com Wed Dec  2 05:53:22 1992 -0700',
    'From a@example.com Wed Dec  2 05:53 -0700 1992',
    'From a@example.com Wed Dec  2 05:53:22 1992 remote from hostx',
    'From  Wed Dec  2 05:53:22 1992',
    'From Wed Dec  2 05:53:22 1992',
    'From a b c Wed Dec  2 05:53:22 1992',
    'From a@example.com Xyz Abc  2 05:53:22 1992',
    'From a@example.com Wed Dec  2 05:53:22 1992\r',
  ];
  const bad = [
    'From a@example.com Wed Dec 2 05:53:22 1992',
    'From a@example.com Wed Dec  2 5:53:22 1992',
    'From a@example.com Wed Dec  2 05:53:22 92',
    'From a@example.com Wed, 02 Dec 1992 05:53:22 -0700',
    'From a@example.com',
    'from a@example.com Wed Dec  2 05:53:22 1992',
    'From a@example.com Wed Dec  2 05:53:22 PST 1992 -0800',
  ];
  for (const l of ok) it(`accepts ${JSON.stringify(l)}`, () => expect(validFromLine(l)).toBe(true));
  for (const l of bad) it(`rejects ${JSON.stringify(l)}`, () => expect(validFromLine(l)).toBe(false));
  it('reads dates and zones', () => {
    expect(parseFromLine('From a@b Wed Dec  2 05:53:22 1992 -0700')!.date!.toISOString()).toBe('1992-12-02T12:53:22.000Z');
    expect(parseFromLine('From a@b Wed Dec  2 05:53 PST 1992')!.zone).toBe(-480);
    expect(parseFromLine('From a@b Xyz Abc  2 05:53:22 1992')!.date).toBeNull();
  });
  it('splits the UW fixture into 16 messages', async () => {
    fresh();
    const p = join(dir, 'variants');
    copyFileSync(join(SAMPLES, 'from-line-variants.input.mbox'), p);
    const mb = await unixDriver.open(p, 'variants', ctx(), { readOnly: true });
    expect(mb.messages().length).toBe(16);
    await mb.close();
  });
});

describe('unix driver on UW-written files', () => {
  it('reads after-session.mbox: pseudo-message hidden, UIDs, flags, keywords, sizes', async () => {
    fresh();
    const p = join(dir, 'box1');
    copyFileSync(join(SAMPLES, 'after-session.mbox'), p);
    const mb = await unixDriver.open(p, 't/box1', ctx(), { readOnly: true });
    const msgs = mb.messages();
    expect(mb.uidValidity).toBe(1795347185);
    expect(mb.keywords()).toEqual(['$Label1', 'Junk']);
    expect(msgs.map((m) => m.uid)).toEqual([1, 3]);
    expect([...msgs[0].flags].sort()).toEqual(['$Label1', '\\Answered', '\\Seen']);
    expect([...msgs[1].flags].sort()).toEqual(['Junk', '\\Draft', '\\Flagged']);
    const body = (await mb.read(1))!;
    expect(body.length).toBe(msgs[0].size);
    const text = body.toString('latin1');
    expect(text).toContain('Subject: first\r\n');
    expect(text).not.toMatch(/^(Status|X-Status|X-Keywords|X-UID):/m);
    expect(text).toContain('>From here on a line starts with From.\r\n');
    expect(text.endsWith('end\r\n')).toBe(true);
    await mb.close();
  });
  it('reads the X-IMAPbase file UW wrote without a pseudo-message', async () => {
    fresh();
    const p = join(dir, 'nopseudo');
    copyFileSync(join(SAMPLES, 'imapbase-after-select.mbox'), p);
    const mb = await unixDriver.open(p, 't/nopseudo', ctx(), { readOnly: true });
    expect(mb.messages().map((m) => m.uid)).toEqual([1, 2]);
    expect(mb.messages()[1].flags.has('\\Flagged')).toBe(true);
    await mb.close();
  });
});

describe('unix driver writes what UW writes', () => {
  it('creates the pseudo-message exactly (490 bytes for host vm)', async () => {
    fresh();
    const p = join(dir, 'new');
    await unixDriver.create(p, ctx());
    const text = readFileSync(p, 'latin1');
    expect(text.length).toBe(490);
    expect(text).toMatch(/^From MAILER-DAEMON \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nDate: /);
    expect(text).toMatch(/\nX-IMAP: \d{10} 0000000000\nStatus: RO\n\nThis text is part/);
  });
  it('appends like UW: From line with zone, >From quoting, X-Original- renaming, padded status, UIDs', async () => {
    fresh();
    const p = join(dir, 'box1');
    await unixDriver.create(p, ctx());
    const m1 = 'Date: Mon, 16 Jan 2023 12:00:00 +0000\r\nFrom: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: first\r\nMessage-ID: <m1@example.com>\r\n\r\nHello Bob.\r\nFrom here on a line starts with From.\r\n>From already quoted\r\nFrom someone Mon Jan 16 12:00:00 2023\r\nend\r\n';
    const m2 = 'Date: Tue, 17 Jan 2023 13:00:00 +0100\r\nFrom: Carol <carol@example.com>\r\nTo: bob@example.org\r\nSubject: second\r\nStatus: RO\r\nX-Status: F\r\n\r\nSecond body.\r\n';
    const r1 = await unixDriver.append(p, [{ data: Buffer.from(m1), flags: ['\\Seen'], internalDate: new Date('2023-01-16T12:00:00Z'), internalDateZone: 0 }], ctx());
    const r2 = await unixDriver.append(p, [{ data: Buffer.from(m2), flags: [], internalDate: new Date('2023-01-17T12:00:00Z'), internalDateZone: 60 }], ctx());
    expect(r1.uids).toEqual([1]);
    expect(r2.uids).toEqual([2]);
    const text = readFileSync(p, 'latin1');
    // c-client's raw append layout (what UW's mailutil copy and tmail leave, samples/mbox/mailutil-copy.mbox),
    // with X-UID because the appender could assign UIDs.
    expect(text).toContain(
      'From holdout@vm Mon Jan 16 12:00:00 2023 +0000\nStatus: R\nX-Status: \nX-Keywords:\nX-UID: 1\nDate: Mon, 16 Jan 2023 12:00:00 +0000\n' +
        'From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: first\nMessage-ID: <m1@example.com>\n\nHello Bob.\n' +
        '>From here on a line starts with From.\n>From already quoted\n>From someone Mon Jan 16 12:00:00 2023\nend\n\n',
    );
    expect(text).toContain(
      'From holdout@vm Tue Jan 17 13:00:00 2023 +0100\nStatus: \nX-Status: \nX-Keywords:\nX-UID: 2\nDate: Tue, 17 Jan 2023 13:00:00 +0100\n' +
        'From: Carol <carol@example.com>\nTo: bob@example.org\nSubject: second\nX-Original-Status: RO\nX-Original-X-Status: F\n\nSecond body.\n\n',
    );
    // Re-reading gives the client's bytes back (>From quoting is kept, as UW), flags and recency as UW.
    const mb = await unixDriver.open(p, 'box1', ctx(), { readOnly: true });
    expect(mb.messages().map((m) => [m.uid, [...m.flags].join(','), m.recent])).toEqual([[1, '\\Seen', true], [2, '', true]]);
    expect((await mb.read(2))!.toString('latin1')).toBe(m2.replace('Status: RO', 'X-Original-Status: RO').replace('X-Status: F', 'X-Original-X-Status: F'));
    await mb.close();
    expect(text).toMatch(/X-IMAP: \d{10} 0000000002\n/);
  });
  it('stores flags, keeps them across reopen, expunges, and another open instance sees it', async () => {
    fresh();
    const p = join(dir, 'box');
    await unixDriver.create(p, ctx());
    const msg = (n: number) => ({ data: Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`) });
    await unixDriver.append(p, [msg(1), msg(2), msg(3)], ctx());
    const a = await unixDriver.open(p, 'box', ctx());
    const b = await unixDriver.open(p, 'box', ctx());
    expect(a.readOnly).toBe(false);
    expect(b.readOnly).toBe(false);
    expect(await a.store([2], 'add', ['\\Deleted', 'Work'])).toEqual([2]);
    let ch = await b.sync();
    expect(ch.flagsChanged).toEqual([2]);
    expect(b.get(2)!.flags.has('Work')).toBe(true);
    expect(await a.expunge()).toEqual([2]);
    ch = await b.sync();
    expect(ch.expunged).toEqual([2]);
    expect(b.messages().map((m) => m.uid)).toEqual([1, 3]);
    expect((await b.read(3))!.toString()).toBe('Subject: m3\r\n\r\nbody 3\r\n');
    await b.append([msg(4)]);
    ch = await a.sync();
    expect(ch.added.map((m) => m.uid)).toEqual([4]);
    await a.close();
    await b.close();
    const c = await unixDriver.open(p, 'box', ctx());
    expect(c.messages().map((m) => m.uid)).toEqual([1, 3, 4]);
    expect(c.uidNext).toBe(5);
    await c.close();
  });
  it('after flags written in place and after rewrites, what it knows of the file equals a fresh scan', async () => {
    fresh();
    const p = join(dir, 'spool');
    let text = '';
    for (let i = 1; i <= 40; i++) text += `From a${i}@b Mon Jan  2 03:04:05 2023\nSubject: m${i}\n${i % 3 ? '' : 'Status: O\n'}\nline ${i}\n${i % 5 ? '' : '\nFrom inside the body\n'}\n`;
    writeFileSync(p, text);
    const mb = await unixDriver.open(p, 'spool', ctx());
    // What the driver holds about each message must be what a scan of the file finds now.
    const known = () => rowsOf(mb);
    const scanned = () => {
      const fd = openSync(p, 'r');
      try {
        const all = scanMailbox(fd, 0, fstatSync(fd).size).messages;
        return all[0]?.ximap ? all.slice(1) : all;
      } finally {
        closeSync(fd);
      }
    };
    expect(known()).toEqual(scanned());
    const rescans = vi.spyOn(mb as unknown as { fullScanAfterWrite: () => void }, 'fullScanAfterWrite');
    await mb.store([1, 2, 3, 10, 40], 'add', ['\\Seen', '\\Flagged']); // fits the padded blocks: in place, no rescan
    expect(rescans).not.toHaveBeenCalled();
    expect(known()).toEqual(scanned());
    await mb.store([2, 3], 'remove', ['\\Seen']);
    expect(known()).toEqual(scanned());
    await mb.store([5], 'add', ['Work']); // a new keyword: the first message's X-IMAPbase changes too
    expect(known()).toEqual(scanned());
    // Random stores: every combination of flags and keywords written in place keeps the table equal to a scan.
    let seed = 3;
    const rnd = (n: number) => Math.floor(((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000) * n);
    const pool = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', 'Work', 'Later'];
    for (let k = 0; k < 30; k++) {
      const uids = [...new Set(Array.from({ length: 1 + rnd(12) }, () => 2 + rnd(39)))];
      const flags = pool.filter(() => rnd(3) === 0);
      await mb.store(uids, (['add', 'remove', 'set'] as const)[rnd(3)], flags.length ? flags : ['\\Seen']);
      expect(known()).toEqual(scanned());
    }
    expect(rescans).not.toHaveBeenCalled();
    await mb.store([1, 7, 9, 30], 'add', ['\\Deleted']);
    rescans.mockClear();
    expect(await mb.expunge()).toEqual([1, 7, 9, 30]);
    expect(rescans).not.toHaveBeenCalled(); // worked out from what was written
    expect(known()).toEqual(scanned());
    expect(mb.messages().length).toBe(36);
    await mb.close();
  });
  it('update() (POP3 QUIT): the flag changes and the expunge in one rewrite, the same bytes as store, store, expunge', async () => {
    fresh();
    let text = '';
    for (let i = 1; i <= 30; i++) text += `From a${i}@b Mon Jan  2 03:04:05 2023\nSubject: m${i}\n${i % 4 ? '' : 'Status: O\n'}\nline ${i}\n\n`;
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    writeFileSync(one, text);
    writeFileSync(two, text);
    const seen = [2, 4, 6, 8, 10, 12];
    const dele = [1, 3, 5, 20];
    const a = await unixDriver.open(one, 'one', ctx());
    await a.store(seen, 'add', ['\\Seen']);
    await a.store(dele, 'add', ['\\Deleted']);
    expect(await a.expunge(dele)).toEqual(dele);
    await a.close();
    const b = await unixDriver.open(two, 'two', ctx());
    const inPlace = vi.spyOn(b as unknown as { writeInPlace: (u: number[]) => Promise<boolean> }, 'writeInPlace');
    const req = [
      { uids: seen, op: 'add' as const, flags: ['\\Seen'] },
      { uids: dele, op: 'add' as const, flags: ['\\Deleted'] },
    ];
    expect(await b.update(req, dele)).toEqual(dele);
    expect(inPlace).not.toHaveBeenCalled(); // the rewrite wrote the flags
    expect(b.messages().filter((m) => m.flags.has('\\Seen')).map((m) => m.uid)).toEqual(seen);
    await b.close();
    const same = (p: string) => readFileSync(p, 'latin1').replace(/X-IMAPbase: \d+/, 'X-IMAPbase: V');
    expect(same(two)).toBe(same(one));
    expect(same(two)).toContain('Subject: m4\nStatus: RO\n');
    // Nothing to expunge: the flags are written in place, as store() writes them.
    const c = await unixDriver.open(two, 'two', ctx());
    const inPlace2 = vi.spyOn(c as unknown as { writeInPlace: (u: number[]) => Promise<boolean> }, 'writeInPlace');
    expect(await c.update([{ uids: [7], op: 'add', flags: ['\\Flagged'] }], [7])).toEqual([]);
    expect(inPlace2).toHaveBeenCalledWith([7]);
    await c.close();
    const d = await unixDriver.open(two, 'two', ctx());
    expect(d.messages().length).toBe(26);
    expect([...d.get(7)!.flags]).toContain('\\Flagged');
    await d.close();
  });
  it('with a pseudo-message too: after expunges what it knows equals a fresh scan, without rescanning', async () => {
    fresh();
    const p = join(dir, 'box');
    await unixDriver.create(p, ctx());
    await unixDriver.append(p, [1, 2, 3, 4, 5].map((n) => ({ data: Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`) })), ctx());
    const mb = await unixDriver.open(p, 'box', ctx());
    const rescans = vi.spyOn(mb as unknown as { fullScanAfterWrite: () => void }, 'fullScanAfterWrite');
    const state = () => {
      const x = mb as unknown as { pseudo: unknown };
      return [x.pseudo, ...rowsOf(mb)];
    };
    const scanned = () => {
      const fd = openSync(p, 'r');
      try {
        return scanMailbox(fd, 0, fstatSync(fd).size).messages;
      } finally {
        closeSync(fd);
      }
    };
    for (const uids of [[1], [3, 5], [2, 4]]) {
      await mb.store(uids, 'add', ['\\Deleted', 'Later']);
      expect(await mb.expunge()).toEqual(uids);
      expect(state()).toEqual(scanned());
    }
    expect(rescans).not.toHaveBeenCalled();
    expect(mb.messages().length).toBe(0);
    await mb.close();
  });
  it('assigns UIDs to a spool file written by an MTA and writes X-IMAPbase', async () => {
    fresh();
    const p = join(dir, 'spool');
    writeFileSync(p, 'From a@b Mon Jan  2 03:04:05 2023\nSubject: one\n\nx\n\nFrom c@d Tue Jan  3 03:04:05 2023\nSubject: two\n\ny\n\n');
    const mb = await unixDriver.open(p, 'INBOX', ctx());
    expect(mb.messages().map((m) => [m.uid, m.recent])).toEqual([[1, true], [2, true]]);
    await mb.close();
    const text = readFileSync(p, 'latin1');
    expect(text).toMatch(/Subject: one\nX-IMAPbase: \d+ 2\nStatus: O\nX-Status: \nX-Keywords: +\nX-UID: 1\n\nx\n\nFrom c@d/);
    const again = await unixDriver.open(p, 'INBOX', ctx());
    expect(again.messages().map((m) => [m.uid, m.recent])).toEqual([[1, false], [2, false]]);
    await again.close();
  });
});
  it('keeps each From line byte for byte through a rewrite (8-bit sender, a CR before the LF dropped as before), dates and zones from them', async () => {
    fresh();
    const p = join(dir, 'spool');
    const lines = ['From j\xfcrgen@example.com Mon Jan  2 03:04:05 2023 +0100', 'From c@d Tue Jan  3 03:04:05 2023\r', 'From e@f Wed Jan  4 03:04:05 2023 -0000'];
    writeFileSync(p, lines.map((l, i) => `${l}\nSubject: m${i}\n\nbody ${i}\n\n`).join(''), 'latin1');
    const mb = await unixDriver.open(p, 'INBOX', ctx()); // first read-write open: UIDs written, whole file rewritten
    expect(mb.messages().map((m) => [m.uid, m.internalDate.toISOString(), m.internalDateZone])).toEqual([
      [1, '2023-01-02T02:04:05.000Z', 60],
      [2, new Date(2023, 0, 3, 3, 4, 5).toISOString(), -new Date(2023, 0, 3, 3, 4, 5).getTimezoneOffset() || 0],
      [3, '2023-01-04T03:04:05.000Z', 0],
    ]);
    expect(Object.is(mb.messages()[2].internalDateZone, -0)).toBe(false);
    await mb.store([1, 2, 3], 'add', ['\\Flagged']);
    await mb.expunge(); // nothing deleted: no rewrite
    await mb.store([3], 'add', ['\\Deleted']);
    await mb.expunge(); // a rewrite from message 3 on
    await mb.close();
    const text = readFileSync(p, 'latin1');
    const froms = text.split('\n').filter((l) => l.startsWith('From '));
    expect(froms).toEqual([lines[0], lines[1].slice(0, -1)]);
    expect(text).toContain('Subject: m1\nStatus: O\nX-Status: F\n');
  });

describe('unix driver: the shared lock of reads', () => {
  it('serves reads that follow closely, keeps writers out meanwhile, and is let go soon after', async () => {
    const { flockSync, LOCK_EX, LOCK_NB, LOCK_UN } = await import('../../../../src/runtime/posix.js');
    fresh();
    const p = join(dir, 'box');
    await unixDriver.create(p, ctx());
    const msg = (n: number) => ({ data: Buffer.from(`Subject: s${n}\r\n\r\nbody ${n}\r\n`) });
    await unixDriver.append(p, [msg(1), msg(2), msg(3)], ctx());
    const mb = await unixDriver.open(p, 'box', ctx(), {});
    const [u1, u2] = mb.uids();
    const other = openSync(p, 'r');
    try {
      expect((await mb.read(u1))!.toString()).toContain('body 1');
      // Held past the turn of the event loop (the next command's read uses
      // it): another open file (a writer's) cannot lock the file exclusively.
      await new Promise((r) => setImmediate(r));
      expect(flockSync(other, LOCK_EX | LOCK_NB)).toBe(false);
      expect((await mb.read(u2))!.toString()).toContain('body 2');
      await new Promise((r) => setTimeout(r, 80));
      // Let go a few milliseconds after it was taken.
      expect(flockSync(other, LOCK_EX | LOCK_NB)).toBe(true);
      flockSync(other, LOCK_UN);
      // A delivery right after a read waits for it, briefly, and lands.
      await mb.read(u1);
      const t0 = Date.now();
      await unixDriver.append(p, [msg(4)], ctx());
      expect(Date.now() - t0).toBeLessThan(2000);
      await mb.sync();
      expect(mb.uids().length).toBe(4);
      expect((await mb.read(mb.uids()[3]))!.toString()).toContain('body 4');
    } finally {
      closeSync(other);
      await mb.close();
    }
  });
});
