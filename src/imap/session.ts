/**
 * The imapd session: state machine, command dispatch, timers, and the one
 * place where mailbox changes become untagged responses (sync).
 */
import { userRoot } from '../store/user-dirs.js';
import { mailboxReferral } from './referrals.js';
import { join } from 'node:path';
import type { Connection } from '../runtime/connection.js';
import type { ServerContext, TerminateReason } from '../runtime/daemon.js';
import type { Identity, AuthContext } from '../auth/types.js';
import type { Mailbox, MessageInfo, Store } from '../store/types.js';
import { StoreError } from '../store/types.js';
import { CommandReader, tokenize, ParseError, type Token } from './parser.js';
import { COMMANDS } from './commands/index.js';
import { flagList } from './encoder.js';
import { parseSequenceSet } from '../mail/index.js';
import { readFileSync, statSync } from 'node:fs';
import { MemoryRelief } from '../runtime/memory.js';

export type State = 'notauth' | 'auth' | 'selected' | 'logout';

export class CommandError extends Error {
  constructor(
    readonly kind: 'NO' | 'BAD',
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}
export const bad = (text: string) => new CommandError('BAD', text);
export const no = (text: string, code?: string) => new CommandError('NO', text, code);

const VERSION = '0.1.0';

const NON_ASCII = /[^\x00-\x7f]/;

export class ImapSession {
  state: State = 'notauth';
  identity?: Identity;
  store?: Store;
  mailbox?: Mailbox;
  /** The UIDs this session knows, in sequence order (ascending). */
  view: Uint32Array = new Uint32Array(0);
  /** Recent count last reported. */
  reportedRecent = 0;
  /** Flags last reported for the selected mailbox (FLAGS response). */
  reportedKeywords = '';
  readonly reader: CommandReader;
  private outQueue: Buffer[] = [];
  private outLen = 0;
  /** Response text already in octets (latin1), gathered into one Buffer per 64 KB (sendOctets). */
  private pendingText = '';
  private busy = false;
  /** Gives memory back while the client is quiet (runtime/memory.ts). */
  private readonly relief = new MemoryRelief();
  private lineWaiter: ((l: Buffer | undefined) => void) | undefined;
  private done!: () => void;
  private timer: NodeJS.Timeout | undefined;
  private loginDeadline = 0;
  loginFailures = 0;
  private alertMtime = 0;
  private userAlertMtime = 0;
  private closing = false;
  idling = false;
  private logoutReason = 'Logout';
  private eof = false;

  private loggingOut = false;
  private endOfInput(): void {
    if (this.state === 'logout' || this.closing || this.loggingOut) return;
    this.ctx.log.info(`Unexpected client disconnect, while reading line user=${this.userLog} host=${this.hostLog}`);
    this.finish();
  }

  constructor(
    readonly conn: Connection,
    readonly ctx: ServerContext,
  ) {
    const cfg = ctx.config;
    this.reader = new CommandReader({
      maxLine: cfg.int('max-line-length'),
      maxLiteral: cfg.int('max-literal-size'),
      maxAppendLiteral: cfg.int('max-append-size'),
      maxLiterals: 20,
    });
  }

  get hostLog(): string {
    return this.conn.remoteAddress ? `[${this.conn.remoteAddress}]` : 'UNKNOWN';
  }
  get userLog(): string {
    return this.identity?.user ?? '???';
  }
  authContext(): AuthContext {
    return { service: 'imap', remoteAddress: this.conn.remoteAddress, tls: this.conn.isTls, local: this.conn.isLocal };
  }

  // --------------------------------------------------------------- output

