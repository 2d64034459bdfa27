/**
 * ipop3d: POP3 (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034) with
 * UW ipop3d's behaviour: INBOX only, held exclusively, the synthesized
 * 12-byte Status line, UIDL from UIDVALIDITY and UID, LAST, deletions applied
 * only at QUIT. Commands are processed strictly in order, so pipelining works.
 */
import { userRoot } from '../store/user-dirs.js';
import { loginDelayLeft, expirePolicy, expireDue } from './policy.js';
import type { Connection } from '../runtime/connection.js';
import type { ServerContext, TerminateReason } from '../runtime/daemon.js';
import type { AuthContext, Identity } from '../auth/types.js';
import { AuthError } from '../auth/types.js';
import type { Mailbox, MessageInfo, Store } from '../store/types.js';
import { StoreError } from '../store/types.js';
import { statSync } from 'node:fs';
import { MemoryRelief } from '../runtime/memory.js';

const VERSION = '0.1.0';
const MAX_LINE = 1024;

interface Msg {
  info: MessageInfo;
  deleted: boolean;
  retrieved: boolean;
}

/** The header/body split of a message (CRLF form): offset where the blank line starts. */
function headerEnd(b: Buffer): number {
  if (b[0] === 13 && b[1] === 10) return 0;
  const i = b.indexOf(BLANK_LINE); // a Buffer: a string would be converted on every call
  return i < 0 ? b.length : i + 2;
}
const BLANK_LINE = Buffer.from('\r\n\r\n');

/** UW's synthesized Status line: always 12 bytes. */
function statusLine(m: MessageInfo): string {
  return `Status: ${m.flags.has('\\Seen') ? 'R' : ' '}${m.recent ? ' ' : 'O'}\r\n`;
}

/**
 * The multi-line response for a message: `first` (the +OK line), then the
 * message's pieces with lines that start with "." byte-stuffed, then the
 * terminating ".", as one Buffer (one copy of the message, one write).
 */
function multiLine(first: string, pieces: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(first, 'latin1')];
  let atLineStart = true;
  let last: Buffer | undefined;
  for (const b of pieces) {
    if (!b.length) continue;
    let start = 0;
    if (atLineStart && b[0] === 0x2e) parts.push(DOT);
    for (let i = b.indexOf(NL_DOT); i >= 0; i = b.indexOf(NL_DOT, i + 1)) {
      parts.push(b.subarray(start, i + 1), DOT);
      start = i + 1;
    }
    parts.push(b.subarray(start));
    atLineStart = b[b.length - 1] === 0x0a;
    last = b;
  }
  const endsWithCrlf = !last || (last.length >= 2 && last[last.length - 2] === 0x0d && last[last.length - 1] === 0x0a);
  parts.push(endsWithCrlf ? END : CRLF_END);
  return Buffer.concat(parts);
}
const DOT = Buffer.from('.');
const NL_DOT = Buffer.from('\n.');
const END = Buffer.from('.\r\n');
const CRLF_END = Buffer.from('\r\n.\r\n');

export class Pop3Session {
  private state: 'auth' | 'trans' | 'update' | 'done' = 'auth';
  private buf = Buffer.alloc(0);
  private busy = false;
  /** Gives memory back while the client is quiet (runtime/memory.ts). */
  private readonly relief = new MemoryRelief();
  private user?: string;
  private identity?: Identity;
  private store?: Store;
  private mb?: Mailbox;
  private msgs: Msg[] = [];
  private last = 0;
  private challenge = '';
  private timer?: NodeJS.Timeout;
  private lastActivity = Date.now();
  private done!: () => void;
  private lineWaiter?: (l: string | undefined) => void;
  private ended = false;
  private eof = false;

  /** The client closed its side: answer what it sent, then end without applying DELE. */
  private endOfInput(): void {
    if (this.state === 'done' || this.ended) return;
    this.ctx.log.info(`Unexpected client disconnect, while reading line user=${this.user ?? '???'} host=${this.host}`);
    void this.finish(false);
  }

