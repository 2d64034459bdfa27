import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, BIN, IS_ROOT, TEST_UID, TEST_GID, type Sandbox } from '../helpers/sandbox.js';
import { driverContext } from '../helpers/drivers.js';

const HAVE_UW = spawnSync('sh', ['-c', 'command -v mailutil'], { encoding: 'utf8' }).status === 0;
const UW_MAILUTIL = '/usr/bin/mailutil';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

/** Run our mailutil as the sandbox user. */
function mu(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN('mailutil'), '--config', sb.configFile, ...args], {
    cwd: sb.home,
    env: { PATH: process.env.PATH, HOME: sb.home, TZ: 'UTC' },
    input,
    encoding: 'utf8',
    ...(IS_ROOT ? { uid: TEST_UID, gid: TEST_GID } : {}),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** Run UW's own mailutil as the sandbox user on the sandbox home. */
function uw(args: string[]) {
  const r = spawnSync(UW_MAILUTIL, args, {
    cwd: sb.home,
    env: { PATH: process.env.PATH, HOME: sb.home, TZ: 'UTC' },
    encoding: 'utf8',
    ...(IS_ROOT ? { uid: TEST_UID, gid: TEST_GID } : {}),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const MSG = (n: number, extra = '') =>
  `From sender${n}@example.com Mon Jan  2 0${n % 10}:04:05 2023\nDate: Mon, 2 Jan 2023 03:04:05 +0000\nFrom: Sender ${n} <sender${n}@example.com>\nTo: you@example.com\nSubject: message ${n}${extra}\n\nBody of message ${n}.\n\n`;

function mbox(count: number): string {
  let s = '';
  for (let i = 1; i <= count; i++) s += MSG(i);
  return s;
}

describe('mailutil', () => {
  it('create, check, copy, rename, delete on the home directory', () => {
    sb = makeSandbox();
    sb.mkdir('mail');
    sb.writeFile('mail/src', mbox(3));
    let r = mu(['check', 'mail/src']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toMatch(/^(3 new message\(s\) \(3 unseen\)|No new messages), 3 total in mail\/src$/);
    r = mu(['create', 'mail/new']);
    expect(r.code, r.err).toBe(0);
    r = mu(['create', 'mail/new']);
    expect(r.code).toBe(1);
    expect(r.err).not.toBe('');
    r = mu(['-v', 'copy', 'mail/src', 'mail/copy']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('mail/src [3 message(s)] => mail/copy');
    expect(r.out).toContain('[Ok 3 messages(s)]');
    r = mu(['check', 'mail/copy']);
    expect(r.out).toMatch(/3 total in mail\/copy/);
    r = mu(['rename', 'mail/copy', 'mail/renamed']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(sb.home, 'mail/renamed'))).toBe(true);
    r = mu(['delete', 'mail/renamed']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(sb.home, 'mail/renamed'))).toBe(false);
  });

  it('move empties the source; append needs an existing destination; merge append adds', () => {
    sb = makeSandbox();
    sb.writeFile('a', mbox(2));
    sb.writeFile('b', mbox(1));
    let r = mu(['append', 'a', 'missing']);
    expect(r.code).toBe(1);
    r = mu(['copy', 'a', 'b']);
    expect(r.code).toBe(1); // exists
    r = mu(['append', 'a', 'b']);
    expect(r.code, r.err).toBe(0);
    expect(mu(['check', 'b']).out).toMatch(/3 total in b/);
    r = mu(['move', 'a', 'c']);
    expect(r.code, r.err).toBe(0);
    expect(mu(['check', 'a']).out).toMatch(/ 0 total in a/);
    expect(mu(['check', 'c']).out).toMatch(/2 total in c/);
    // -merge is for transfer only, as in UW.
    expect(mu(['-m', 'append', 'copy', 'c', 'b']).out).toMatch(/^usage: mailutil copy/);
  });

  it('prune deletes what matches and says how many', () => {
    sb = makeSandbox();
    sb.writeFile('box', MSG(1) + MSG(2, ' invoice') + MSG(3, ' invoice'));
    let r = mu(['prune', 'box', 'SUBJECT invoice']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe('2 message(s) purged');
    expect(mu(['check', 'box']).out).toMatch(/1 total in box/);
    r = mu(['prune', 'box', 'SUBJECT nothing-like-this']);
    expect(r.out.trim()).toBe('No matching messages, so nothing purged');
    r = mu(['prune', 'box', 'BOGUS']);
    expect(r.code).toBe(2);
  });

  it('transfer copies a hierarchy under the destination prefix, with merge modes', () => {
    sb = makeSandbox();
    sb.mkdir('old/sub');
    sb.writeFile('old/one', mbox(1));
    sb.writeFile('old/sub/two', mbox(2));
    let r = mu(['-v', 'transfer', 'old/', 'new/']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Copying old/one\n  => new/old/one');
    expect(mu(['check', 'new/old/one']).out).toMatch(/1 total/);
    expect(mu(['check', 'new/old/sub/two']).out).toMatch(/2 total/);
    // Again: the destinations exist now.
    expect(mu(['transfer', 'old/', 'new/']).code).toBe(1);
    r = mu(['-m', 'append', 'transfer', 'old/', 'new/']);
    expect(r.code, r.err).toBe(0);
    expect(mu(['check', 'new/old/sub/two']).out).toMatch(/4 total/);
    r = mu(['-m', 'suffix=.2', 'transfer', 'old/', 'new/']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('retry to create new/old/one.2');
    expect(mu(['check', 'new/old/one.2']).out).toMatch(/1 total/);
  });

  it('copy keeps flags, keywords (with -kw) and internal dates; -ig drops keywords', () => {
    sb = makeSandbox();
    sb.writeFile(
      'src',
      `From a@example.com Mon Jan  2 03:04:05 2023\nSubject: one\nX-IMAPbase: 1700000000 2 Work\nStatus: RO\nX-Status: F\nX-Keywords: Work\nX-UID: 1\n\none\n\n` +
        `From b@example.com Tue Jan  3 03:04:05 2023\nSubject: two\nX-UID: 2\n\ntwo\n\n`,
    );
    expect(mu(['-kw', 'copy', 'src', '#driver.unix/back']).code).toBe(0);
    const back = readFileSync(join(sb.home, 'back'), 'latin1');
    const first = back.slice(back.lastIndexOf('\nFrom ', back.indexOf('Subject: one')) + 1, back.indexOf('Subject: two'));
    // c-client writes the appending user's From line with the source's internal date.
    expect(first).toMatch(/^From \S+@testhost Mon Jan  2 03:04:05 2023 \+0000\n/);
    expect(first).toMatch(/Status: R/);
    expect(first).toMatch(/X-Status: [A-Z]*F/);
    expect(first).toMatch(/X-Keywords:.*Work/);
    expect(mu(['-ig', 'copy', 'src', 'nokw']).code).toBe(0);
    expect(readFileSync(join(sb.home, 'nokw'), 'latin1')).not.toMatch(/X-Keywords:.*Work/);
    expect(mu(['-kw', '-ig', 'copy', 'src', 'x']).code).toBe(1);
  });

  it('repair adds a From line to a mailbox whose first line is broken, losing nothing', () => {
    sb = makeSandbox();
    sb.writeFile('broken', 'Subject: orphan text\n\nsome text\n\n' + mbox(2));
    const r = mu(['repair', 'broken']);
    expect(r.code, r.err).toBe(0);
    const data = readFileSync(join(sb.home, 'broken'), 'latin1');
    expect(data.startsWith('From MAILER-DAEMON ')).toBe(true);
    expect(data).toContain('some text');
    expect(mu(['check', 'broken']).out).toMatch(/3 total in broken/);
  });
});

for (const fmt of ['mbx', 'mix'] as const) {
  describe(`mailutil on ${fmt} mailboxes`, () => {
    it('every verb; copy converts keeping flags, keywords, dates, UIDVALIDITY and UIDs', async () => {
      sb = makeSandbox({ 'new-mailbox-format': fmt });
      sb.writeFile(
        'src',
        `From a@example.com Mon Jan  2 03:04:05 2023\nSubject: one\nX-IMAPbase: 1700000000 9 Work\nStatus: RO\nX-Status: F\nX-Keywords: Work\nX-UID: 4\n\none\n\n` +
          `From b@example.com Tue Jan  3 03:04:05 2023\nSubject: two invoice\nX-UID: 7\n\ntwo\n\n` +
          `From c@example.com Wed Jan  4 03:04:05 2023\nSubject: three\nX-UID: 9\n\nthree\n\n`,
      );
      let r = mu(['-kw', 'copy', 'src', 'box']);
      expect(r.code, r.err).toBe(0);
      const { mbxDriver } = await import('../../src/store/drivers/mbx/index.js');
      const { mixDriver } = await import('../../src/store/drivers/mix/index.js');
      const drv = fmt === 'mbx' ? mbxDriver : mixDriver;
      expect(await drv.detect(join(sb.home, 'box'))).toBe(true);
      const ctx = driverContext(sb.root);
      const mb = await drv.open(join(sb.home, 'box'), 'box', ctx, { readOnly: true });
      expect(mb.uidValidity).toBe(1700000000);
      expect(mb.messages().map((m) => [m.uid, [...m.flags].sort(), m.internalDate.toISOString()])).toEqual([
        [4, ['Work', '\\Flagged', '\\Seen'], '2023-01-02T03:04:05.000Z'],
        [7, [], '2023-01-03T03:04:05.000Z'],
        [9, [], '2023-01-04T03:04:05.000Z'],
      ]);
      expect(mb.uidNext).toBe(10);
      await mb.close();
      expect(mu(['check', 'box']).out).toMatch(/3 total in box/);
      r = mu(['prune', 'box', 'SUBJECT invoice']);
      expect(r.out.trim()).toBe('1 message(s) purged');
      expect(mu(['check', 'box']).out).toMatch(/2 total in box/);
      expect(mu(['move', 'box', 'moved']).code).toBe(0);
      expect(mu(['check', 'box']).out).toMatch(/ 0 total in box/);
      expect(mu(['check', 'moved']).out).toMatch(/2 total in moved/);
      expect(mu(['append', 'src', 'moved']).code).toBe(0);
      expect(mu(['check', 'moved']).out).toMatch(/5 total in moved/);
      expect(mu(['appenddelete', 'moved', 'box']).code).toBe(0);
      expect(mu(['check', 'box']).out).toMatch(/5 total in box/);
      expect(mu(['check', 'moved']).out).toMatch(/ 0 total in moved/);
      expect(mu(['rename', 'box', 'renamed']).code).toBe(0);
      expect(mu(['check', 'renamed']).out).toMatch(/5 total in renamed/);
      expect(mu(['delete', 'renamed']).code).toBe(0);
      expect(existsSync(join(sb.home, 'renamed'))).toBe(false);
      sb.mkdir('tree/sub');
      expect(mu(['copy', 'src', 'tree/a']).code).toBe(0);
      expect(mu(['copy', 'src', 'tree/sub/b']).code).toBe(0);
      expect(mu(['transfer', 'tree/', 'out/']).code).toBe(0);
      expect(mu(['check', 'out/tree/sub/b']).out).toMatch(/3 total/);
      expect(await drv.detect(join(sb.home, 'out/tree/sub/b'))).toBe(true);
    });

    it.skipIf(fmt !== 'mbx')('repair rebuilds a damaged mbx file, losing nothing', () => {
      sb = makeSandbox({ 'new-mailbox-format': fmt });
      sb.writeFile('src', mbox(3));
      expect(mu(['copy', 'src', 'box']).code).toBe(0);
      const p = join(sb.home, 'box');
      const b = readFileSync(p);
      const at = b.indexOf(',', b.indexOf('Subject: message 1'));
      // Break the second record line (its date and size).
      const line = b.lastIndexOf('\n', b.indexOf(';', at)) + 1;
      b.write('garbage garbage garbage', line, 'latin1');
      writeFileSync(p, b);
      expect(mu(['check', 'box']).code).toBe(1);
      const r = mu(['repair', 'box']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^box: repaired: /);
      expect(mu(['check', 'box']).out).toMatch(/3 total in box/);
      for (let i = 1; i <= 3; i++) expect(readFileSync(p, 'latin1')).toContain(`Body of message ${i}.`);
    });
  });
}

describe.skipIf(!HAVE_UW)('mailutil against UW c-client', () => {
  it('UW mailutil reads what ours writes, and ours reads what UW writes, in all three formats', () => {
    sb = makeSandbox();
    sb.writeFile('src', mbox(4));
    for (const fmt of ['unix', 'mbx', 'mix']) {
      expect(mu(['copy', 'src', `#driver.${fmt}/ours-${fmt}`]).code).toBe(0);
      const r = uw(['check', `ours-${fmt}`]);
      expect(r.out + r.err).toMatch(new RegExp(`4 total in ours-${fmt}`));
      expect(r.out + r.err).not.toMatch(/Invalid|Error|Unable|rebuilding/i);
      expect(uw(['copy', 'src', `#driver.${fmt}/uw-${fmt}`]).code).toBe(0);
      expect(mu(['check', `uw-${fmt}`]).out).toMatch(new RegExp(`4 total in uw-${fmt}`));
    }
  });

  it('messages, flags and keywords survive ours (mbx/mix) → UW → unix, and UW (mbx/mix) → ours', async () => {
    sb = makeSandbox();
    // A UW-style traditional mailbox with flags and a keyword.
    let src = '';
    const status = ['Status: RO\nX-Status: F\nX-Keywords: Work\n', 'Status: O\nX-Status: A\nX-Keywords:\n', 'Status: RO\nX-Status: T\nX-Keywords: Work\n', '', 'Status: RO\n'];
    for (let i = 1; i <= 5; i++) {
      const base = i === 1 ? 'X-IMAPbase: 1700000000 5 Work\n' : '';
      src += `From s${i}@example.com Mon Jan  2 03:04:05 2023\nSubject: message ${i}\n${base}${status[i - 1]}X-UID: ${i}\n\nBody of message ${i}.\n\n`;
    }
    sb.writeFile('src', src);
    const { unixDriver } = await import('../../src/store/drivers/unix/index.js');
    const { mbxDriver } = await import('../../src/store/drivers/mbx/index.js');
    const { mixDriver } = await import('../../src/store/drivers/mix/index.js');
    const ctx = driverContext(sb.root);
    const drivers = { unix: unixDriver, mbx: mbxDriver, mix: mixDriver } as const;
    const summary = async (fmt: keyof typeof drivers, name: string) => {
      const mb = await drivers[fmt].open(join(sb.home, name), name, ctx, { readOnly: true });
      const out: string[] = [];
      for (const m of mb.messages()) {
        const text = (await mb.read(m.uid))!.toString('latin1');
        out.push(`${/Subject: (.*)\r\n/.exec(text)![1]} ${[...m.flags].sort().join(',')} ${/\r\n\r\n(.*)\r\n/.exec(text)![1]}`);
      }
      await mb.close();
      return out;
    };
    const uidsOf = async (fmt: keyof typeof drivers, name: string) => {
      const mb = await drivers[fmt].open(join(sb.home, name), name, ctx, { readOnly: true });
      const r = { uidValidity: mb.uidValidity, uids: mb.messages().map((m) => m.uid) };
      await mb.close();
      return r;
    };
    const expected = await summary('unix', 'src');
    expect(expected[0]).toBe('message 1 Work,\\Flagged,\\Seen Body of message 1.');
    for (const fmt of ['mbx', 'mix'] as const) {
      // Ours writes mbx/mix; UW reads it and writes a traditional file; flags and keywords match.
      expect(mu(['copy', '-kw', 'src', `#driver.${fmt}/ours-${fmt}`]).code).toBe(0);
      expect(await summary(fmt, `ours-${fmt}`)).toEqual(expected);
      const c = uw(['copy', '-kw', `ours-${fmt}`, `#driver.unix/back-${fmt}`]);
      expect(c.code, c.out + c.err).toBe(0);
      expect(c.out + c.err).not.toMatch(/Invalid|Error|Unable|rebuilding/i);
      expect(await summary('unix', `back-${fmt}`)).toEqual(expected);
      // UIDs: with -rw UW opens our file read-write, where c-client renumbers any UID it finds invalid
      // ("Invalid UID … rebuilding UIDs"); afterwards ours reads the same UIDVALIDITY and UIDs.
      const before = await uidsOf(fmt, `ours-${fmt}`);
      expect(before.uids).toEqual([1, 2, 3, 4, 5]);
      const rw = uw(['-rw', 'copy', `ours-${fmt}`, `#driver.unix/back-rw-${fmt}`]);
      expect(rw.code, rw.out + rw.err).toBe(0);
      expect(rw.out + rw.err).not.toMatch(/Invalid|rebuilding/i);
      expect(await uidsOf(fmt, `ours-${fmt}`)).toEqual(before);
      // UW writes mbx/mix; ours reads the same messages and flags.
      expect(uw(['copy', '-kw', 'src', `#driver.${fmt}/uw-${fmt}`]).code).toBe(0);
      expect(await summary(fmt, `uw-${fmt}`)).toEqual(expected);
    }
  });
});

void TEST_GID;
