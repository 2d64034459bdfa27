/**
 * What every open mailbox (unix, mbx, mix) keeps the same way: the message
 * list and its UID map, UIDVALIDITY/UIDLAST, the keyword slots, the changes
 * waiting for the next sync(), the lost-mailbox listeners, and opening the
 * file read-write with UW's fall-back to read-only.
 */
import { openSync, constants } from 'node:fs';
import type { AppendMessage, AppendResult, FlagOp, Mailbox, StoreRequest, MailboxChanges, MessageInfo, OpenOptions } from '../types.js';
import { StoreError } from '../types.js';
import { MAX_KEYWORDS } from './flagbits.js';
import type { DriverContext } from '../driver.js';

export abstract class BaseMailbox<M extends { info: MessageInfo }> implements Mailbox {
  abstract readonly driver: string;
  abstract readonly name: string;
  readOnly: boolean;
  readOnlyReason?: string;
  uidValidity = 0;
  protected uidLast = 0;
  protected kw: string[] = [];
  protected msgs: M[] = [];
  protected byUid = new Map<number, M>();
  protected pending: MailboxChanges = emptyChanges();
  protected closed = false;
  /** Set when the mailbox cannot be used any more (corruption): every later call fails with it. */
  protected dead?: string;
  private lostListeners: Array<(r: string) => void> = [];

  constructor(
    protected readonly ctx: DriverContext,
    protected readonly opts: OpenOptions,
  ) {
    this.readOnly = !!opts.readOnly;
  }

  /** Where the mailbox lives, for log lines. */
  protected abstract get location(): string;

  /** The mailbox is unusable (corrupt, shrank): say why in the log and to the session, and stop. */
  protected die(reason: string): never {
    this.dead = reason;
    this.ctx.log.error(`${reason} (${this.location})`);
    this.lost(reason);
    throw new StoreError(reason, 'SERVERBUG');
  }

  get uidNext(): number {
    return this.uidLast + 1;
  }
  keywords(): string[] {
    return [...this.kw];
  }
  canCreateKeywords(): boolean {
    return !this.readOnly && this.kw.length < MAX_KEYWORDS;
  }
  messages(): readonly MessageInfo[] {
    return this.msgs.map((m) => m.info);
  }
  uids(): Uint32Array {
    return Uint32Array.from(this.msgs, (m) => m.info.uid);
  }
  extent(): { count: number; lastUid: number } {
    const n = this.msgs.length;
    return { count: n, lastUid: n ? this.msgs[n - 1].info.uid : 0 };
  }
  recentCount(): number {
    let n = 0;
    for (const m of this.msgs) if (m.info.recent) n++;
    return n;
  }
  firstUnseen(): number {
    return this.msgs.findIndex((m) => !m.info.flags.has('\\Seen'));
  }
  get(uid: number): MessageInfo | undefined {
    return this.byUid.get(uid)?.info;
  }
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }
  /** Tell the session the mailbox is gone (BYE with `reason`). */
  protected lost(reason: string): void {
    for (const l of this.lostListeners) l(reason);
  }
  /** An internal open (mailutil, delivery, STATUS) that claims nothing. */
  protected get silent(): boolean {
    return !!this.opts.silent;
  }
  protected requireWritable(): void {
    if (this.closed) throw new StoreError('Mailbox is closed');
    if (this.dead) throw new StoreError(this.dead, 'SERVERBUG');
    if (this.readOnly) throw new StoreError(this.readOnlyReason ?? 'Mailbox is read-only', 'CANNOT');
  }
  /** The changes collected since the last call. */
  protected takeChanges(): MailboxChanges {
    const out = this.pending;
    this.pending = emptyChanges();
    return out;
  }

  /**
   * Open `path` read-write unless the session asked for read-only; a file
   * we may not write is opened read-only with UW's text (told to the client
   * when `tell`).
   */
  protected openFile(path: string, tell = true): number {
    if (!this.readOnly) {
      try {
        return openSync(path, constants.O_RDWR | constants.O_NOCTTY);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EROFS') throw mapErr(e, this.name);
        this.readOnly = true;
        this.readOnlyReason = "Can't get write access to mailbox, access is readonly";
        if (tell) this.opts.notify?.(this.readOnlyReason);
      }
    }
    try {
      return openSync(path, constants.O_RDONLY);
    } catch (e) {
      throw mapErr(e, this.name);
    }
  }

  abstract read(uid: number, opts?: { transient?: boolean }): Promise<Buffer | null>;
  abstract readHeader(uid: number, opts?: { transient?: boolean }): Promise<Buffer | null>;
  abstract store(uids: number[], op: FlagOp, flags: string[]): Promise<number[]>;
  abstract append(messages: AppendMessage[]): Promise<AppendResult>;
  abstract expunge(uids?: number[]): Promise<number[]>;
  /** One store after the other, then the expunge; drivers that can write them together override it. */
  async update(stores: StoreRequest[], expunge: number[]): Promise<number[]> {
    for (const r of stores) if (r.uids.length) await this.store(r.uids, r.op, r.flags);
    return expunge.length ? this.expunge(expunge) : [];
  }
  abstract checkpoint(): Promise<string | undefined>;
  abstract sync(): Promise<MailboxChanges>;
  abstract close(opts?: { expunge?: boolean }): Promise<void>;
}

export function emptyChanges(): MailboxChanges {
  return { expunged: [], added: [], flagsChanged: [], keywordsChanged: false, uidValidityChanged: false, notices: [] };
}

/** A file-system error as the store reports it (IMAP response codes). */
export function mapErr(e: unknown, name: string): Error {
  if (e instanceof StoreError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new StoreError(`Mailbox ${name} does not exist`, 'NONEXISTENT');
  if (err.code === 'EACCES' || err.code === 'EPERM') return new StoreError(`Can't access mailbox ${name}: ${err.message}`, 'NOPERM');
  if (err.code === 'EDQUOT') return new StoreError(`Mailbox ${name}: disk quota exceeded`, 'OVERQUOTA');
  if (err.code === 'ENOSPC') return new StoreError(`Mailbox ${name}: no space left on device`, 'LIMIT');
  return new StoreError(`Mailbox ${name}: ${err.message ?? String(e)}`, 'SERVERBUG');
}