  constructor(
    private readonly conn: Connection,
    private readonly ctx: ServerContext,
  ) {}

  private get host(): string {
    return this.conn.remoteAddress ? `[${this.conn.remoteAddress}]` : 'UNKNOWN';
  }
  private actx(): AuthContext {
    return { service: 'pop', remoteAddress: this.conn.remoteAddress, tls: this.conn.isTls, local: this.conn.isLocal };
  }
  private out(s: string | Buffer): Promise<void> {
    return this.conn.write(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  }

  async run(): Promise<void> {
    const finished = new Promise<void>((r) => (this.done = r));
    try {
      statSync(this.ctx.config.str('nologin-file'));
      await this.out('-ERR [SYS/PERM] Service not available\r\n');
      return;
    } catch {
      /* no /etc/nologin */
    }
    const auth = this.ctx.auth();
    if (auth.apopAvailable()) {
      this.challenge = `<${process.pid.toString(16)}.${Math.floor(Date.now() / 1000).toString(16)}@${this.ctx.hostname}>`;
      await this.out(`+OK POP3 ${VERSION} server ready ${this.challenge}\r\n`);
    } else await this.out(`+OK POP3 ${this.ctx.hostname} ${VERSION} server ready\r\n`);
    this.conn.onEnd(() => {
      this.eof = true;
      this.lineWaiter?.(undefined);
      if (!this.busy) this.endOfInput();
    });
    this.ctx.onTerminate((r: TerminateReason) => void this.terminate(r));
    this.conn.onData((c) => {
      this.buf = Buffer.concat([this.buf, c]);
      void this.pump();
    });
    this.arm();
    await finished;
  }

  /**
   * The autologout timer runs out `ms` after the last command. It is set
   * again only when the limit changes (login, then idle); otherwise it looks
   * at lastActivity when it fires (a RETR of each of 50,000 messages cleared
   * and set a timer per command).
   */
  private arm(): void {
    const cfg = this.ctx.config;
    const ms = (this.state === 'auth' ? cfg.int('login-timeout') : cfg.int('pop-idle-timeout')) * 1000;
    if (this.timer && ms === this.timerMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(() => this.timerFired(), ms);
  }
  private timerMs = 0;
  private timerFired(): void {
    const left = this.lastActivity + this.timerMs - Date.now();
    if (left > 0) this.timer = setTimeout(() => this.timerFired(), left);
    else void this.autologout();
  }
  private async autologout(): Promise<void> {
    this.ctx.log.info(`Autologout user=${this.user ?? '???'} host=${this.host}`);
    await this.out(this.state === 'auth' ? '-ERR Autologout\r\n' : '-ERR Autologout; idle for too long\r\n').catch(() => undefined);
    await this.finish(false);
  }
  private async terminate(r: TerminateReason): Promise<void> {
    if (r === 'terminated') await this.out('-ERR Killed\r\n').catch(() => undefined);
    this.ctx.log.info(`${r === 'terminated' ? 'Killed (terminated)' : 'Hangup'} user=${this.user ?? '???'} host=${this.host}`);
    await this.finish(false);
  }

  /** End the session; `update` applies DELE and \Seen (QUIT in TRANSACTION). */
  private async finish(update: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    const mb = this.mb;
    this.mb = undefined;
    if (mb) {
      try {
        if (update && !mb.readOnly) {
          const seen = this.msgs.filter((m) => m.retrieved && !m.deleted && !m.info.flags.has('\\Seen')).map((m) => m.info.uid);
          const dele = this.msgs.filter((m) => m.deleted).map((m) => m.info.uid);
          // EXPIRE (RFC 2449): 0 = retrieved messages go now; N = N days after their first retrieval.
          const expire = expirePolicy(this.ctx.config.str('pop3-expire'));
          if (expire === 0) {
            for (const m of this.msgs) if (m.retrieved && !m.deleted) dele.push(m.info.uid);
          } else if (typeof expire === 'number' && this.identity) {
            const live = this.msgs.filter((m) => !m.deleted);
            const due = expireDue(userRoot(this.identity), mb.uidValidity, live.map((m) => m.info.uid), live.filter((m) => m.retrieved).map((m) => m.info.uid), expire);
            dele.push(...due);
          }
          // One update: the unix driver writes the flags with the expunge's rewrite.
          await mb.update(
            [
              { uids: seen, op: 'add', flags: ['\\Seen'] },
              { uids: dele, op: 'add', flags: ['\\Deleted'] },
            ],
            dele,
          );
          this.ctx.log.info(`Update user=${this.user} host=${this.host} nmsgs=${this.msgs.length} ndele=${dele.length} nseen=${seen.length}`);
        }
        await mb.close();
      } catch (e) {
        this.ctx.log.error(`Error closing INBOX user=${this.user} host=${this.host}: ${(e as Error).message}`);
      }
    }
    this.state = 'done';
    this.done();
  }

  private takeLine(): string | undefined {
    const nl = this.buf.indexOf(10);
    if (nl < 0) {
      if (this.buf.length > MAX_LINE * 4) this.buf = Buffer.alloc(0);
      return undefined;
    }
    const line = this.buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
    this.buf = this.buf.subarray(nl + 1);
    return line;
  }

  private readLine(): Promise<string | undefined> {
    const l = this.takeLine();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((r) => (this.lineWaiter = r));
  }

  private async pump(): Promise<void> {
    if (this.lineWaiter) {
      const l = this.takeLine();
      if (l !== undefined) {
        const w = this.lineWaiter;
        this.lineWaiter = undefined;
        w(l);
      }
      return;
    }
    if (this.busy) return;
    this.busy = true;
    this.relief.busy();
    try {
      for (;;) {
        if (this.state === 'done') break;
        const line = this.takeLine();
        if (line === undefined) break;
        this.lastActivity = Date.now();
        this.arm();
        await this.command(line);
      }
    } catch (e) {
      this.ctx.log.error(`POP3 session error user=${this.user ?? '???'} host=${this.host}: ${(e as Error).stack ?? e}`);
      await this.out('-ERR [SYS/TEMP] Internal error\r\n').catch(() => undefined);
      await this.finish(false);
    } finally {
      this.busy = false;
    }
    if (this.eof) this.endOfInput();
    else if (this.state !== 'done') this.relief.idle();
  }

  private capa(): string {
    const auth = this.ctx.auth();
    const lines = ['TOP'];
    const delay = this.ctx.config.int('pop3-login-delay');
    if (delay > 0) lines.push(`LOGIN-DELAY ${delay}`);
    const expire = expirePolicy(this.ctx.config.str('pop3-expire'));
    if (expire !== undefined) lines.push(`EXPIRE ${expire}`);
    lines.push('UIDL', 'PIPELINING', 'RESP-CODES', 'AUTH-RESP-CODE');
    if (!this.conn.isTls && this.conn.canStartTls && this.state === 'auth') lines.push('STLS');
    if (auth.plaintextAllowed(this.actx())) lines.push('USER');
    const mechs = auth.mechanisms(this.actx());
    if (mechs.length) lines.push(`SASL ${mechs.join(' ')}`);
    lines.push(`IMPLEMENTATION uw-imapd-ts-${VERSION}`);
    return `+OK Capability list follows:\r\n${lines.join('\r\n')}\r\n.\r\n`;
  }

  private async command(line: string): Promise<void> {
    if (line.length > MAX_LINE) return this.out('-ERR Command line too long\r\n');
    const sp = line.indexOf(' ');
    const cmd = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    if (!cmd) return this.out('-ERR Null command\r\n');
    if (cmd === 'CAPA') return this.out(this.capa());
    if (cmd === 'QUIT') {
      if (this.state === 'trans') {
        this.state = 'update';
        await this.finish(true);
      } else {
        this.ctx.log.info(`Logout user=${this.user ?? '???'} host=${this.host}`);
        await this.finish(false);
      }
      return this.out('+OK Sayonara\r\n');
    }
    return this.state === 'auth' ? this.authCommand(cmd, arg) : this.transCommand(cmd, arg);
  }

  // ------------------------------------------------------ AUTHORIZATION

  private async authCommand(cmd: string, arg: string): Promise<void> {
    const auth = this.ctx.auth();
    const ctx = this.actx();
    switch (cmd) {
      case 'STLS':
        if (this.conn.isTls) return this.out('-ERR STLS failed: already in TLS\r\n');
        if (!this.conn.canStartTls) return this.out('-ERR STLS failed: Server certificate not installed\r\n');
        await this.out('+OK STLS completed\r\n');
        this.buf = Buffer.alloc(0); // no plaintext command injection
        try {
          await this.conn.startTls();
        } catch (e) {
          this.ctx.log.info(`TLS negotiation failed host=${this.host}: ${(e as Error).message}`);
          await this.finish(false);
        }
        return;
      case 'USER':
        if (!auth.plaintextAllowed(ctx)) return this.out('-ERR Unknown AUTHORIZATION state command\r\n');
        this.user = arg.trimStart();
        if (!this.user) return this.out('-ERR Missing username argument\r\n');
        return this.out('+OK User name accepted, password please\r\n');
      case 'PASS': {
        if (!auth.plaintextAllowed(ctx)) return this.out('-ERR Unknown AUTHORIZATION state command\r\n');
        if (!this.user) return this.out('-ERR No user name specified\r\n');
        try {
          const id = await auth.login(this.user, arg, ctx);
          return this.loggedIn(id);
        } catch (e) {
          if (e instanceof AuthError) return this.out(`-ERR [${e.code === 'UNAVAILABLE' ? 'SYS/TEMP' : 'AUTH'}] Bad login\r\n`);
          throw e;
        }
      }
      case 'APOP': {
        if (!auth.apopAvailable() || !this.challenge) return this.out('-ERR Not supported\r\n');
        const [user, digest] = arg.split(' ');
        if (!user || !digest) return this.out('-ERR Missing APOP argument\r\n');
        this.user = user;
        try {
          return this.loggedIn(await auth.apop(user, this.challenge, digest, ctx));
        } catch (e) {
          if (e instanceof AuthError) return this.out('-ERR [AUTH] Bad APOP\r\n');
          throw e;
        }
      }
      case 'AUTH': {
        if (!arg) return this.out(`+OK Supported authentication mechanisms:\r\n${auth.mechanisms(ctx).map((m) => m + '\r\n').join('')}.\r\n`);
        const [mechRaw, initial] = arg.split(' ');
        const mech = mechRaw.toUpperCase();
        const ex = auth.startSasl(mech, ctx);
        if (!ex) return this.out('-ERR Unknown authentication mechanism\r\n');
        let resp: Buffer | null = initial === undefined ? null : initial === '=' ? Buffer.alloc(0) : Buffer.from(initial, 'base64');
        for (;;) {
          const step = await ex.step(resp);
          if (step.type === 'success') {
            this.user = step.identity.user;
            return this.loggedIn(step.identity, mech);
          }
          if (step.type === 'failure') return this.out('-ERR [AUTH] Bad authentication\r\n');
          await this.out(`+ ${step.data.toString('base64')}\r\n`);
          const l = await this.readLine();
          if (l === undefined) {
            this.ctx.log.info(`Command stream end of file, while reading authentication host=${this.host}`);
            return this.finish(false);
          }
          if (l.trim() === '*') return this.out('-ERR Authentication cancelled\r\n');
          resp = Buffer.from(l.trim(), 'base64');
        }
      }
      case 'RPOP':
        return this.out('-ERR Nice try, bunkie\r\n');
      default:
        return this.out('-ERR Unknown AUTHORIZATION state command\r\n');
    }
  }

  private async loggedIn(id: Identity, mech?: string): Promise<void> {
    try {
      this.store = this.ctx.enterUser(id);
    } catch (e) {
      this.ctx.log.error(`Login failed user=${id.user} host=${this.host}: cannot become user: ${(e as Error).message}`);
      await this.out('-ERR [SYS/PERM] Bad login\r\n');
      return this.finish(false);
    }
    this.identity = id;
    this.user = id.user;
    const delay = this.ctx.config.int('pop3-login-delay');
    if (delay > 0 && this.ctx.config.bool('pop3-login-delay-enforce')) {
      const left = loginDelayLeft(userRoot(id), delay);
      if (left > 0) {
        this.ctx.log.info(`Login delay user=${id.user} host=${this.host} wait=${left}s`);
        await this.out(`-ERR [LOGIN-DELAY] Minimum time between logins is ${delay} seconds, try again in ${left} seconds\r\n`);
        return this.finish(false);
      }
    }
    this.ctx.log.info(mech ? `Auth user=${id.user} host=${this.host} mech=${mech}` : `Login user=${id.user} host=${this.host}`);
    try {
      this.mb = await this.store.open('INBOX', { exclusive: true, idleSince: () => this.lastActivity, kodIdleMs: this.ctx.config.int('pop3-kiss-of-death-idle') * 1000 });
    } catch (e) {
      if (e instanceof StoreError && e.code === 'INUSE') {
        await this.out("-ERR [IN-USE] Can't get lock.  Mailbox in use\r\n");
      } else {
        this.ctx.log.error(`Error opening or locking INBOX user=${id.user} host=${this.host}: ${(e as Error).message}`);
        await this.out("-ERR [SYS/TEMP] Unable to open user's INBOX\r\n");
      }
      return this.finish(false);
    }
    this.mb.onLost(() => void this.kissOfDeath());
    this.msgs = this.mb
      .messages()
      .filter((m) => !m.flags.has('\\Deleted'))
      .map((info) => ({ info, deleted: false, retrieved: false }));
    this.last = 0;
    this.msgs.forEach((m, i) => {
      if (m.info.flags.has('\\Seen')) this.last = i + 1;
    });
    this.state = 'trans';
    this.arm();
    return this.out(`+OK Mailbox open, ${this.msgs.length} messages\r\n`);
  }

  private async kissOfDeath(): Promise<void> {
    // UW honours the kiss of death only when idle for more than 5 minutes; DELE is not applied.
    this.ctx.log.info(`Killed (lost mailbox lock) user=${this.user} host=${this.host}`);
    await this.out('-ERR Received Kiss of Death\r\n').catch(() => undefined);
    await this.finish(false);
  }

  // --------------------------------------------------------- TRANSACTION

  private msg(arg: string): Msg | undefined {
    if (!/^\d+$/.test(arg.trim())) return undefined;
    const n = Number(arg.trim());
    const m = this.msgs[n - 1];
    return m && !m.deleted ? m : undefined;
  }
  private size(m: Msg): number {
    return m.info.size + 12;
  }
  private uidl(m: Msg): string {
    return this.mb!.uidValidity.toString(16).padStart(8, '0') + m.info.uid.toString(16).padStart(8, '0');
  }

  /**
   * Header + Status line + body, as UW sends it; `lines` limits the body
   * (TOP). The pieces point into a buffer the next read reuses: use them
   * before reading again.
   */
  private async render(m: Msg, lines?: number): Promise<{ pieces: Buffer[]; size: number } | undefined> {
    const data = await this.mb!.read(m.info.uid, { transient: true });
    if (!data) return undefined;
    const he = headerEnd(data);
    let body = data.subarray(he);
    if (lines !== undefined) {
      // body starts with the blank line; keep it plus `lines` lines
      let pos = body.indexOf('\r\n') + 2;
      for (let i = 0; i < lines && pos > 1 && pos < body.length; i++) {
        const nl = body.indexOf('\n', pos);
        pos = nl < 0 ? body.length : nl + 1;
      }
      body = body.subarray(0, Math.max(0, pos));
    }
    const pieces = [data.subarray(0, he), Buffer.from(statusLine(m.info), 'latin1'), body];
    return { pieces, size: pieces.reduce((a, p) => a + p.length, 0) };
  }

  private async transCommand(cmd: string, arg: string): Promise<void> {
    switch (cmd) {
      case 'STAT': {
        const live = this.msgs.filter((m) => !m.deleted);
        return this.out(`+OK ${live.length} ${live.reduce((a, m) => a + this.size(m), 0)}\r\n`);
      }
      case 'LIST':
      case 'UIDL': {
        const one = (i: number, m: Msg) => `${i + 1} ${cmd === 'LIST' ? this.size(m) : this.uidl(m)}`;
        if (arg.trim()) {
          const m = this.msg(arg);
          if (!m) return this.out('-ERR No such message\r\n');
          return this.out(`+OK ${one(Number(arg.trim()) - 1, m)}\r\n`);
        }
        // One string for the whole listing (not a line array and a joined copy of it).
        let text = `+OK ${cmd === 'LIST' ? 'Mailbox scan listing follows' : 'Unique-ID listing follows'}\r\n`;
        for (let i = 0; i < this.msgs.length; i++) if (!this.msgs[i].deleted) text += `${one(i, this.msgs[i])}\r\n`;
        return this.out(`${text}.\r\n`);
      }
      case 'RETR': {
        const m = this.msg(arg);
        if (!m) return this.out('-ERR No such message\r\n');
        const b = await this.render(m);
        if (!b) return this.out('-ERR [SYS/TEMP] Message no longer available\r\n');
        m.retrieved = true;
        const n = Number(arg.trim());
        if (n > this.last) this.last = n;
        return this.out(multiLine(`+OK ${b.size} octets\r\n`, b.pieces));
      }
      case 'TOP': {
        const [n, k] = arg.split(' ');
        const m = this.msg(n ?? '');
        if (!m) return this.out('-ERR Bad message number argument\r\n');
        if (k === undefined || !/^\d+$/.test(k)) return this.out('-ERR Bad line count argument\r\n');
        const b = await this.render(m, Number(k));
        if (!b) return this.out('-ERR [SYS/TEMP] Message no longer available\r\n');
        return this.out(multiLine('+OK Top of message follows\r\n', b.pieces));
      }
      case 'DELE': {
        const m = this.msg(arg);
        if (!m) return this.out('-ERR No such message\r\n');
        m.deleted = true;
        const n = Number(arg.trim()); // msg() checked it: its number, not a search of the list per DELE
        if (n > this.last) this.last = n;
        return this.out('+OK Message deleted\r\n');
      }
      case 'RSET':
        for (const m of this.msgs) {
          m.deleted = false;
          m.retrieved = false;
        }
        this.last = 0;
        this.msgs.forEach((m, i) => {
          if (m.info.flags.has('\\Seen')) this.last = i + 1;
        });
        return this.out('+OK Reset state\r\n');
      case 'NOOP':
        return this.out('+OK No-op to you too!\r\n');
      case 'LAST':
        return this.out(`+OK ${this.last}\r\n`);
      case 'XTND':
        return this.out("-ERR Sorry I can't do that\r\n");
      default:
        return this.out('-ERR Unknown TRANSACTION state command\r\n');
    }
  }
}

export async function runPop3Session(conn: Connection, ctx: ServerContext): Promise<void> {
  await new Pop3Session(conn, ctx).run();
}