  /** Queue output; flushed at the end of each command or when large. */
  async send(data: string | Buffer): Promise<void> {
    this.movePendingText();
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.outQueue.push(b);
    this.outLen += b.length;
    if (this.outLen >= 65536) await this.flush();
  }
  /**
   * Queue text whose characters are octets (built by encoder.ts): consecutive
   * pieces become one Buffer, not one each (FETCH of 50,000 short lines). A
   * promise only when the output had to be flushed (await it then): a FETCH
   * of 50,000 messages would otherwise await 50,000 times for nothing.
   */
  sendOctets(text: string): Promise<void> | undefined {
    this.pendingText += text;
    if (this.pendingText.length >= 65536) {
      this.movePendingText();
      if (this.outLen >= 65536) return this.flush();
    }
    return undefined;
  }
  private movePendingText(): void {
    if (!this.pendingText) return;
    const b = Buffer.from(this.pendingText, 'latin1');
    this.pendingText = '';
    this.outQueue.push(b);
    this.outLen += b.length;
  }
  async flush(): Promise<void> {
    this.movePendingText();
    if (!this.outQueue.length) return;
    const b = this.outQueue.length === 1 ? this.outQueue[0] : Buffer.concat(this.outQueue);
    this.outQueue = [];
    this.outLen = 0;
    await this.conn.write(b);
  }
  untagged(text: string | Buffer): Promise<void> | undefined {
    if (typeof text !== 'string') return this.send(Buffer.concat([Buffer.from('* '), text, Buffer.from('\r\n')]));
    // ASCII (most untagged lines: EXPUNGE, FETCH FLAGS, EXISTS) is gathered; anything else goes as UTF-8.
    return NON_ASCII.test(text) ? this.send(`* ${text}\r\n`) : this.sendOctets(`* ${text}\r\n`);
  }

  // ---------------------------------------------------------- capabilities

  preAuthCapabilities(): string[] {
    const caps = ['SASL-IR', 'LOGIN-REFERRALS'];
    if (!this.conn.isTls) caps.push('STARTTLS');
    let auth;
    try {
      auth = this.ctx.auth();
    } catch {
      auth = undefined;
    }
    const actx = this.authContext();
    if (auth && !auth.plaintextAllowed(actx)) caps.push('LOGINDISABLED');
    if (auth) for (const m of auth.mechanisms(actx)) caps.push(`AUTH=${m}`);
    return caps;
  }
  postAuthCapabilities(): string[] {
    const caps = ['IDLE', 'UIDPLUS', 'NAMESPACE', 'CHILDREN', 'MAILBOX-REFERRALS', 'BINARY', 'UNSELECT', 'ESEARCH', 'WITHIN', 'SCAN', 'SORT', 'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT'];
    if (!this.identity?.anonymous) caps.push('MULTIAPPEND');
    caps.push('ID', 'ENABLE', 'MOVE');
    return caps;
  }
  capabilities(which: 'greeting' | 'command' | 'login'): string {
    const base = ['IMAP4REV1', 'I18NLEVEL=1', 'LITERAL+'];
    if (which === 'greeting') return [...base, ...this.preAuthCapabilities()].join(' ');
    if (which === 'login') return [...base, ...this.postAuthCapabilities()].join(' ');
    return [...base, ...(this.state === 'notauth' ? this.preAuthCapabilities() : []), ...(this.state !== 'notauth' ? this.postAuthCapabilities() : [])].join(' ');
  }

  // ------------------------------------------------------------- running

  async run(): Promise<void> {
    const finished = new Promise<void>((res) => (this.done = res));
    this.conn.onEnd(() => {
      this.eof = true;
      // Commands the client sent before closing its side are still answered.
      if (!this.busy) this.endOfInput();
    });
    this.ctx.onTerminate((r: TerminateReason) => void this.terminate(r));
    if (this.ctx.preauth) {
      await this.enterUser(this.ctx.preauth);
      this.ctx.log.info(`Preauthenticated user=${this.userLog} host=${this.hostLog}`);
      await this.send(`* PREAUTH [CAPABILITY ${this.capabilities('login')}] Pre-authenticated user ${this.userLog} ${this.ctx.hostname} IMAP4rev1 server ready\r\n`);
    } else {
      try {
        statSync(this.ctx.config.str('nologin-file'));
        await this.send(`* BYE Service not available ${this.ctx.hostname}\r\n`);
        await this.flush();
        this.finish();
        return finished;
      } catch {
        /* no /etc/nologin */
      }
      this.loginDeadline = Date.now() + this.ctx.config.int('login-timeout') * 1000;
      await this.send(`* OK [CAPABILITY ${this.capabilities('greeting')}] ${this.ctx.hostname} IMAP4rev1 server ready\r\n`);
    }
    await this.showAlerts();
    await this.flush();
    this.armTimer();
    this.conn.onData((chunk) => {
      this.reader.push(chunk);
      void this.pump();
    });
    return finished;
  }

