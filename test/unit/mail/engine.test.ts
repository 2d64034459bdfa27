import { describe, it, expect } from 'vitest';
import * as fc from 'fast-check';
import { parseMessage, headerOf, envelopeFields, parseHeaderFields, fieldsNamed, fieldValue, envelope, bodyStructure, parseSectionSpec, fetchSection, fetchBinary, binarySize, formatInternalDate, parseInternalDate, parseRfc5322Date, compileSearch, parseSequenceSet, sortMessages, threadMessages, baseSubject, decodeMimeWords } from '../../../src/mail/index.js';
import type { SearchKey } from '../../../src/mail/types.js';
import { valueText, strText } from '../../../src/imap/encoder.js';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

const SIMPLE = crlf(`Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
From: Terry Gray <gray@cac.washington.edu>
Subject: IMAP4rev1 WG mtg summary and minutes
To: imap@cac.washington.edu
cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>
Message-Id: <B27397-0100000@cac.washington.edu>
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

Hello Joe, do you think we can meet at 3:30 tomorrow?
`);

const MULTI = crlf(`From: "Joe Q. Public" <john.q.public@example.com>
To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>
Cc: <boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>
Subject: =?UTF-8?B?w6lsw6hwaGFudA==?= report
Date: Tue, 1 Jul 2003 10:52:37 +0200
Message-ID: <5678.21-Nov-1997@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait =
soft break
--XX
Content-Type: application/octet-stream; name="a.bin"
Content-Disposition: attachment; filename="a.bin"
Content-Transfer-Encoding: base64

AAECAwQF
--XX
Content-Type: message/rfc822

From: inner@example.com
Subject: inner

Inner body line.
--XX--
epilogue
`);

describe('ENVELOPE', () => {
  it('matches the RFC 3501 example', () => {
    expect(envelope(parseMessage(SIMPLE))).toEqual([
      'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      'IMAP4rev1 WG mtg summary and minutes',
      [['Terry Gray', null, 'gray', 'cac.washington.edu']],
      [['Terry Gray', null, 'gray', 'cac.washington.edu']],
      [['Terry Gray', null, 'gray', 'cac.washington.edu']],
      [[null, null, 'imap', 'cac.washington.edu']],
      [
        [null, null, 'minutes', 'CNRI.Reston.VA.US'],
        ['John Klensin', null, 'KLENSIN', 'MIT.EDU'],
      ],
      null,
      null,
      '<B27397-0100000@cac.washington.edu>',
    ]);
  });
  it('handles quoted names, encoded words left encoded, groups', () => {
    const e = envelope(parseMessage(MULTI)) as unknown[];
    expect(e[1]).toBe('=?UTF-8?B?w6lsw6hwaGFudA==?= report');
    expect(e[2]).toEqual([['Joe Q. Public', null, 'john.q.public', 'example.com']]);
    expect((e[6] as unknown[])[1]).toEqual(['Giant; "Big" Box', null, 'sysservices', 'example.net']);
    const g = envelope(parseMessage(crlf('To: A Group:Ed Jones <c@a.test>,joe@where.test;\n\nx\n'))) as unknown[];
    expect(g[5]).toEqual([
      [null, null, 'A Group', null],
      ['Ed Jones', null, 'c', 'a.test'],
      [null, null, 'joe', 'where.test'],
      [null, null, null, null],
    ]);
  });
});

