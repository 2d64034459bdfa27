import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeSandbox, spawnDaemon, useFormat, FORMATS, type Format, type Sandbox, type StdioClient } from '../helpers/sandbox.js';

let sb: Sandbox;
const clients: StdioClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
  sb?.cleanup();
});

const MSG = (n: number, extra = '') => `From s${n}@example.com Mon Jan  ${n % 9 + 1} 03:04:05 2023\nDate: Mon, ${n % 9 + 1} Jan 2023 03:04:05 +0000\nFrom: Sender ${n} <s${n}@example.com>\nTo: you@example.com\nSubject: message ${n}${extra}\nMessage-ID: <m${n}@example.com>\n\nBody ${n}.\nFrom here a line.\n\n`;

let fmt: Format = 'unix';
async function start(spoolMessages = 3): Promise<StdioClient> {
  sb = makeSandbox();
  await useFormat(sb, fmt);
  let text = '';
  for (let i = 1; i <= spoolMessages; i++) text += MSG(i, i === 2 ? ' invoice' : '');
  // The spool file of the daemon's user: PREAUTH user name comes from the uid.
  const user = spawnUser();
  sb.writeFile(join(sb.spool, user), text, 0o600);
  const c = spawnDaemon(sb, 'imapd');
  clients.push(c);
  return c;
}
function spawnUser(): string {
  // Same rule as the daemon: the passwd name of the uid.
  const uid = sb.uid;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
  return line ? line.split(':')[0] : `uid${uid}`;
}