  private finish(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    const mb = this.mailbox;
    this.mailbox = undefined;
    void (async () => {
      try {
        await mb?.close();
      } catch {
        /* nothing more to do */
      }
      this.state = 'logout';
      this.done();
    })();
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    const cfg = this.ctx.config;
    const ms = this.state === 'notauth' ? Math.max(1000, Math.min(cfg.int('login-timeout') * 1000, this.loginDeadline - Date.now())) : cfg.int('imap-idle-timeout') * 1000;
    this.timer = setTimeout(() => void this.autologout(), ms);
    this.timer.unref?.();
  }

  private async autologout(): Promise<void> {
    if (this.state === 'logout') return;
    const text = this.state === 'notauth' ? 'Autologout' : 'Autologout (idle for too long)';
    this.ctx.log.info(`Autologout user=${this.userLog} host=${this.hostLog}`);
    await this.send(`* BYE ${text}\r\n`).catch(() => undefined);
    await this.flush().catch(() => undefined);
    this.finish();
  }

  private async terminate(r: TerminateReason): Promise<void> {
    if (r === 'terminated') {
      this.ctx.log.info(`Killed (terminated) user=${this.userLog} host=${this.hostLog}`);
      await this.send('* BYE Killed (terminated)\r\n').catch(() => undefined);
      await this.flush().catch(() => undefined);
    } else this.ctx.log.info(`Hangup user=${this.userLog} host=${this.hostLog}`);
    this.finish();
  }

  /** Lost mailbox (kiss of death): say so and end, as UW does. */
  async lost(reason: string): Promise<void> {
    this.ctx.log.info(`${reason} user=${this.userLog} host=${this.hostLog}`);
    await this.send(`* BYE ${reason}\r\n`).catch(() => undefined);
    await this.flush().catch(() => undefined);
    process.exitCode = 1;
    this.finish();
  }

  /** Next raw line from the client (AUTHENTICATE continuations, IDLE's DONE). */
  readLine(): Promise<Buffer | undefined> {
    const l = this.reader.takeLine();
    if (l) return Promise.resolve(l);
    return new Promise((res) => {
      this.lineWaiter = res;
      this.conn.onEnd(() => res(undefined));
    });
  }

  private async pump(): Promise<void> {
    if (this.lineWaiter) {
      const l = this.reader.takeLine();
      if (l) {
        const w = this.lineWaiter;
        this.lineWaiter = undefined;
        w(l);
      }
      return;
    }
    if (this.busy || this.closing) return;
    this.busy = true;
    this.relief.busy();
    try {
      for (;;) {
        if (this.closing) break;
        const ev = this.reader.next();
        if (!ev) break;
        if (ev.kind === 'continue') {
          await this.send('+ Ready for argument\r\n');
          await this.flush();
          continue;
        }
        if (ev.kind === 'error') {
          if (ev.untagged) await this.send(`* NO ${ev.text}\r\n`);
          await this.send(`${ev.tag} BAD ${ev.text}\r\n`);
          if (this.state === 'notauth') this.ctx.log.info(`Line too long before authentication host=${this.hostLog}`);
          await this.flush();
          continue;
        }
        await this.execute(ev.line, ev.literals);
        await this.flush();
        this.armTimer();
        if (this.state === 'notauth' && Date.now() > this.loginDeadline) {
          await this.autologout();
          break;
        }
      }
    } catch (e) {
      this.ctx.log.error(`Session error user=${this.userLog} host=${this.hostLog}: ${(e as Error).stack ?? e}`);
      await this.send(`* BYE Internal error: ${(e as Error).message}\r\n`).catch(() => undefined);
      await this.flush().catch(() => undefined);
      this.finish();
    } finally {
      this.busy = false;
    }
    if (this.lineWaiter && this.reader.pendingBytes) void this.pump();
    else if (this.eof) this.endOfInput();
    else if (!this.closing) this.relief.idle();
  }

