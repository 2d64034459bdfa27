/**
 * ipop2d: POP2 (RFC 937) as UW's ipop2d — HELO, FOLD, READ, RETR, ACKS,
 * ACKD, NACK, QUIT. Any error or out-of-sequence command ends the session
 * with "- reason". Plaintext only, so it refuses to run where plaintext
 * passwords are not allowed (UW: "POP2 server disabled on this system").
 */
import type { Connection } from '../runtime/connection.js';
import type { ServerContext, TerminateReason } from '../runtime/daemon.js';
import type { Mailbox, MessageInfo, Store } from '../store/types.js';
import { AuthError } from '../auth/types.js';

const VERSION = '0.1.0';

function headerEnd(b: Buffer): number {
  if (b[0] === 13 && b[1] === 10) return 0;
  const i = b.indexOf('\r\n\r\n');
  return i < 0 ? b.length : i + 2;
}

export class Pop2Session {
  private state: 'auth' | 'mbox' | 'item' | 'next' | 'done' = 'auth';
  private buf = Buffer.alloc(0);
  private busy = false;
  private user = '???';
  private store?: Store;
  private mb?: Mailbox;
  private msgs: MessageInfo[] = [];
  private cur = 0; // current message number (1-based)
  private folder = 'INBOX';
  private done!: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly conn: Connection,
    private readonly ctx: ServerContext,
  ) {}

  private get host(): string {
    return this.conn.remoteAddress ? `[${this.conn.remoteAddress}]` : 'UNKNOWN';
  }
  private out(s: string | Buffer): Promise<void> {
    return this.conn.write(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  }

  async run(): Promise<void> {
    const finished = new Promise<void>((r) => (this.done = r));
    const auth = this.ctx.auth();
    if (!auth.plaintextAllowed({ service: 'pop', remoteAddress: this.conn.remoteAddress, tls: this.conn.isTls, local: this.conn.isLocal })) {
      await this.out('- POP2 server disabled on this system\r\n');
      return;
    }
    await this.out(`+ POP2 ${this.ctx.hostname} ${VERSION} server ready\r\n`);
    this.conn.onEnd(() => {
      if (this.state !== 'done') {
        this.ctx.log.info(`Unexpected client disconnect, while reading line user=${this.user} host=${this.host}`);
        void this.finish(false);
      }
    });
    this.ctx.onTerminate((r: TerminateReason) => void this.finish(false, r === 'terminated' ? '- Killed\r\n' : undefined));
    this.conn.onData((c) => {
      this.buf = Buffer.concat([this.buf, c]);
      void this.pump();
    });
    this.arm();
    await finished;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const cfg = this.ctx.config;
    const ms = (this.state === 'auth' ? cfg.int('login-timeout') : cfg.int('pop-idle-timeout')) * 1000;
    this.timer = setTimeout(() => {
      this.ctx.log.info(`Autologout user=${this.user} host=${this.host}`);
      void this.finish(false, '- Autologout\r\n');
    }, ms);
  }

  private async finish(expunge: boolean, text?: string): Promise<void> {
    if (this.state === 'done') return;
    this.state = 'done';
    if (this.timer) clearTimeout(this.timer);
    if (text) await this.out(text).catch(() => undefined);
    const mb = this.mb;
    this.mb = undefined;
    try {
      await mb?.close({ expunge });
    } catch (e) {
      this.ctx.log.error(`Error closing ${this.folder} user=${this.user} host=${this.host}: ${(e as Error).message}`);
    }
    this.done();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        if (this.state === 'done') break;
        const nl = this.buf.indexOf(10);
        if (nl < 0) {
          if (this.buf.length > 4096) await this.finish(false, '- Command line too long\r\n');
          break;
        }
        const line = this.buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        this.buf = this.buf.subarray(nl + 1);
        this.arm();
        await this.command(line);
      }
    } finally {
      this.busy = false;
    }
  }

  private async open(name: string): Promise<void> {
    if (this.mb) {
      await this.mb.close({ expunge: true });
      this.mb = undefined;
    }
    this.folder = name;
    try {
      this.mb = await this.store!.open(name);
      this.msgs = [...this.mb.messages()];
    } catch {
      this.mb = undefined;
      this.msgs = [];
    }
    this.cur = 0;
    this.state = 'mbox';
    await this.out(`#${this.msgs.length} messages in ${name}\r\n`);
  }

  private size(n: number): number {
    const m = this.msgs[n - 1];
    return m ? m.size + 12 : 0;
  }

  private async readReply(n: number): Promise<void> {
    this.cur = n;
    this.state = 'item';
    if (n < 1 || n > this.msgs.length) return this.out('=0 No more messages\r\n');
    return this.out(`=${this.size(n)} characters in message ${n}\r\n`);
  }

  private async command(line: string): Promise<void> {
    const sp = line.indexOf(' ');
    const cmd = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    if (cmd === 'QUIT') {
      this.ctx.log.info(`Logout user=${this.user} host=${this.host}`);
      await this.out('+ Sayonara\r\n');
      return this.finish(true);
    }
    switch (this.state) {
      case 'auth':
        if (cmd === 'HELO') {
          const m = /^(\S+)\s+(.*)$/.exec(arg);
          if (!m) return this.finish(false, '- Missing argument\r\n');
          const pass = m[2].replace(/\\(.)/g, '$1');
          try {
            const id = await this.ctx.auth().login(m[1], pass, { service: 'pop', remoteAddress: this.conn.remoteAddress, tls: this.conn.isTls, local: this.conn.isLocal });
            this.store = this.ctx.enterUser(id);
            this.user = id.user;
            this.ctx.log.info(`Login user=${id.user} host=${this.host}`);
          } catch (e) {
            if (e instanceof AuthError) return this.finish(false, '- Bad login\r\n');
            throw e;
          }
          return this.open('INBOX');
        }
        break;
      case 'mbox':
      case 'item':
      case 'next':
        if (cmd === 'FOLD' && (this.state === 'mbox' || this.state === 'item')) {
          if (!arg) return this.finish(false, '- Missing argument\r\n');
          return this.open(arg);
        }
        if (cmd === 'READ' && (this.state === 'mbox' || this.state === 'item')) {
          const n = arg ? Number(arg) : this.cur || 1;
          if (!Number.isInteger(n)) return this.finish(false, '- Bad message number\r\n');
          return this.readReply(n);
        }
        if (cmd === 'RETR' && this.state === 'item') {
          const m = this.msgs[this.cur - 1];
          if (!m || !this.mb) return this.finish(false, '- No such message\r\n');
          const data = (await this.mb.read(m.uid)) ?? Buffer.alloc(0);
          const he = headerEnd(data);
          const status = `Status: ${m.flags.has('\\Seen') ? 'R' : ' '}${m.recent ? ' ' : 'O'}\r\n`;
          await this.out(Buffer.concat([data.subarray(0, he), Buffer.from(status), data.subarray(he)]));
          this.state = 'next';
          return;
        }
        if ((cmd === 'ACKS' || cmd === 'ACKD' || cmd === 'NACK') && this.state === 'next') {
          const m = this.msgs[this.cur - 1];
          if (m && this.mb && !this.mb.readOnly && cmd !== 'NACK') await this.mb.store([m.uid], 'add', cmd === 'ACKD' ? ['\\Seen', '\\Deleted'] : ['\\Seen']);
          return this.readReply(this.cur + 1);
        }
        break;
    }
    return this.finish(false, '- Bogus or out of sequence command\r\n');
  }
}

export async function runPop2Session(conn: Connection, ctx: ServerContext): Promise<void> {
  await new Pop2Session(conn, ctx).run();
}