for (const f of FORMATS) describe(`imapd over stdio (PREAUTH), INBOX and new mailboxes in ${f} format`, () => {
  beforeEach(() => {
    fmt = f;
  });
  const unixOnly = it.skipIf(f !== 'unix');
  unixOnly('greets with PREAUTH and the post-login capabilities', async () => {
    const c = await start();
    const g = await c.readLine();
    expect(g).toMatch(/^\* PREAUTH \[CAPABILITY IMAP4REV1 I18NLEVEL=1 LITERAL\+ IDLE UIDPLUS NAMESPACE CHILDREN MAILBOX-REFERRALS BINARY UNSELECT ESEARCH WITHIN SCAN SORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT MULTIAPPEND ID ENABLE MOVE\] Pre-authenticated user /);
  });

  it('SELECT, FETCH, STORE, SEARCH, EXPUNGE, UID commands', async () => {
    const c = await start();
    await c.readLine();
    let r = await c.command('a', 'SELECT INBOX');
    expect(r).toContain('* 3 EXISTS');
    expect(r).toContain('* 3 RECENT');
    expect(r.find((l) => l.includes('UIDVALIDITY'))).toMatch(/^\* OK \[UIDVALIDITY \d+\]/);
    expect(r.at(-1)).toBe('a OK [READ-WRITE] SELECT completed');
    r = await c.command('b', 'FETCH 1:2 (UID FLAGS RFC822.SIZE INTERNALDATE)');
    expect(r[0]).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\\Recent\) RFC822.SIZE \d+ INTERNALDATE " 2-Jan-2023 03:04:05 \+0000"\)$/);
    r = await c.command('c', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[TEXT])');
    const text = 'Body 1.\r\nFrom here a line.\r\n';
    expect(r[0]).toBe(`* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: message 1\r\n\r\n BODY[TEXT] {${text.length}}\r\n${text} FLAGS (\\Seen \\Recent))`);
    r = await c.command('d', 'STORE 2 +FLAGS (\\Deleted Custom)');
    expect(r[0]).toBe('* 2 FETCH (FLAGS (\\Deleted Custom \\Recent))');
    // .SILENT: no FETCH back, for UID STORE as for STORE; without it UID STORE's FETCH carries the UID.
    r = await c.command('d2', 'UID STORE 1 +FLAGS.SILENT (\\Flagged)');
    expect(r).toEqual(['d2 OK UID STORE completed']);
    r = await c.command('d3', 'UID STORE 1 -FLAGS (\\Flagged)');
    expect(r[0]).toBe('* 1 FETCH (FLAGS (\\Seen \\Recent) UID 1)');
    r = await c.command('e', 'SEARCH SUBJECT invoice');
    expect(r[0]).toBe('* SEARCH 2');
    r = await c.command('f', 'UID SEARCH RETURN (MIN MAX COUNT) ALL');
    expect(r[0]).toBe('* ESEARCH (TAG "f") UID MIN 1 MAX 3 COUNT 3');
    r = await c.command('g', 'EXPUNGE');
    expect(r).toContain('* 2 EXPUNGE');
    expect(r.at(-1)).toMatch(/^g OK/);
    r = await c.command('h', 'UID FETCH 3 (UID FLAGS)');
    expect(r[0]).toBe('* 2 FETCH (UID 3 FLAGS (\\Recent))');
    // Sequence numbers after the expunge, for sets given out of order and UID sets with gaps.
    r = await c.command('h2', 'FETCH 2,1 (UID)');
    expect(r.slice(0, 2)).toEqual(['* 1 FETCH (UID 1)', '* 2 FETCH (UID 3)']);
    r = await c.command('h3', 'UID FETCH 2:4,1 (UID)');
    expect(r.slice(0, 2)).toEqual(['* 1 FETCH (UID 1)', '* 2 FETCH (UID 3)']);
    r = await c.command('i', 'LOGOUT');
    expect(r[0]).toMatch(/^\* BYE /);
    expect(await c.exited).toBe(0);
    if (f !== 'unix') {
      // The spool's mail moved into the mbx/mix INBOX.
      expect(readFileSync(join(sb.spool, spawnUser()), 'latin1')).not.toContain('message 1');
      return;
    }
    // The spool file keeps UW's format: UIDs, status headers, no message 2.
    const spool = readFileSync(join(sb.spool, spawnUser()), 'latin1');
    expect(spool).toMatch(/^From s1@example.com .*\nX-IMAPbase: \d+ 3\n|^From s1@example.com[^\n]*\n(?:[^\n]+\n)*X-IMAPbase: \d+ 3/);
    expect(spool).not.toContain('message 2');
    expect(spool).toContain('X-UID: 3');
  });

  it('APPEND with literals, LITERAL+, MULTIAPPEND, APPENDUID; TRYCREATE; COPY/MOVE with COPYUID', async () => {
    const c = await start(1);
    await c.readLine();
    let r = await c.command('a', 'CREATE work');
    expect(r.at(-1)).toBe('a OK CREATE completed');
    c.send('b APPEND work (\\Seen) " 2-Jan-2023 03:04:05 +0100" {21}');
    expect(await c.readLine()).toBe('+ Ready for argument');
    c.write('Subject: hi\r\n\r\nbody\r\n\r\n');
    r = await c.readTagged('b');
    expect(r.at(-1)).toMatch(/^b OK \[APPENDUID \d+ 1\] APPEND completed$/);
    const m1 = 'Subject: a\r\n\r\n';
    const m2 = 'Subject: b\r\n\r\nbody\r\n';
    c.write(`c APPEND work {${m1.length}+}\r\n${m1} () {${m2.length}+}\r\n${m2}\r\n`);
    r = await c.readTagged('c');
    expect(r.at(-1)).toMatch(/^c OK \[APPENDUID \d+ 2:3\] APPEND completed$/);
    r = await c.command('d', 'APPEND nowhere {1+}\r\nx');
    expect(r.at(-1)).toMatch(/^d NO \[TRYCREATE\]/);
    r = await c.command('e', 'STATUS work (MESSAGES UIDNEXT UNSEEN)');
    expect(r[0]).toBe('* STATUS work (MESSAGES 3 UIDNEXT 4 UNSEEN 2)');
    await c.command('f', 'SELECT INBOX');
    r = await c.command('g', 'COPY 1 work');
    expect(r.at(-1)).toMatch(/^g OK \[COPYUID \d+ 1 4\] COPY completed$/);
    r = await c.command('h', 'MOVE 1 work');
    expect(r.some((l) => /^\* OK \[COPYUID \d+ 1 5\]/.test(l))).toBe(true);
    expect(r).toContain('* 1 EXPUNGE');
    r = await c.command('i', 'STATUS work (MESSAGES)');
    expect(r[0]).toBe('* STATUS work (MESSAGES 5)');
    // Large messages are copied in several batches (a batch is at most 4 MB or 1,000 messages: here two), all of them whole.
    const big = (n: number) => `Subject: big ${n}\r\n\r\n` + `${String(n).repeat(70)}\r\n`.repeat(35000);
    for (let n = 1; n <= 3; n++) {
      r = await c.command(`j${n}`, `APPEND work {${big(n).length}+}\r\n${big(n)}`);
      expect(r.at(-1)).toMatch(/^j\d OK \[APPENDUID/);
    }
    await c.command('k', 'CREATE copies');
    await c.command('l', 'SELECT work');
    r = await c.command('m', 'COPY 1:* copies');
    expect(r.at(-1)).toMatch(/^m OK \[COPYUID \d+ 1:8 1:8\] COPY completed$/);
    const sizes = async (tag: string) => (await c.command(tag, 'FETCH 1:* (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).filter((l) => l.startsWith('*')).join('\n');
    const before = await sizes('n');
    await c.command('o', 'SELECT copies');
    expect(await sizes('p')).toBe(before);
    expect(before).toContain(`RFC822.SIZE ${big(3).length}`);
  });

  unixOnly('LIST leaves out rewrite journals (made, finished, being removed) and lock files even when dot files are shown', async () => {
    sb = makeSandbox({ 'hide-dot-files': 'no' });
    await useFormat(sb, fmt);
    sb.writeFile(join(sb.spool, spawnUser()), MSG(1, ''), 0o600);
    for (const n of ['box', '.shown', '.box.uwjournal', '.box.uwjournal.tmp', '.box.uwjournal.old', 'box.lock']) sb.writeFile(n, '');
    sb.mkdir('dir');
    sb.writeFile('dir/.inner.uwjournal.old', '');
    const c = spawnDaemon(sb, 'imapd');
    clients.push(c);
    await c.readLine();
    const r = await c.command('a', 'LIST "" "%"');
    const names = r.filter((l) => l.startsWith('* LIST')).map((l) => l.replace(/^.* /, ''));
    expect(names).toEqual(expect.arrayContaining(['INBOX', 'box', '.shown']));
    expect(names.filter((n) => n.includes('uwjournal') || n.endsWith('.lock'))).toEqual([]);
    // A directory holding only a journal has no children to show.
    expect(r).toContain('* LIST (\\NoSelect \\HasNoChildren) "/" dir');
  });

  unixOnly('LIST, LSUB, SUBSCRIBE, RENAME, DELETE, NAMESPACE follow UW', async () => {
    const c = await start(1);
    await c.readLine();
    await c.command('a', 'CREATE dir/box');
    let r = await c.command('b', 'LIST "" "*"');
    expect(r).toContain('* LIST (\\NoInferiors) NIL INBOX');
    expect(r).toContain('* LIST (\\NoSelect \\HasChildren) "/" dir');
    expect(r.some((l) => /^\* LIST \(\\NoInferiors \\(Un)?Marked\) "\/" dir\/box$/i.test(l))).toBe(true);
    r = await c.command('c', 'LIST "" "%"');
    expect(r).not.toContain('* LIST (\\NoInferiors \\UnMarked) "/" dir/box');
    r = await c.command('d', 'SUBSCRIBE dir/box');
    expect(r.at(-1)).toBe('d OK SUBSCRIBE completed');
    r = await c.command('d2', 'SUBSCRIBE dir/box');
    expect(r.at(-1)).toBe('d2 NO [ALREADYEXISTS] Already subscribed to mailbox dir/box');
    r = await c.command('e', 'LSUB "" "*"');
    expect(r).toContain('* LSUB () "/" dir/box');
    expect(readFileSync(join(sb.home, '.mailboxlist'), 'latin1')).toBe('dir/box\n');
    r = await c.command('f', 'RENAME dir/box dir/other');
    expect(r.at(-1)).toBe('f OK RENAME completed');
    r = await c.command('g', 'DELETE dir');
    expect(r.at(-1)).toMatch(/^g NO .*Directory not empty/);
    r = await c.command('h', 'DELETE INBOX');
    expect(r.at(-1)).toMatch(/^h NO .*Can't delete INBOX/);
    r = await c.command('i', 'CREATE INBOX');
    expect(r.at(-1)).toMatch(/^i NO .*Can't create INBOX/);
    r = await c.command('j', 'NAMESPACE');
    expect(r[0]).toBe('* NAMESPACE (("" "/")) (("~" "/")) NIL');
    r = await c.command('k', 'CREATE bad&name');
    expect(r.at(-1)).toMatch(/^k NO .*unterminated modified UTF-7 name/);
    expect(existsSync(join(sb.home, 'dir/other'))).toBe(true);
  });

  unixOnly('answers bad input with BAD and goes on', async () => {
    const c = await start(1);
    await c.readLine();
    let r = await c.command('a', 'FROB');
    expect(r[0]).toBe('a BAD Command unrecognized: FROB');
    r = await c.command('b', 'FETCH 1 (FLAGS)');
    expect(r[0]).toBe('b BAD Command unrecognized: FETCH');
    c.send('(bad');
    expect(await c.readLine()).toMatch(/^\* BAD/);
    r = await c.command('c', 'CAPABILITY extra');
    expect(r[0]).toBe('c BAD Argument given to CAPABILITY when none expected');
    await c.command('d', 'SELECT INBOX');
    r = await c.command('e', 'FETCH 99 FLAGS');
    expect(r[0]).toMatch(/^e BAD/);
    r = await c.command('f', 'FETCH 1 (BODY[0.TEXT])');
    expect(r.at(-1)).toBe('f BAD Invalid body section: 0.TEXT');
    c.send(`g NOOP ${'x'.repeat(70000)}`);
    expect(await c.readLine()).toBe('g BAD Command line too long');
    r = await c.command('h', 'NOOP');
    expect(r.at(-1)).toBe('h OK NOOP completed');
    c.send('i LOGIN {99999999}');
    r = await c.readTagged('i');
    expect(r.join('\n')).toMatch(/Absurdly long client literal/);
  });

  it('two sessions on one mailbox see each other\'s appends, flags and expunges', async () => {
    const a = await start(2);
    await a.readLine();
    const b = spawnDaemon(sb, 'imapd');
    clients.push(b);
    await b.readLine();
    await a.command('a1', 'SELECT INBOX');
    const rb = await b.command('b1', 'SELECT INBOX');
    expect(rb).toContain('* 2 EXISTS');
    expect(rb.at(-1)).toBe('b1 OK [READ-WRITE] SELECT completed');
    await a.command('a2', 'STORE 1 +FLAGS (\\Flagged)');
    let r = await b.command('b2', 'NOOP');
    expect(r).toContain('* 1 FETCH (FLAGS (\\Flagged) UID 1)');
    await a.command('a3', 'APPEND INBOX {15+}\r\nSubject: new\r\n\r\n');
    r = await b.command('b3', 'NOOP');
    expect(r).toContain('* 3 EXISTS');
    await a.command('a4', 'STORE 2 +FLAGS (\\Deleted)');
    await a.command('a5', 'EXPUNGE');
    // Not during FETCH …
    r = await b.command('b4', 'FETCH 1:* (UID)');
    expect(r.some((l) => l.includes('EXPUNGE'))).toBe(false);
    // … but at NOOP.
    r = await b.command('b5', 'NOOP');
    expect(r).toContain('* 2 EXPUNGE');
    r = await b.command('b6', 'FETCH 1:* (UID)');
    expect(r.slice(0, 2)).toEqual(['* 1 FETCH (UID 1)', '* 2 FETCH (UID 3)']);
  });

  it('IDLE reports new mail from another session at once', async () => {
    const a = await start(1);
    await a.readLine();
    await a.command('a', 'SELECT INBOX');
    a.send('b IDLE');
    expect(await a.readLine()).toBe('+ Waiting for DONE');
    const other = spawnDaemon(sb, 'imapd');
    clients.push(other);
    await other.readLine();
    await other.command('x', 'APPEND INBOX {15+}\r\nSubject: new\r\n\r\n');
    expect(await a.readLine(15_000)).toBe('* 2 EXISTS');
    a.send('DONE');
    const r = await a.readTagged('b');
    expect(r.at(-1)).toBe('b OK IDLE completed');
  });
});

describe('mailbox formats in names and LIST (UW #driver. prefixes, dual-use mix directories)', () => {
  it('CREATE #driver.mbx/ and #driver.mix/, detection on open, LIST attributes, DELETE and RENAME', async () => {
    fmt = 'unix';
    const c = await start(1);
    await c.readLine();
    let r = await c.command('a', 'CREATE #driver.mbx/fast');
    expect(r.at(-1)).toBe('a OK CREATE completed');
    expect(readFileSync(join(sb.home, 'fast')).subarray(0, 7).toString()).toBe('*mbx*\r\n');
    r = await c.command('b', 'CREATE #driver.mix/shared');
    expect(r.at(-1)).toBe('b OK CREATE completed');
    expect(existsSync(join(sb.home, 'shared', '.mixmeta'))).toBe(true);
    // A mix mailbox may hold child mailboxes (here a traditional one).
    r = await c.command('c', 'CREATE shared/child');
    expect(r.at(-1)).toBe('c OK CREATE completed');
    r = await c.command('d', 'CREATE #driver.mix/shared/.mixfoo');
    expect(r.at(-1)).toMatch(/^d NO .*invalid MIX-format name/);
    r = await c.command('e', 'LIST "" "*"');
    expect(r).toContain('* LIST (\\HasChildren) "/" shared');
    expect(r.some((l) => /^\* LIST \(\\NoInferiors \\(Un)?Marked\) "\/" shared\/child$/.test(l))).toBe(true);
    expect(r.some((l) => /^\* LIST \(\\NoInferiors \\(Un)?Marked\) "\/" fast$/.test(l))).toBe(true);
    expect(r.some((l) => l.includes('.mix'))).toBe(false);
    // Each format is found by looking at it; APPEND and SELECT work on both.
    for (const box of ['fast', 'shared']) {
      r = await c.command('f', `APPEND ${box} (\\Flagged) {18+}\r\nSubject: in ${box}\r\n\r\n`);
      expect(r.at(-1)).toMatch(/^f OK \[APPENDUID \d+ 1\]/);
      r = await c.command('g', `SELECT ${box}`);
      expect(r).toContain('* 1 EXISTS');
      expect(r).toContain('* 1 RECENT');
      r = await c.command('h', 'FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      expect(r[0]).toContain(`* 1 FETCH (FLAGS (\\Flagged \\Recent) BODY[HEADER.FIELDS (SUBJECT)] {${`Subject: in ${box}\r\n\r\n`.length}}\r\nSubject: in ${box}\r\n`);
      await c.command('i', 'CLOSE');
      r = await c.command('j', `STATUS ${box} (MESSAGES RECENT UIDNEXT UNSEEN)`);
      expect(r[0]).toBe(`* STATUS ${box} (MESSAGES 1 RECENT 0 UIDNEXT 2 UNSEEN 1)`);
    }
    r = await c.command('k', 'RENAME fast quick');
    expect(r.at(-1)).toBe('k OK RENAME completed');
    r = await c.command('l', 'STATUS quick (MESSAGES)');
    expect(r[0]).toBe('* STATUS quick (MESSAGES 1)');
    // Deleting a mix mailbox with children leaves the children (as a \NoSelect directory).
    r = await c.command('m', 'DELETE shared');
    expect(r.at(-1)).toBe('m OK DELETE completed');
    r = await c.command('n', 'LIST "" "shared*"');
    expect(r).toContain('* LIST (\\NoSelect \\HasChildren) "/" shared');
    // #driver.mix/INBOX makes a mix INBOX in the home directory, listed with its delimiter.
    r = await c.command('o', 'CREATE #driver.mix/INBOX');
    expect(r.at(-1)).toBe('o OK CREATE completed');
    r = await c.command('p', 'LIST "" INBOX');
    expect(r[0]).toBe('* LIST () "/" INBOX');
    r = await c.command('q', 'SELECT INBOX');
    expect(r).toContain('* 1 EXISTS'); // the spool's message moved in
  });
});

describe('shared namespaces (#public/, #shared/, #ftp/)', () => {
  it('NAMESPACE lists them; CREATE uses the namespace\'s protection and format; LIST, APPEND, SELECT; no escape', async () => {
    fmt = 'unix';
    sb = makeSandbox();
    const { mkdirSync, chmodSync, statSync } = await import('node:fs');
    const pub = join(sb.root, 'public');
    mkdirSync(pub);
    chmodSync(pub, 0o1777);
    sb.setConfig({ 'public-directory': pub, 'public-mailbox-format': 'mix', 'shared-directory': 'none', 'ftp-directory': 'none' });
    const c = spawnDaemon(sb, 'imapd');
    clients.push(c);
    await c.readLine();
    let r = await c.command('a', 'NAMESPACE');
    expect(r[0]).toBe('* NAMESPACE (("" "/")) (("~" "/")) (("#public/" "/"))');
    r = await c.command('b', 'CREATE #public/notes');
    expect(r.at(-1)).toBe('b OK CREATE completed');
    expect(statSync(join(pub, 'notes')).mode & 0o777).toBe(0o777);
    expect(statSync(join(pub, 'notes', '.mixmeta')).mode & 0o777).toBe(0o666);
    r = await c.command('c', 'CREATE #driver.unix/#public/flat');
    expect(r.at(-1)).toBe('c OK CREATE completed');
    expect(statSync(join(pub, 'flat')).mode & 0o777).toBe(0o666);
    r = await c.command('d', 'APPEND #public/notes {21+}\r\nSubject: shared\r\n\r\nhi');
    expect(r.at(-1)).toMatch(/^d OK \[APPENDUID \d+ 1\]/);
    r = await c.command('e', 'LIST "" "#public/%"');
    expect(r).toContain('* LIST (\\HasNoChildren) "/" #public/notes');
    expect(r.some((l) => /^\* LIST \(\\NoInferiors \\(Un)?Marked\) "\/" #public\/flat$/.test(l))).toBe(true);
    r = await c.command('f', 'LIST "#public/" "%"');
    expect(r).toContain('* LIST (\\HasNoChildren) "/" #public/notes');
    r = await c.command('g', 'LIST "#public/" ""');
    expect(r[0]).toBe('* LIST (\\Noselect) "/" #public/');
    r = await c.command('h', 'LIST "" "*"');
    expect(r.some((l) => l.includes('#public'))).toBe(false); // namespaces are listed only when asked for
    r = await c.command('i', 'SELECT #PUBLIC/notes');
    expect(r).toContain('* 1 EXISTS');
    r = await c.command('j', 'CREATE #public/../escape');
    expect(r.at(-1)).toMatch(/^j NO .*Invalid mailbox name/);
    r = await c.command('k', 'SELECT #shared/x');
    expect(r.at(-1)).toMatch(/^k NO .*No such namespace/);
  });
});

describe('alerts and referrals', () => {
  it('[ALERT] from the alert file and ~/.imapalert, once per change; LOGIN-REFERRALS and MAILBOX-REFERRALS', async () => {
    fmt = 'unix';
    sb = makeSandbox();
    const { withVirtualUsers } = await import('../helpers/servers.js');
    const { writeFileSync, mkdirSync, chownSync, utimesSync } = await import('node:fs');
    const { IS_ROOT, TEST_UID, TEST_GID } = await import('../helpers/sandbox.js');
    withVirtualUsers(sb, { dave: 'pw', moved: 'pw' }, { plaintext: 'always' });
    const alert = join(sb.root, 'imapd.alert');
    writeFileSync(alert, 'Maintenance tonight at 22:00\n');
    const lr = join(sb.root, 'login-referrals');
    writeFileSync(lr, '# moved users\nmoved imap://moved@mail2.example.com/\n');
    const mr = join(sb.root, 'mailbox-referrals');
    writeFileSync(mr, 'archive/ imap://archive.example.com/archive/\n');
    sb.setConfig({ 'alert-file': alert, 'login-referrals': lr, 'mailbox-referrals': mr });
    const root = join(sb.root, 'vmail', 'dave');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, '.imapalert'), 'Your quota is almost full\n');
    if (IS_ROOT) for (const p of [root, join(root, '.imapalert')]) chownSync(p, TEST_UID, TEST_GID);
    const c = spawnDaemon(sb, 'imapd');
    clients.push(c);
    expect(await c.readLine()).toMatch(/^\* OK \[CAPABILITY /);
    expect(await c.readLine()).toBe('* OK [ALERT] Maintenance tonight at 22:00');
    let r = await c.command('a', 'LOGIN moved pw');
    expect(r.at(-1)).toBe('a NO [REFERRAL imap://moved@mail2.example.com/] Remote server');
    r = await c.command('b', 'LOGIN dave pw');
    expect(r.at(-1)).toMatch(/^b OK/);
    expect(r).toContain('* OK [ALERT] Your quota is almost full');
    expect(r).not.toContain('* OK [ALERT] Maintenance tonight at 22:00'); // already shown
    r = await c.command('c', 'NOOP');
    expect(r.some((l) => l.includes('[ALERT]'))).toBe(false);
    writeFileSync(alert, 'Maintenance moved to 23:00\n');
    const later = Date.now() / 1000 + 5;
    utimesSync(alert, later, later);
    r = await c.command('d', 'NOOP');
    expect(r).toContain('* OK [ALERT] Maintenance moved to 23:00');
    r = await c.command('e', 'SELECT archive/2019 mail');
    expect(r.at(-1)).toMatch(/^e BAD/);
    r = await c.command('f', 'SELECT "archive/2019 mail"');
    expect(r.at(-1)).toBe('f NO [REFERRAL imap://archive.example.com/archive/2019%20mail] Remote mailbox');
    r = await c.command('g', 'STATUS archive/x (MESSAGES)');
    expect(r.at(-1)).toBe('g NO [REFERRAL imap://archive.example.com/archive/x] Remote mailbox');
    r = await c.command('h', 'SELECT INBOX');
    expect(r.at(-1)).toMatch(/^h OK/);
  });
});

describe('imapd extensions, one by one (raw protocol)', () => {
  it('EXAMINE, UNSELECT, BINARY, SORT, THREAD, SCAN, ID, ENABLE, WITHIN, UID EXPUNGE, UID MOVE, UNSUBSCRIBE, BADCHARSET, RENAME INBOX, STATUS', async () => {
    fmt = 'unix';
    sb = makeSandbox();
    const user = spawnUser();
    const mime = (n: number, subj: string, date: string, refs = '') =>
      `From s${n}@example.com Mon Jan  2 03:04:05 2023\nDate: ${date}\nFrom: S${n} <s${n}@example.com>\nSubject: ${subj}\nMessage-ID: <t${n}@example.com>\n${refs}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=xx\n\n--xx\nContent-Type: text/plain\n\nhello ${n}\n--xx\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAw==\n--xx--\n\n`;
    sb.writeFile(
      join(sb.spool, user),
      mime(1, 'banana', 'Mon, 2 Jan 2023 03:00:00 +0000') + mime(2, 'Re: banana', 'Tue, 3 Jan 2023 03:00:00 +0000', 'In-Reply-To: <t1@example.com>\nReferences: <t1@example.com>\n') + mime(3, 'apple', 'Wed, 4 Jan 2023 03:00:00 +0000'),
      0o600,
    );
    const c = spawnDaemon(sb, 'imapd');
    clients.push(c);
    await c.readLine();
    let r = await c.command('a', 'EXAMINE INBOX');
    expect(r.at(-1)).toBe('a OK [READ-ONLY] EXAMINE completed');
    r = await c.command('b', 'STORE 1 +FLAGS (\\Seen)');
    expect(r.at(-1)).toMatch(/^b NO/);
    r = await c.command('c', 'UNSELECT');
    expect(r.at(-1)).toBe('c OK UNSELECT completed');
    r = await c.command('c2', 'FETCH 1 FLAGS');
    expect(r.at(-1)).toMatch(/^c2 BAD/); // no mailbox any more
    await c.command('d', 'SELECT INBOX');
    r = await c.command('e', 'FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])');
    expect(r[0]).toBe('* 1 FETCH (BINARY.SIZE[2] 4 BINARY[2] ~{4}\r\n\u0000\u0001\u0002\u0003)');
    r = await c.command('f', 'SORT (SUBJECT REVERSE DATE) UTF-8 ALL');
    expect(r[0]).toBe('* SORT 3 2 1');
    r = await c.command('g', 'THREAD REFERENCES UTF-8 ALL');
    expect(r[0]).toBe('* THREAD (1 2)(3)');
    r = await c.command('h', 'THREAD ORDEREDSUBJECT UTF-8 ALL');
    expect(r[0]).toBe('* THREAD (1 2)(3)'); // threads in order of their first message's date
    r = await c.command('i', 'SEARCH CHARSET X-UNKNOWN SUBJECT x');
    expect(r.at(-1)).toMatch(/^i NO \[BADCHARSET/);
    r = await c.command('j', 'SEARCH YOUNGER 999999999');
    expect(r[0]).toBe('* SEARCH 1 2 3');
    r = await c.command('k', 'SEARCH OLDER 999999999');
    expect(r[0]).toBe('* SEARCH');
    r = await c.command('l', 'ID ("name" "test")');
    expect(r[0]).toMatch(/^\* ID \(.*"name" /);
    r = await c.command('m', 'ENABLE CONDSTORE');
    expect(r.at(-1)).toMatch(/^m OK/);
    await c.command('n', 'CREATE other');
    r = await c.command('o', 'SCAN "" "*" "hello 2"');
    expect(r.filter((l) => l.startsWith('* LIST'))).toEqual(['* LIST (\\NoInferiors) NIL INBOX']);
    r = await c.command('p', 'UID MOVE 3 other');
    expect(r.some((l) => /^\* OK \[COPYUID \d+ 3 1\]/.test(l))).toBe(true);
    expect(r).toContain('* 3 EXPUNGE');
    await c.command('q', 'STORE 1:2 +FLAGS.SILENT (\\Deleted)');
    r = await c.command('r', 'UID EXPUNGE 2');
    expect(r).toContain('* 2 EXPUNGE');
    expect(r.some((l) => l === '* 1 EXPUNGE')).toBe(false);
    await c.command('s', 'SUBSCRIBE other');
    r = await c.command('t', 'UNSUBSCRIBE other');
    expect(r.at(-1)).toBe('t OK UNSUBSCRIBE completed');
    r = await c.command('u', 'LSUB "" "*"');
    expect(r.filter((l) => l.startsWith('* LSUB'))).toEqual([]);
    await c.command('v0', 'STORE 1 -FLAGS.SILENT (\\Deleted)');
    await c.command('v', 'CLOSE');
    r = await c.command('w', 'STATUS other (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)');
    expect(r[0]).toMatch(/^\* STATUS other \(MESSAGES 1 RECENT 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
    r = await c.command('x', 'RENAME INBOX saved');
    expect(r.at(-1)).toBe('x OK RENAME completed');
    r = await c.command('y', 'STATUS saved (MESSAGES)');
    expect(r[0]).toBe('* STATUS saved (MESSAGES 1)');
    r = await c.command('z', 'STATUS INBOX (MESSAGES)');
    expect(r[0]).toBe('* STATUS INBOX (MESSAGES 0)');
  });
});

describe('a client that never leaves IDLE', () => {
  it('keeps getting new mail, and is logged out after imap-idle-timeout with UW\'s BYE', async () => {
    fmt = 'unix';
    sb = makeSandbox({ 'imap-idle-timeout': '60', 'idle-poll-interval': '1' });
    const c = spawnDaemon(sb, 'imapd');
    clients.push(c);
    await c.readLine();
    await c.command('a', 'SELECT INBOX');
    const t0 = Date.now();
    c.send('b IDLE');
    expect(await c.readLine()).toBe('+ Waiting for DONE');
    const other = spawnDaemon(sb, 'imapd');
    clients.push(other);
    await other.readLine();
    await other.command('x', 'APPEND INBOX {15+}\r\nSubject: new\r\n\r\n');
    expect(await c.readLine(10_000)).toBe('* 1 EXISTS');
    let line = await c.readLine(90_000);
    while (line.startsWith('* ') && !line.startsWith('* BYE')) line = await c.readLine(90_000);
    expect(line).toBe('* BYE Autologout (idle for too long)');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(59_000);
    expect(await c.exited).not.toBeNull();
    expect(sb.log()).toMatch(/Autologout user=/);
  }, 120_000);
});