  private async execute(line: Buffer, literals: Buffer[]): Promise<void> {
    let tokens: Token[];
    const sp = line.indexOf(0x20);
    const tagText = (sp < 0 ? line : line.subarray(0, sp)).toString('latin1');
    if (!tagText || !/^[\x21-\x7e]+$/.test(tagText) || /[(){%*"\\+]/.test(tagText)) {
      await this.send(`* BAD Missing or invalid tag\r\n`);
      return;
    }
    if (tagText.length > 50) {
      await this.send(`* BAD Excessively long tag\r\n`);
      return;
    }
    try {
      tokens = tokenize(line.subarray(sp < 0 ? line.length : sp + 1), literals);
    } catch (e) {
      await this.send(`${tagText} BAD ${e instanceof ParseError ? e.message : 'Syntax error'}\r\n`);
      return;
    }
    const first = tokens.shift();
    if (!first || first.type !== 'atom') {
      await this.send(`${tagText} BAD Missing command\r\n`);
      return;
    }
    let name = first.value.toUpperCase();
    let uid = false;
    if (name === 'UID') {
      const sub = tokens.shift();
      if (!sub || sub.type !== 'atom') {
        await this.send(`${tagText} BAD Missing or invalid argument to UID\r\n`);
        return;
      }
      name = sub.value.toUpperCase();
      uid = true;
      if (!['FETCH', 'STORE', 'COPY', 'MOVE', 'SEARCH', 'EXPUNGE', 'SORT', 'THREAD'].includes(name)) {
        await this.send(`${tagText} BAD Command unrecognized: UID ${name}\r\n`);
        return;
      }
    }
    const cmd = COMMANDS[name];
    if (!cmd || !cmd.states.includes(this.state)) {
      await this.send(`${tagText} BAD Command unrecognized: ${uid ? 'UID ' : ''}${name}\r\n`);
      return;
    }
    // New alerts go out with the command's other untagged data (right after LOGIN, too), once per command.
    let alerted = false;
    try {
      const text = await cmd.run(this, tagText, tokens, uid);
      if (cmd.expungeOk !== undefined) await this.sync(cmd.expungeOk);
      if (text !== null && this.state !== 'notauth' && !this.loggingOut) {
        alerted = true;
        await this.showAlerts();
      }
      if (text !== null) await this.send(`${tagText} OK ${text ?? `${uid ? 'UID ' : ''}${name} completed`}\r\n`);
    } catch (e) {
      if (e instanceof CommandError) {
        if (cmd.expungeOk !== undefined && this.mailbox) await this.sync(cmd.expungeOk).catch(() => undefined);
        await this.send(`${tagText} ${e.kind} ${e.code ? `[${e.code}] ` : ''}${e.message}\r\n`);
      } else if (e instanceof StoreError) {
        const code = e.code === 'TRYCREATE' ? 'TRYCREATE' : e.code && ['NONEXISTENT', 'ALREADYEXISTS', 'NOPERM', 'INUSE', 'CANNOT', 'LIMIT', 'OVERQUOTA'].includes(e.code) ? e.code : undefined;
        await this.send(`${tagText} NO ${code ? `[${code}] ` : ''}${e.message}\r\n`);
      } else {
        this.ctx.log.error(`${name} failed user=${this.userLog} host=${this.hostLog}: ${(e as Error).stack ?? e}`);
        await this.send(`${tagText} NO ${name} failed: ${(e as Error).message}\r\n`);
      }
    }
    if (!alerted && this.state !== 'notauth') await this.showAlerts();
  }

  // -------------------------------------------------------------- logins

  async enterUser(id: Identity): Promise<void> {
    this.store = this.ctx.enterUser(id);
    this.identity = id;
    this.state = 'auth';
  }

  async logout(): Promise<void> {
    this.loggingOut = true;
    this.ctx.log.info(`${this.logoutReason} user=${this.userLog} host=${this.hostLog}`);
    await this.send(`* BYE ${this.ctx.hostname} IMAP4rev1 server terminating connection\r\n`);
  }
  endAfterReply(): void {
    setImmediate(() => void this.flush().then(() => this.finish()));
  }

  /**
   * /etc/imapd.alert (alert-file) to every session, and the user's own
   * ~/.imapalert once logged in, each line as `* OK [ALERT]`, once per change
   * of the file (UW).
   */
  private async showAlerts(): Promise<void> {
    const files: Array<[string, 'alertMtime' | 'userAlertMtime']> = [];
    const global = this.ctx.config.str('alert-file');
    if (global) files.push([global, 'alertMtime']);
    if (this.identity && !this.identity.anonymous) files.push([join(userRoot(this.identity), '.imapalert'), 'userAlertMtime']);
    for (const [path, key] of files) {
      try {
        const st = statSync(path, { throwIfNoEntry: false });
        if (!st?.isFile() || st.mtimeMs <= this[key]) continue;
        this[key] = st.mtimeMs;
        for (const line of readFileSync(path, 'utf8').split('\n')) if (line.replace(/[\r\0]/g, '')) await this.send(`* OK [ALERT] ${line.replace(/[\r\0]/g, '')}\r\n`);
      } catch {
        /* no alert file */
      }
    }
  }

  // ------------------------------------------------------------ mailbox

  async select(mb: Mailbox): Promise<void> {
    this.mailbox = mb;
    this.state = 'selected';
    this.view = mb.uids();
    mb.onLost((reason) => void this.lost(reason));
    const kw = mb.keywords();
    this.reportedKeywords = kw.join(' ');
    const recent = mb.recentCount();
    this.reportedRecent = recent;
    await this.untagged(`FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft${kw.map((k) => ' ' + k).join('')})`);
    await this.untagged(`${this.view.length} EXISTS`);
    await this.untagged(`${recent} RECENT`);
    await this.untagged(`OK [UIDVALIDITY ${mb.uidValidity}] UID validity status`);
    await this.untagged(`OK [UIDNEXT ${mb.uidNext}] Predicted next UID`);
    const perm = mb.readOnly ? '' : ` \\Answered \\Flagged \\Deleted \\Seen \\Draft${kw.map((k) => ' ' + k).join('')}${mb.canCreateKeywords() ? ' \\*' : ''}`;
    await this.untagged(`OK [PERMANENTFLAGS (${perm.trim()})] Permanent flags`);
    const firstUnseen = mb.firstUnseen();
    if (firstUnseen >= 0) await this.untagged(`OK [UNSEEN ${firstUnseen + 1}] first unseen message in ${mb.name}`);
  }

  async deselect(expunge: boolean): Promise<void> {
    const mb = this.mailbox;
    this.mailbox = undefined;
    this.view = new Uint32Array(0);
    this.state = 'auth';
    if (mb) await mb.close({ expunge: expunge && !mb.readOnly });
  }

  /** MAILBOX-REFERRALS: refuse names that live on another server, with the URL. */
  checkReferral(name: string): void {
    const url = mailboxReferral(this.ctx.config.str('mailbox-referrals'), name);
    if (url) throw no('Remote mailbox', `REFERRAL ${url}`);
  }

  requireMailbox(): Mailbox {
    if (!this.mailbox) throw bad('No mailbox selected');
    return this.mailbox;
  }

  /** Flags of a message for FETCH (with \Recent). */
  flagsOf(uid: number): string {
    const m = this.mailbox?.get(uid);
    return m ? this.flagsText(m) : '()';
  }
  /**
   * The FLAGS list of a message. Drivers share one flag set between the
   * messages with the same flags and never change it (types.ts), so its
   * text is made once per set (with and without \Recent), not per message.
   */
  flagsText(m: MessageInfo): string {
    let texts = this.flagTexts.get(m.flags);
    if (!texts) {
      texts = [];
      this.flagTexts.set(m.flags, texts);
    }
    const k = m.recent ? 1 : 0;
    return (texts[k] ??= flagList(m.recent ? [...m.flags, '\\Recent'] : [...m.flags]));
  }
  private readonly flagTexts = new WeakMap<Set<string>, string[]>();

  /**
   * Report what changed in the selected mailbox: EXISTS/RECENT for new mail,
   * FETCH FLAGS for others' flag changes, and EXPUNGE only where allowed.
   */
  async sync(allowExpunge: boolean): Promise<void> {
    const mb = this.mailbox;
    if (!mb) return;
    const ch = await mb.sync();
    for (const n of ch.notices) await this.untagged(`NO ${n}`);
    if (ch.uidValidityChanged) {
      await this.untagged(`OK [UIDVALIDITY ${mb.uidValidity}] UID validity changed`);
    }
    if (ch.keywordsChanged || mb.keywords().join(' ') !== this.reportedKeywords) {
      const kw = mb.keywords();
      this.reportedKeywords = kw.join(' ');
      await this.untagged(`FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft${kw.map((k) => ' ' + k).join('')})`);
      if (!mb.readOnly) await this.untagged(`OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft${kw.map((k) => ' ' + k).join('')}${mb.canCreateKeywords() ? ' \\*' : ''})] Permanent flags`);
    }
    // The same count and the same last UID: nothing came or went (UIDs only
    // grow), so no UIDs are copied and no sets of 50,000 are built for
    // every command.
    const ext = mb.extent();
    const unchanged = ext.count === this.view.length && (ext.count === 0 || ext.lastUid === this.view[this.view.length - 1]);
    const now = unchanged ? undefined : mb.uids();
    const current = now && new Set(now);
    if (allowExpunge && current) {
      // Report every UID in our view that no longer exists (ours or others'
      // expunges), from the last so each number is still right when sent;
      // then the view without them, made once (a splice each was quadratic).
      let gone = false;
      for (let i = this.view.length - 1; i >= 0; i--) {
        if (!current.has(this.view[i])) {
          await this.untagged(`${i + 1} EXPUNGE`);
          gone = true;
        }
      }
      if (gone) this.view = this.view.filter((u) => current.has(u));
    }
    for (const uid of ch.flagsChanged) {
      const seq = this.seqOf(uid);
      if (seq > 0 && (!current || current.has(uid))) await this.untagged(`${seq} FETCH (FLAGS ${this.flagsOf(uid)} UID ${uid})`);
    }
    // New messages: everything in the mailbox with a UID above our last.
    let added = 0;
    if (now) {
      // UIDs only grow: the new ones are those above our last, at the end.
      const last = this.view.length ? this.view[this.view.length - 1] : 0;
      let from = now.length;
      while (from > 0 && now[from - 1] > last) from--;
      added = now.length - from;
      if (added) {
        const v = new Uint32Array(this.view.length + added);
        v.set(this.view);
        v.set(now.subarray(from), this.view.length);
        this.view = v;
      }
    }
    const recent = mb.recentCount();
    if (added) await this.untagged(`${this.view.length} EXISTS`);
    if (added || recent !== this.reportedRecent) {
      this.reportedRecent = recent;
      await this.untagged(`${recent} RECENT`);
    }
  }

  /** Resolve a sequence set (or UID set) to UIDs present in the view, in order. */
  resolveSet(text: string, uid: boolean): number[] {
    if (!this.mailbox) throw bad('No mailbox selected');
    const max = uid ? (this.view.length ? this.view[this.view.length - 1] : 0) : this.view.length;
    if (text === '$') throw bad('Search result variable not supported');
    const ranges = parseSequenceSet(text, uid ? Math.max(max, this.view.length ? max : 0) : max);
    if (!ranges) throw bad(`Invalid sequence set: ${text}`);
    if (uid) {
      const out: number[] = [];
      for (const u of this.view) for (const [a, b] of ranges) if (u >= a && u <= b) {
        out.push(u);
        break;
      }
      // "n:*" with n > every UID still names the highest UID (RFC 3501 §6.4.8).
      if (!out.length && this.view.length && ranges.some(([, b]) => b === max)) {
        const lastUid = this.view[this.view.length - 1];
        if (ranges.some(([a, b]) => lastUid >= Math.min(a, b) || b === max)) out.push(lastUid);
      }
      return out;
    }
    const out: number[] = [];
    for (const [a, b] of ranges) {
      if (a < 1 || b > this.view.length) throw bad('Invalid message sequence number');
      for (let i = a; i <= b; i++) out.push(this.view[i - 1]);
    }
    // The view is in ascending UID order, so sequence order is UID order.
    return ranges.length === 1 ? out : [...new Set(out)].sort((x, y) => x - y);
  }

  /** Sequence number of a UID in the view (0 when absent): a binary search, the view being in ascending UID order. */
  seqOf(uid: number): number {
    const v = this.view;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = v[mid];
      if (x === uid) return mid + 1;
      if (x < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }
}

export async function runImapSession(conn: Connection, ctx: ServerContext): Promise<void> {
  const s = new ImapSession(conn, ctx);
  await s.run();
}

export const IMAP_VERSION = VERSION;
