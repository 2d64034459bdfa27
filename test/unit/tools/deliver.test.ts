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

describe('per-user quota (virtual users)', () => {
  it('delivers while INBOX plus the message fits, then refuses with EX_CANTCREAT and leaves the mailbox as it was', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { Config } = await import('../../../src/config/index.js');
    const { LocalStore } = await import('../../../src/store/store.js');
    const { deliver } = await import('../../../src/tools/deliver.js');
    const { noLog } = await import('../../helpers/drivers.js');
    const dir = mkdtempSync(join(tmpdir(), 'uw-quota-'));
    try {
      const c = new Config();
      c.set('spool-directory', dir);
      c.set('lock-directory', dir);
      const id = { user: 'v', uid: process.getuid!(), gid: process.getgid!(), groups: [], home: dir, mailRoot: dir, inbox: join(dir, 'INBOX'), restrict: true, virtual: true, quota: 700, module: 'sqlite' };
      const store = new LocalStore({ identity: id, config: c, log: noLog, hostname: 'h' });
      const msg = (n: number) => Buffer.from(`Subject: q${n}\r\n\r\n${'x'.repeat(300)}\r\n`);
      await deliver({ store, quota: id.quota }, msg(1));
      await deliver({ store, quota: id.quota }, msg(2));
      const err = await deliver({ store, quota: id.quota }, msg(3)).catch((e) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect(err.exitCode).toBe(EX_CANTCREAT);
      expect(err.message).toMatch(/^Quota exceeded \(\d+ > 700 bytes\)$/);
      expect((await store.status('INBOX')).messages).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
