import { describe, it, expect } from 'vitest';
import { prepareMessage, exitCodeFor, DeliveryError, EX_TEMPFAIL, EX_CANTCREAT, EX_DATAERR, readAll } from '../../../src/tools/deliver.js';
import { StoreError } from '../../../src/store/types.js';
import { Readable } from 'node:stream';

const NOW = new Date(Date.UTC(2023, 0, 2, 3, 4, 5));

describe('delivery message preparation', () => {
  it('drops a leading From line, uses its sender for Return-Path, converts LF to CRLF', () => {
    const p = prepareMessage(Buffer.from('From fred@example.com Mon Jan  2 03:04:05 2023\nSubject: hi\n\nbody\n'), { via: 'tmail-1', recipient: 'bob', now: NOW });
    expect(p.fromLine).toBe('fred@example.com');
    expect(p.lfOnly).toBe(true);
    const s = p.data.toString('latin1');
    expect(s.startsWith('Return-Path: <fred@example.com>\r\nReceived: via tmail-1 for bob; ')).toBe(true);
    expect(s.endsWith('Subject: hi\r\n\r\nbody\r\n')).toBe(true);
    expect(s).not.toMatch(/[^\r]\n/);
  });
  it('prefers -f over the From line and keeps CRLF input as is', () => {
    const p = prepareMessage(Buffer.from('Subject: hi\r\n\r\nbody\r\n'), { via: 'dmail-1', from: '<a@b>', invokedBy: 'postfix', now: NOW });
    expect(p.lfOnly).toBe(false);
    const s = p.data.toString('latin1');
    expect(s).toMatch(/^Return-Path: <a@b>\r\nReceived: via dmail-1 \(invoked by user postfix\); .+\r\nSubject: hi\r\n\r\nbody\r\n$/);
  });
  it('has no Return-Path without a sender', () => {
    const s = prepareMessage(Buffer.from('Subject: x\n\ny\n'), { via: 'tmail-1', now: NOW }).data.toString();
    expect(s.startsWith('Received: via tmail-1; ')).toBe(true);
  });
  it('maps failures to sysexits codes', () => {
    expect(exitCodeFor(new StoreError('over', 'OVERQUOTA'))).toBe(EX_CANTCREAT);
    expect(exitCodeFor(new StoreError('locked'))).toBe(EX_TEMPFAIL);
    expect(exitCodeFor(new Error('ENOSPC'))).toBe(EX_TEMPFAIL);
    expect(exitCodeFor(new DeliveryError('big', EX_DATAERR))).toBe(EX_DATAERR);
  });
  it('refuses oversized input', async () => {
    await expect(readAll(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), 15)).rejects.toThrow(/larger than 15/);
    expect((await readAll(Readable.from([Buffer.from('ab'), Buffer.from('c')]), 15)).toString()).toBe('abc');
  });
});
