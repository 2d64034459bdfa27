import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as mail from '../../../src/mail/index.js';
import { value } from '../../../src/imap/encoder.js';
// @ts-expect-error plain JavaScript shared with the fixture scripts
import { outputs } from '../../fixtures/corpus/outputs.mjs';

// 67 varied and malformed messages with the answers expected of the engine
// (test/fixtures/corpus/README.md: how they were made and checked against Dovecot).
const DIR = new URL('../../fixtures/corpus/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, unknown>;
const files = readdirSync(join(DIR, 'messages')).sort();

describe('message engine on the fixture corpus', () => {
  it('has at least 60 messages, each with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
    expect(Object.keys(expected).sort()).toEqual(files);
  });
  for (const f of files) {
    it(f, () => {
      const got = outputs(mail, value, readFileSync(join(DIR, 'messages', f)));
      expect(got).toEqual(expected[f]);
    });
  }
  it('matches the RFC 3501 §7.4.2 ENVELOPE example and the RFC 2047 §8 example words', () => {
    const env = (expected['64-rfc3501-envelope-example.eml'] as { envelope: string }).envelope;
    expect(env).toBe(
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")',
    );
    const bs = (expected['64-rfc3501-envelope-example.eml'] as { bodystructure: string }).bodystructure;
    expect(bs).toBe('("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 14 1 NIL NIL NIL NIL)');
    expect(mail.decodeMimeWords('=?ISO-8859-1?Q?Andr=E9?= Pirard')).toBe('André Pirard');
  });
});
