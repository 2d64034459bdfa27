import { describe, it, expect } from 'vitest';
import { parseCriteria, criteriaDate, CriteriaError } from '../../../src/tools/criteria.js';

describe('mailutil prune criteria', () => {
  it('parses a flat list of IMAP2 keys into an AND', () => {
    expect(parseCriteria('DELETED BEFORE 1-Jan-2020 FROM "Fred Smith"')).toEqual({
      type: 'and',
      keys: [
        { type: 'flag', flag: '\\Deleted', set: true },
        { type: 'internaldate', op: 'before', date: '2020-01-01' },
        { type: 'header', field: 'From', value: 'Fred Smith' },
      ],
    });
  });
  it('returns a single key without wrapping', () => {
    expect(parseCriteria('seen')).toEqual({ type: 'flag', flag: '\\Seen', set: true });
    expect(parseCriteria('UNKEYWORD $Junk')).toEqual({ type: 'keyword', keyword: '$Junk', set: false });
    expect(parseCriteria('LARGER 100000')).toEqual({ type: 'size', op: 'larger', size: 100000 });
    expect(parseCriteria('OLDER 86400')).toEqual({ type: 'within', op: 'older', seconds: 86400 });
  });
  it('handles quoted strings with escapes', () => {
    expect(parseCriteria('SUBJECT "say \\"hi\\" \\\\ now"')).toEqual({ type: 'header', field: 'Subject', value: 'say "hi" \\ now' });
  });
  it('rejects unknown keys, missing arguments and bad dates with a reason', () => {
    expect(() => parseCriteria('FOO')).toThrow(CriteriaError);
    expect(() => parseCriteria('FROM')).toThrow(/missing string/);
    expect(() => parseCriteria('SINCE 31-Foo-2020')).toThrow(/bad date/);
    expect(() => parseCriteria('LARGER x')).toThrow(/bad number/);
    expect(() => parseCriteria('')).toThrow(/empty/);
    expect(() => parseCriteria('SUBJECT "open')).toThrow(/unterminated/);
  });
  it('converts dates', () => {
    expect(criteriaDate('7-Feb-1994')).toBe('1994-02-07');
    expect(criteriaDate('07-feb-1994')).toBe('1994-02-07');
    expect(criteriaDate('32-Feb-1994')).toBeNull();
    expect(criteriaDate('1994-02-07')).toBeNull();
  });
});
