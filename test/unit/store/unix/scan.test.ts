import { describe, it, expect, afterEach, vi } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync, openSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { scanMailbox, scanTable } from '../../../../src/store/drivers/unix/scan.js';
import { prepareForMbox } from '../../../../src/store/drivers/unix/convert.js';
import { unixDriver } from '../../../../src/store/drivers/unix/index.js';
import { setScanCacheDir } from '../../../../src/store/drivers/unix/cache.js';
import { headerFieldsNamed } from '../../../../src/mail/mime.js';
import { fieldValue } from '../../../../src/mail/header.js';
import { compileSearch } from '../../../../src/mail/search.js';
import { INDEXED_FIELDS } from '../../../../src/mail/types.js';
import { driverContext } from '../../../helpers/drivers.js';

let dir: string | undefined;
afterEach(() => {
  setScanCacheDir(undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A directory for the test, with the scan cache (and so the field index) in its cache/. */
function withCache(prefix: string): { dir: string; cache: string } {
  const d = (dir = mkdtempSync(join(tmpdir(), prefix)));
  const cache = join(d, 'cache');
  setScanCacheDir(cache);
  return { dir: d, cache };
}

/** RFC822.SIZE computed the plain way: the text between From line and separator, each LF counted as CRLF, CRs not counted. */
function sizeOf(text: string): number {
  return text.replace(/\r/g, '').length + (text.match(/\n/g)?.length ?? 0);
}

describe('scanning a traditional mailbox in chunks', () => {
  it('finds every message and its size when lines cross the 1 MB chunks, one line is longer than a chunk, and the file ends without LF', () => {
    dir = mkdtempSync(join(tmpdir(), 'unix-scan-'));
    const path = join(dir, 'box');
    const bodies = [
      'short body\n',
      `${'x'.repeat(2_500_000)}\nafter the long line\n`, // one line of 2.5 MB
      `${Array.from({ length: 40_000 }, (_, i) => `line ${i} ${'y'.repeat(i % 70)}\r`).join('\n')}\n`, // CRLF lines across chunk ends
      'From inside the body is not a From line\n>From quoted\n',
    ];
    const texts = bodies.map((b, i) => `Subject: m${i}\nStatus: RO\nX-UID: ${i + 1}\n\n${b}`);
    const last = 'Subject: last\n\nno final newline';
    const file = texts.map((t, i) => `From a${i}@example.com Mon Jan  2 03:04:05 2023\n${t}\n`).join('') + `From z@example.com Tue Jan  3 03:04:05 2023\n${last}`;
    writeFileSync(path, file, 'latin1');
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const { messages } = scanMailbox(fd, 0, size);
      expect(messages.length).toBe(5);
      // Private headers (Status, X-UID) do not count.
      texts.forEach((t, i) => expect(messages[i].size).toBe(sizeOf(t) - sizeOf(`Status: RO\nX-UID: ${i + 1}\n`)));
      expect(messages[4].size).toBe(sizeOf(last));
      expect(messages[1].status).toBe('RO');
      expect(messages.map((m) => m.xuid)).toEqual(['1', '2', '3', '4', undefined]);
      expect(messages[4].next).toBe(size);
      // The table holds the same.
      const { table } = scanTable(fd, 0, size);
      expect(Array.from({ length: table.length }, (_, i) => table.size[i])).toEqual(messages.map((m) => m.size));
      expect(Array.from({ length: table.length }, (_, i) => table.start[i])).toEqual(messages.map((m) => m.start));
    } finally {
      closeSync(fd);
    }
  });
});

describe('presenting stored messages as IMAP sees them', () => {
  it('drops private headers wherever they are, drops CRs, turns LF into CRLF; sizes match; transient and header-only reads agree', async () => {
    dir = mkdtempSync(join(tmpdir(), 'unix-present-'));
    const path = join(dir, 'box');
    const big = Array.from({ length: 5000 }, (_, i) => `body line ${i} ${'z'.repeat(i % 60)}`).join('\n'); // about 230 KB: not the reused buffer
    const stored = [
      `From a@b Mon Jan  2 03:04:05 2023\nSubject: one\nStatus: RO\nTo: x@y\nX-Keywords: \n  continued\nX-UID: 1\nDate: Mon, 2 Jan 2023 03:04:05 +0000\n\nline with CRLF\r\nbare\rCR inside\n\nlast line\n\n`,
      `From c@d Mon Jan  2 03:04:05 2023\nX-Status: F\nSubject: two\r\n\r\n${big}\n\n`,
      `From e@f Mon Jan  2 03:04:05 2023\nSubject: three\n\n\n\nblank lines above and below\n\n\n`,
    ];
    const expected = [
      'Subject: one\r\nTo: x@y\r\nDate: Mon, 2 Jan 2023 03:04:05 +0000\r\n\r\nline with CRLF\r\nbareCR inside\r\n\r\nlast line\r\n',
      `Subject: two\r\n\r\n${big.replace(/\n/g, '\r\n')}\r\n`,
      'Subject: three\r\n\r\n\r\n\r\nblank lines above and below\r\n\r\n',
    ];
    writeFileSync(path, stored.join(''), 'latin1');
    const mb = await unixDriver.open(path, 'box', driverContext(dir, { user: 'u', hostname: 'h' }), { readOnly: true });
    try {
      const uids = mb.uids();
      expect(uids.length).toBe(3);
      for (let k = 0; k < 3; k++) {
        const full = (await mb.read(uids[k]))!.toString('latin1');
        expect(full).toBe(expected[k]);
        expect(mb.get(uids[k])!.size).toBe(expected[k].length);
        expect((await mb.read(uids[k], { transient: true }))!.toString('latin1')).toBe(expected[k]);
        const header = (await mb.readHeader(uids[k]))!.toString('latin1');
        expect(header).toBe(expected[k].slice(0, expected[k].indexOf('\r\n\r\n') + 4));
      }
    } finally {
      await mb.close();
    }
  });
});

describe('reading stored messages in stored form (readMboxForm, for copies between unix mailboxes)', () => {
  it('gives what prepareForMbox makes of read(), over 600 random stored messages', async () => {
    dir = mkdtempSync(join(tmpdir(), 'unix-mboxform-'));
    const path = join(dir, 'box');
    const headers = ['Subject: s', 'Status: RO', 'X-Status: F', 'X-Keywords: a b', 'X-UID: 7', 'x-imap: 1 2', 'Content-Length: 3', 'X-Other: o', ' folded', 'From inside header', 'To: a@b\r', 'Nul: a\0b'];
    const lines = ['text', 'From here on', '>From quoted', 'lone \r CR', 'crlf\r', 'nul \0 byte', '', 'From someone', 'Status: in body', '\u00e9t\u00e9'];
    let seed = 11;
    const rnd = (n: number) => Math.floor(((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000) * n);
    let text = '';
    for (let k = 0; k < 600; k++) {
      text += `From a@b Mon Jan  2 03:04:05 2023\nFrom: x@y\n`;
      for (let i = rnd(7); i > 0; i--) text += headers[rnd(headers.length)] + '\n';
      if (rnd(8)) text += '\n';
      for (let i = rnd(9); i > 0; i--) text += lines[rnd(lines.length)] + '\n';
      if (!rnd(6)) text += 'no final line feed';
      text += '\n\n';
    }
    writeFileSync(path, text, 'latin1');
    const mb = await unixDriver.open(path, 'box', driverContext(dir, { user: 'u', hostname: 'h' }), { readOnly: true });
    try {
      const uids = mb.uids();
      expect(uids.length).toBe(600);
      let quoted = 0;
      for (const uid of uids) {
        const want = prepareForMbox((await mb.read(uid))!);
        const got = (await mb.readMboxForm!(uid))!;
        expect(got.header.toString('latin1')).toBe(want.header.toString('latin1'));
        expect(got.body.toString('latin1')).toBe(want.body.toString('latin1'));
        if (got.body.includes('>From here')) quoted++;
      }
      expect(quoted).toBeGreaterThan(10);
    } finally {
      await mb.close();
    }
  });
});

describe('the header-field index (fields.ts): what SEARCH FROM/TO/CC/BCC/SUBJECT/SENT* read', () => {
  it('holds, for 800 random messages, exactly the field values the header gives, and searches find the same messages with it as without', async () => {
    const { dir } = withCache('unix-fields-');
    const path = join(dir, 'box');
    const lines = [
      'From: Zoe <zoe@example.com>', 'from: second@example.com', 'To: a@b,\n  c@d', 'CC: x@y', 'Bcc: hidden@z', 'Subject: =?UTF-8?B?w6l0w6k=?= zebra',
      'Subject: second subject', 'SUBJECT:no space', 'Subject : not a field', 'Date: Mon, 2 Jan 2023 03:04:05 +0000', 'Status: RO', 'X-UID: 9',
      'X-Status: F\n continued private', ' stray continuation', 'Fromage: not from', 'From x@y Mon Jan  2 03:04:05 2023 not a header',
      'Subject: with CR\r', 'To: folded\n\tover\n two lines', 'X-Other: zebra', 'Date: Tue, 3 Jan 2023 10:00:00 -0500', 'Cc: 8-bit \u00e9t\u00e9',
      'Received: from a', 'junk line without colon',
    ];
    let seed = 17;
    const rnd = (n: number) => Math.floor(((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000) * n);
    let text = '';
    for (let k = 0; k < 800; k++) {
      text += `From a@b Mon Jan  2 03:04:05 2023\n`;
      for (let i = rnd(9); i > 0; i--) text += lines[rnd(lines.length)] + '\n';
      text += rnd(10) ? '\nbody zebra\n\n' : '\n';
    }
    writeFileSync(path, text, 'latin1');
    const ctx = driverContext(dir, { user: 'u', hostname: 'h' });
    (await unixDriver.open(path, 'box', ctx)).close(); // the first open keeps the index (and writes UIDs)
    const mb = await unixDriver.open(path, 'box', ctx);
    try {
      let kept = 0;
      for (const uid of mb.uids()) {
        const header = (await mb.readHeader(uid))!;
        const fields = mb.readFields!(uid);
        if (!fields) continue;
        kept++;
        for (const name of INDEXED_FIELDS) {
          const want = headerFieldsNamed(header, name).map((f) => fieldValue(header, f));
          const got = headerFieldsNamed(fields, name).map((f) => fieldValue(fields, f));
          expect(got).toEqual(want);
        }
      }
      expect(kept).toBe(800);
      const keys = [
        { type: 'header', field: 'from', value: 'zoe' },
        { type: 'header', field: 'subject', value: '\u00e9t\u00e9' },
        { type: 'header', field: 'to', value: 'over' },
        { type: 'header', field: 'cc', value: '' },
        { type: 'not', key: { type: 'header', field: 'bcc', value: 'hidden' } },
        { type: 'or', a: { type: 'header', field: 'subject', value: 'zebra' }, b: { type: 'sentdate', op: 'since', date: '2023-01-03' } },
        { type: 'sentdate', op: 'on', date: '2023-01-02' },
      ] as const;
      for (const key of keys) {
        const match = compileSearch(key as never, { charset: 'UTF-8', maxSeq: 800, maxUid: 100000, now: new Date() });
        const withIndex: number[] = [];
        const without: number[] = [];
        for (const [seq, uid] of mb.uids().entries()) {
          const info = mb.get(uid)!;
          const m = { seq: seq + 1, uid, flags: info.flags, internalDate: info.internalDate, size: info.size, load: async () => (await mb.read(uid))!, loadHeader: async () => (await mb.readHeader(uid))! };
          if (await match({ ...m, loadFields: () => mb.readFields!(uid) })) withIndex.push(uid);
          if (await match(m)) without.push(uid);
        }
        expect(withIndex).toEqual(without);
        expect(without.length).toBeGreaterThan(0);
      }
    } finally {
      await mb.close();
    }
  });
});

describe('the header-field index after another program changed the file', () => {
  it('is not used for a message whose header changed under the same UID, nor after UIDVALIDITY changed', async () => {
    const { dir } = withCache('unix-fields-');
    const path = join(dir, 'box');
    writeFileSync(path, [1, 2, 3].map((n) => `From a@b Mon Jan  2 03:04:05 2023\nFrom: Zoe${n} <z@example.com>\nSubject: s${n}\n\nbody\n\n`).join(''));
    const ctx = driverContext(dir, { user: 'u', hostname: 'h' });
    const mb = await unixDriver.open(path, 'box', ctx); // the first scan keeps the index
    try {
      expect(mb.readFields!(2)!.toString()).toContain('From: Zoe2 <z@example.com>\r\n');
      // Another program edits message 2's From (X-UID kept): the session rescans, and that entry no longer applies.
      writeFileSync(path, readFileSync(path, 'latin1').replace('From: Zoe2 <', 'From: Zoey2 <'), 'latin1');
      await mb.sync();
      expect([...mb.uids()]).toEqual([1, 2, 3]);
      expect(mb.readFields!(1)!.toString()).toContain('From: Zoe1 <z@example.com>\r\n');
      expect(mb.readFields!(2)).toBeUndefined();
      // A new UIDVALIDITY: nothing kept under the old one applies.
      writeFileSync(path, readFileSync(path, 'latin1').replace(/X-IMAPbase: \d+/, 'X-IMAPbase: 7'), 'latin1');
      await mb.sync();
      expect(mb.uidValidity).toBe(7);
      expect(mb.readFields!(1)).toBeUndefined();
    } finally {
      await mb.close();
    }
  });
});

describe('when the header-field index is kept', () => {
  it('only once the UIDs it is keyed by are in the file: not by a read-only open that numbered the messages itself', async () => {
    const { dir, cache } = withCache('unix-fields-');
    const path = join(dir, 'spool');
    writeFileSync(path, [1, 2].map((n) => `From a@b Mon Jan  2 03:04:05 2023\nFrom: z${n}@example.com\n\nbody\n\n`).join(''));
    const ctx = driverContext(dir, { user: 'u', hostname: 'h' });
    const kept = () => readdirSync(cache).filter((f) => f.endsWith('.fields'));
    let mb = await unixDriver.open(path, 'spool', ctx, { readOnly: true });
    expect(mb.readFields!(1)).toBeUndefined();
    await mb.close();
    expect(kept()).toEqual([]);
    expect(readdirSync(cache).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    mb = await unixDriver.open(path, 'spool', ctx); // writes X-UIDs, then keeps the index
    // Loaded for lookups, and let go a second after the last one (an idle session keeps no index).
    vi.useFakeTimers();
    try {
      expect(mb.readFields!(2)!.toString()).toBe('From: z2@example.com\r\n\r\n');
      const held = () => (mb as unknown as { fieldIndex?: unknown }).fieldIndex !== undefined;
      expect(held()).toBe(true);
      vi.advanceTimersByTime(800);
      mb.readFields!(1);
      vi.advanceTimersByTime(800);
      expect(held()).toBe(true);
      vi.advanceTimersByTime(1500);
      expect(held()).toBe(false);
      expect(mb.readFields!(1)!.toString()).toBe('From: z1@example.com\r\n\r\n');
    } finally {
      vi.useRealTimers();
    }
    await mb.close();
    expect(kept().length).toBe(1);
  });
});

describe('preparing a message for the mbox (prepareForMbox)', () => {
  const prep = (s: string) => {
    const { header, body } = prepareForMbox(Buffer.from(s, 'latin1'));
    return [header.toString('latin1'), body.toString('latin1')];
  };
  it('drops every CR (pairs, bare, runs), turns NUL into 0x80 and ends with a line feed', () => {
    expect(prep('Subject: a\r\nX: b\rc\r\r\n\r\nbo\0dy\r\nend')).toEqual(['Subject: a\nX: bc\n', 'bo\u0080dy\nend\n']);
    expect(prep('\0\0\r\r')).toEqual(['\u0080\u0080\n', '']);
    expect(prep('')).toEqual(['', '']);
    expect(prep('\r\n\r\nbody only')).toEqual(['', '\nbody only\n']);
  });
  it('quotes From lines at the start, the end and side by side', () => {
    expect(prep('\nFrom a')).toEqual(['', '>From a\n']);
    expect(prep('\nFrom a\nFrom b\n\nFrom c\nx From d\nFrom ')).toEqual(['', '>From a\n>From b\n\n>From c\nx From d\n>From \n']);
    expect(prep('From a\nFrom b\n\nFrom')).toEqual(['>From a\n>From b\n', 'From\n']);
  });
  it('renames private headers in any case anywhere in the header, and quotes From lines', () => {
    expect(prep('STATUS: RO\nSubject: s\nx-uid: 5\nX-Keywords: a\nXStatus: no\nFrom me\n\nFrom you\nFromage\n')).toEqual([
      'X-Original-STATUS: RO\nSubject: s\nX-Original-x-uid: 5\nX-Original-X-Keywords: a\nXStatus: no\n>From me\n',
      '>From you\nFromage\n',
    ]);
  });
  it('gives what a byte-by-byte conversion gives, over 20,000 random messages', () => {
    const pieces = ['\r\n', '\n', '\r', '\0', 'From x', 'Status: RO\r\n', 'x-imap: 1\r\n', 'Subject: hi', ' ', 'a', '\u00e9', '\n\n', '\r\n\r\n'];
    let seed = 5;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 20000; k++) {
      let s = '';
      for (let i = Math.floor(rnd() * 30); i > 0; i--) s += pieces[Math.floor(rnd() * pieces.length)];
      const { header, body } = prepareForMbox(Buffer.from(s, 'latin1'));
      let clean = s.replace(/\r/g, '').replace(/\0/g, '\u0080');
      if (!clean.endsWith('\n')) clean += '\n';
      // Without the From quoting and renaming, header + blank line + body is the cleaned text.
      const joined = (header.toString('latin1') + (body.length || clean.includes('\n\n') || clean.startsWith('\n') ? '\n' : '') + body.toString('latin1')).replace(/^>From /gm, 'From ').replace(/^X-Original-/gm, '');
      expect(joined).toBe(clean);
      // and every line that began "From " is quoted
      expect(/^From /m.test(header.toString('latin1'))).toBe(false);
      expect(/^From /m.test(body.toString('latin1'))).toBe(false);
    }
  });
});