describe('header-only parsing (ENVELOPE and header SEARCH without the MIME tree)', () => {
  const headerPart = (m: Buffer) => m.subarray(0, m.indexOf('\r\n\r\n') + 4);
  it('headerOf gives the fields and body start of parseMessage’s root, for whole messages and headers alone', () => {
    for (const m of [SIMPLE, MULTI, headerPart(MULTI), crlf('\nbody only\n'), crlf('No-Separator: x\n continued'), Buffer.alloc(0)]) {
      const root = parseMessage(m).root;
      const h = headerOf(m);
      expect(h.fields).toEqual(root.fields);
      expect(h.bodyStart).toBe(root.bodyStart);
      expect(envelopeFields(m, h.fields)).toEqual(envelope(parseMessage(m)));
    }
  });
  it('finds the fields of one name as parseHeaderFields does, over 20,000 random header blocks', () => {
    const pieces = ['From: a', 'from:b', 'FROM :c', 'Fr\u00f6m: d', ' cont', '\tcont', 'Subject: s', 'X: y', 'no colon', ':', '\r\n', '\n', 'From', ': '];
    let seed = 9;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 20000; k++) {
      let s = '';
      for (let i = Math.floor(rnd() * 24); i > 0; i--) s += pieces[Math.floor(rnd() * pieces.length)];
      const b = Buffer.from(s, 'latin1');
      for (const name of ['from', 'subject', 'x']) expect(fieldsNamed(b, 0, b.length, name)).toEqual(parseHeaderFields(b, 0, b.length).filter((f) => f.name === name));
    }
  });
  it('unfolds and trims field values the same with and without folding', () => {
    const v = (raw: string) => {
      const b = Buffer.from(raw, 'latin1');
      return fieldValue(b, parseHeaderFields(b, 0, b.length)[0]);
    };
    expect(v('Subject:  plain  \r\n')).toBe('plain');
    expect(v('Subject:\tx\r\r\n')).toBe('x');
    expect(v('Subject: \r\n')).toBe('');
    expect(v('Subject: no line end')).toBe('no line end');
    expect(v('Subject: \r\n folded\r\n  twice \r\n')).toBe('folded  twice');
    expect(v('Subject: a\n\tb\n')).toBe('a\tb');
  });
  it('tokenizes addresses: dot-atoms, quoted strings with escapes, comments, domain literals', () => {
    const to = (value: string) => (envelope(parseMessage(crlf(`To: ${value}\n\nx\n`))) as unknown[])[5];
    expect(to('a..b.c@x.test')).toEqual([[null, null, 'a..b.c', 'x.test']]);
    expect(to('"a\\"b\\\\c" <q@[192.0.2.1]>')).toEqual([['a"b\\c', null, 'q', '[192.0.2.1]']]);
    expect(to('x@y.test (Comment (nested) here)')).toEqual([['Comment (nested) here', null, 'x', 'y.test']]);
    // 8-bit names stay octets; junk and unterminated syntax end as c-client's placeholders.
    expect(to('Bj\u00f8rn <bj@nord.test>, ]junk[ , .dot@x.test')).toEqual([
      ['Bj\u00c3\u00b8rn', null, 'bj', 'nord.test'],
      [null, null, 'junk[ , .dot@x.test', 'MISSING_DOMAIN'],
    ]);
    expect(to('"unterminated <u@x.test>')).toEqual([[null, null, 'unterminated <u@x.test>', 'MISSING_DOMAIN']]);
  });
  it('quotes strings in one pass: escapes, 8-bit and long text as literals', () => {
    expect(strText('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(strText('caf\u00e9')).toBe('{4}\r\ncaf\u00e9');
    expect(strText('\u20ac')).toBe('{3}\r\n\u00e2\u0082\u00ac');
    expect(strText('a\r\nb')).toBe('{4}\r\na\r\nb');
    expect(strText('x'.repeat(1024))).toBe('{1024}\r\n' + 'x'.repeat(1024));
    expect(strText(Buffer.from([0x41, 0x22]))).toBe('"A\\""');
    expect(valueText([null, 7, ['a', Buffer.from('b')]])).toBe('(NIL 7 ("a" "b"))');
  });
});

describe('BODYSTRUCTURE', () => {
  it('of a simple text message', () => {
    expect(bodyStructure(parseMessage(SIMPLE), false)).toEqual(['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 55, 1]);
  });
  it('of a multipart with attachment and message/rfc822', () => {
    const bs = bodyStructure(parseMessage(MULTI), true) as unknown[];
    expect(bs[3]).toBe('MIXED');
    expect(bs[4]).toEqual(['BOUNDARY', 'XX']);
    const [text, att, inner] = bs as unknown[][];
    expect(text.slice(0, 6)).toEqual(['TEXT', 'PLAIN', ['CHARSET', 'utf-8'], null, null, 'QUOTED-PRINTABLE']);
    expect(att.slice(0, 7)).toEqual(['APPLICATION', 'OCTET-STREAM', ['NAME', 'a.bin'], null, null, 'BASE64', 8]);
    expect(att[8]).toEqual(['ATTACHMENT', ['FILENAME', 'a.bin']]);
    expect(inner[0]).toBe('MESSAGE');
    expect(inner[1]).toBe('RFC822');
    expect((inner[7] as unknown[])[1]).toBe('inner');
  });
  it('sizes equal the section lengths', () => {
    const m = parseMessage(MULTI);
    const bs = bodyStructure(m, false) as unknown[][];
    for (let i = 0; i < 3; i++) expect(fetchSection(m, { part: [i + 1], kind: 'all' }).length).toBe(bs[i][6]);
  });
});

describe('sections and BINARY', () => {
  const m = parseMessage(MULTI);
  it('parses section specs', () => {
    expect(parseSectionSpec('')).toEqual({ part: [], kind: 'all' });
    expect(parseSectionSpec('1.2.HEADER.FIELDS (FROM TO)')).toEqual({ part: [1, 2], kind: 'header.fields', fields: ['FROM', 'TO'] });
    expect(parseSectionSpec('3.MIME')).toEqual({ part: [3], kind: 'mime' });
    expect(parseSectionSpec('MIME')).toBeNull();
    expect(parseSectionSpec('0')).toBeNull();
    expect(parseSectionSpec('HEADER.FIELDS')).toBeNull();
  });
  it('fetches parts, headers, text, MIME headers, inner messages', () => {
    expect(fetchSection(m, { part: [1], kind: 'all' }).toString()).toBe('Caf=C3=A9 au lait =\r\nsoft break');
    expect(fetchSection(m, { part: [2], kind: 'mime' }).toString()).toMatch(/^Content-Type: application\/octet-stream.*\r\n\r\n$/s);
    expect(fetchSection(m, { part: [3], kind: 'header' }).toString()).toBe('From: inner@example.com\r\nSubject: inner\r\n\r\n');
    expect(fetchSection(m, { part: [3], kind: 'text' }).toString()).toBe('Inner body line.');
    expect(fetchSection(m, { part: [3, 1], kind: 'all' }).toString()).toBe('Inner body line.');
    expect(fetchSection(m, { part: [], kind: 'header.fields', fields: ['subject', 'x-none'] }).toString()).toBe('Subject: =?UTF-8?B?w6lsw6hwaGFudA==?= report\r\n\r\n');
    expect(fetchSection(m, { part: [9], kind: 'all' }).length).toBe(0);
  });
  it('decodes BINARY', () => {
    expect(fetchBinary(m, [1]).toString()).toBe('Café au lait soft break');
    expect([...(fetchBinary(m, [2]) as Buffer)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(binarySize(m, [2])).toBe(6);
    const odd = parseMessage(crlf('Content-Transfer-Encoding: x-uuencode\n\nbegin\n'));
    expect(fetchBinary(odd, [1])).toEqual({ error: 'UNKNOWN-CTE' });
  });
  it('tolerates bare LF, no separator, no boundary, missing final boundary', () => {
    expect(bodyStructure(parseMessage(Buffer.from('Subject: x\n\nbody\n')), false)).toEqual(['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 5, 1]);
    expect(bodyStructure(parseMessage(Buffer.from('Subject: only header\r\n')), false)).toEqual(['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 0, 0]);
    const nob = bodyStructure(parseMessage(crlf('Content-Type: multipart/mixed\n\nx\n')), false) as unknown[];
    expect(nob.slice(0, 2)).toEqual(['TEXT', 'PLAIN']);
    const open = bodyStructure(parseMessage(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n')), false) as unknown[];
    expect(open.length).toBe(3);
  });
  it('never throws on arbitrary bytes, and sizes match sections (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (arr) => {
        const m = parseMessage(Buffer.from(arr));
        envelope(m);
        const bs = bodyStructure(m, true);
        fetchSection(m, { part: [1], kind: 'all' });
        fetchBinary(m, [1]);
        return bs !== undefined;
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z ]{0,20}$/), { minLength: 1, maxLength: 4 }), (bodies) => {
        const raw = crlf(`Content-Type: multipart/mixed; boundary=zz\n\n${bodies.map((b) => `--zz\n\n${b}`).join('\n')}\n--zz--\n`);
        const m = parseMessage(raw);
        const bs = bodyStructure(m, false) as unknown[][];
        return bodies.every((_, i) => fetchSection(m, { part: [i + 1], kind: 'all' }).length === bs[i][6]);
      }),
    );
  });
});

describe('dates', () => {
  it('formats and parses internal dates', () => {
    const d = new Date('2023-01-02T02:04:05Z');
    expect(formatInternalDate(d, 60)).toBe(' 2-Jan-2023 03:04:05 +0100');
    // The arithmetic formatter agrees with one built on Date's own calendar, across leap days, century years, zones and times before 1970.
    const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const p2 = (n: number) => String(n).padStart(2, '0');
    const reference = (date: Date, zone: number) => {
      const x = new Date(date.getTime() + zone * 60000);
      return `${String(x.getUTCDate()).padStart(2, ' ')}-${MON[x.getUTCMonth()]}-${x.getUTCFullYear()} ${p2(x.getUTCHours())}:${p2(x.getUTCMinutes())}:${p2(x.getUTCSeconds())} ${zone < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(zone) / 60))}${p2(Math.abs(zone) % 60)}`;
    };
    const fixed = ['1900-02-28T23:59:59.999Z', '1900-03-01T00:00:00Z', '1969-12-31T23:59:59.500Z', '1970-01-01T00:00:00Z', '2000-02-29T12:00:00Z', '2100-02-28T23:30:00Z', '2100-03-01T00:30:00Z', '2024-12-31T23:59:59Z'];
    for (const iso of fixed) for (const zone of [0, 60, -300, 330, -720, 840, 45, -59]) expect(formatInternalDate(new Date(iso), zone)).toBe(reference(new Date(iso), zone));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 20000; i++) {
      const when = new Date(Math.floor((rnd() - 0.3) * 8e12));
      const zone = Math.floor((rnd() - 0.5) * 1680);
      expect(formatInternalDate(when, zone)).toBe(reference(when, zone));
    }
    expect(parseInternalDate(' 2-Jan-2023 03:04:05 +0100')!.date.toISOString()).toBe('2023-01-02T02:04:05.000Z');
    expect(parseInternalDate('17-Jan-2023 13:00:00 -0500')!.zoneMinutes).toBe(-300);
    expect(parseInternalDate('31-Feb-2023 13:00:00 -0500')).toBeNull();
    expect(parseRfc5322Date('Wed, 17 Jul 1996 02:23:25 -0700 (PDT)')!.date.toISOString()).toBe('1996-07-17T09:23:25.000Z');
    expect(parseRfc5322Date('17 Jul 96 02:23 PDT')!.zoneMinutes).toBe(-420);
    expect(parseRfc5322Date('garbage')).toBeNull();
  });
});

describe('SEARCH', () => {
  const msgs = [SIMPLE, MULTI].map((data, i) => ({ seq: i + 1, uid: (i + 1) * 10, flags: new Set(i === 0 ? ['\\Seen'] : ['\\Recent']), internalDate: new Date('2023-06-01T12:00:00Z'), size: data.length, load: async () => data }));
  const run = async (key: SearchKey) => {
    const f = compileSearch(key, { charset: 'UTF-8', maxSeq: 2, maxUid: 20, now: new Date('2023-06-02T12:00:00Z') });
    const out: number[] = [];
    for (const m of msgs) if (await f(m)) out.push(m.seq);
    return out;
  };
  it('matches flags, headers (decoded), bodies (decoded QP), text, dates, sets, logic', async () => {
    expect(await run({ type: 'flag', flag: '\\Seen', set: false })).toEqual([2]);
    expect(await run({ type: 'new' })).toEqual([2]);
    expect(await run({ type: 'header', field: 'Subject', value: 'ÉLÈPHANT' })).toEqual([2]);
    expect(await run({ type: 'header', field: 'From', value: 'terry' })).toEqual([1]);
    expect(await run({ type: 'body', value: 'café' })).toEqual([2]);
    expect(await run({ type: 'body', value: 'inner body' })).toEqual([2]);
    expect(await run({ type: 'text', value: 'KLENSIN' })).toEqual([1]);
    expect(await run({ type: 'sentdate', op: 'on', date: '1996-07-17' })).toEqual([1]);
    expect(await run({ type: 'sentdate', op: 'since', date: '2000-01-01' })).toEqual([2]);
    expect(await run({ type: 'internaldate', op: 'before', date: '2023-06-02' })).toEqual([1, 2]);
    expect(await run({ type: 'within', op: 'younger', seconds: 3600 })).toEqual([]);
    expect(await run({ type: 'uidset', set: '15:*' })).toEqual([2]);
    expect(await run({ type: 'seqset', set: '*' })).toEqual([2]);
    expect(await run({ type: 'or', a: { type: 'size', op: 'smaller', size: 400 }, b: { type: 'keyword', keyword: 'x', set: true } })).toEqual([1]);
    expect(await run({ type: 'not', key: { type: 'all' } })).toEqual([]);
  });
  it('parses sequence sets', () => {
    expect(parseSequenceSet('1:3,7,*', 9)).toEqual([[1, 3], [7, 7], [9, 9]]);
    expect(parseSequenceSet('5:2', 9)).toEqual([[2, 5]]);
    expect(parseSequenceSet('0', 9)).toBeNull();
    expect(parseSequenceSet('a', 9)).toBeNull();
  });
});

describe('SORT and THREAD', () => {
  const h = (s: string) => crlf(s + '\n\n');
  const msgs = [
    { id: 1, seq: 1, size: 30, internalDate: new Date(3000), header: h('Subject: Re: Hello\nFrom: b@x\nDate: 2 Jan 2020 00:00:00 +0000\nMessage-ID: <2@x>\nReferences: <1@x>') },
    { id: 2, seq: 2, size: 10, internalDate: new Date(1000), header: h('Subject: Hello\nFrom: a@x\nDate: 1 Jan 2020 00:00:00 +0000\nMessage-ID: <1@x>') },
    { id: 3, seq: 3, size: 20, internalDate: new Date(2000), header: h('Subject: [list] Other (fwd)\nFrom: c@x\nDate: 3 Jan 2020 00:00:00 +0000\nMessage-ID: <3@x>') },
  ];
  it('extracts base subjects (RFC 5256)', () => {
    expect(baseSubject('Re: Fwd: [list] Hello (fwd)')).toBe('HELLO');
    expect(baseSubject('[fwd: Re: x]')).toBe('X');
    expect(baseSubject('=?utf-8?q?Re=3A_caf=C3=A9?=')).toBe('CAFÉ');
  });
  it('sorts by keys with REVERSE and ties by sequence', () => {
    expect(sortMessages([{ key: 'SIZE', reverse: false }], msgs)).toEqual([2, 3, 1]);
    expect(sortMessages([{ key: 'ARRIVAL', reverse: true }], msgs)).toEqual([1, 3, 2]);
    expect(sortMessages([{ key: 'SUBJECT', reverse: false }, { key: 'DATE', reverse: false }], msgs)).toEqual([2, 1, 3]);
    expect(sortMessages([{ key: 'FROM', reverse: false }], msgs)).toEqual([2, 1, 3]);
  });
  it('threads by ORDEREDSUBJECT and REFERENCES', () => {
    expect(threadMessages('ORDEREDSUBJECT', msgs)).toEqual([{ id: 2, children: [{ id: 1, children: [] }] }, { id: 3, children: [] }]);
    expect(threadMessages('REFERENCES', msgs)).toEqual([{ id: 2, children: [{ id: 1, children: [] }] }, { id: 3, children: [] }]);
  });
  it('decodes encoded words', () => {
    expect(decodeMimeWords('=?ISO-8859-1?Q?Andr=E9?= Pirard')).toBe('André Pirard');
    expect(decodeMimeWords('=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=')).toBe('éé');
  });
});

describe('charsets UW lists in its FAQ', () => {
  it('are supported for SEARCH and decode text in each', async () => {
    const { isSupportedCharset, decodeCharset } = await import('../../../src/mail/index.js');
    const { createRequire } = await import('node:module');
    const iconv = createRequire(import.meta.url)('iconv-lite');
    const samples: Array<[string, string]> = [
      ['US-ASCII', 'plain'], ['UTF-8', 'Grüße €'], ['ISO-8859-1', 'Grüße'], ['ISO-8859-2', 'Łódź'], ['ISO-8859-5', 'Привет'], ['ISO-8859-7', 'Καλημέρα'],
      ['ISO-8859-15', 'prix 10 €'], ['windows-1250', 'Łódź'], ['windows-1251', 'Привет'], ['windows-1252', '“quoted” – €'], ['KOI8-R', 'Привет'], ['KOI8-U', 'Привіт'],
      ['ISO-2022-JP', 'こんにちは'], ['EUC-JP', 'こんにちは'], ['Shift_JIS', 'こんにちは'], ['GB2312', '你好'], ['Big5', '你好'], ['EUC-KR', '안녕하세요'],
    ];
    for (const [cs, text] of samples) {
      expect(isSupportedCharset(cs), cs).toBe(true);
      // iconv-lite cannot encode ISO-2022-JP: its bytes for こんにちは, by hand.
      const bytes = cs === 'ISO-2022-JP' ? Buffer.from('1b244224332473244b2441244f1b2842', 'hex') : iconv.encode(text, cs);
      expect(decodeCharset(bytes, cs), cs).toBe(text);
    }
    expect(isSupportedCharset('X-NO-SUCH-CHARSET')).toBe(false);
  });
});
