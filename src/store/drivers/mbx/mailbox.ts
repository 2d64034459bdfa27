/**
 * An open mbx mailbox (UW mbx.c semantics, formats.md §2, locking.md §4):
 * every session holds a shared flock on the file; parse, append, flag
 * writes and expunge run under the exclusive /tmp/.<dev>.<ino> "parse/append
 * permission" lock; flags are rewritten in place (21 bytes per message);
 * expunge compacts the file when this session is alone, and otherwise marks
 * records 0x8000 (hidden) for a later exclusive session to reclaim.
 *
 * Beyond UW: compaction is journalled (src/store/journal.ts), so a crash
 * half-way rolls back to the previous content instead of leaving a torn file,
 * and changes by others are noticed through ctime as well as mtime.
 */
import { closeSync, writeSync, fsyncSync, fstatSync, ftruncateSync, utimesSync } from 'node:fs';
import type { DriverContext } from '../../driver.js';
import type { AppendMessage, AppendResult, FlagOp, MailboxChanges, MessageInfo, OpenOptions } from '../../types.js';
import { StoreError } from '../../types.js';
import { flockWait, parseLock, type ParseLock } from '../../lock/index.js';
import { beginAppend, beginJournal, recoverJournal } from '../../journal.js';
import * as posix from '../../../runtime/posix.js';
import { applyFlagOp, flagsFromBits, fDELETED, fEXPUNGED, fOLD, keywordMask, MAX_KEYWORDS, sysBits, toCrlf } from '../flagbits.js';
import { HDRSIZE, buildHeader, flagField, parseHeader, parseRecordLine, recordLine } from './format.js';
import { localZone } from '../unix/fromline.js';
import { BaseMailbox, emptyChanges, mapErr } from '../base.js';
import { preadFully } from '../../io.js';

interface Msg {
  uid: number;
  offset: number;
  lineLen: number;
  size: number;
  sys: number;
  kw: number;
  hdrLen?: number;
  info: MessageInfo;
}

interface Snap {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const CRASH_AT = Number(process.env.UWIMAP_TEST_CRASH_AFTER_BYTES ?? 0);
let crashCount = 0;

export class MbxMailbox extends BaseMailbox<Msg> {
  readonly driver = 'mbx';
  private fd = -1;
  private dev = 0;
  private ino = 0;
  /** Bytes of the file parsed so far (LOCAL->filesize). */
  private parsed = HDRSIZE;
  private snap: Snap = { size: 0, mtimeNs: 0n, ctimeNs: 0n };
  private lastPid = 0;
  /** Hidden (0x8000) records or holes are known: reclaim when alone. */
  private expungedPending = false;

  private constructor(
    readonly path: string,
    readonly name: string,
    ctx: DriverContext,
    opts: OpenOptions,
  ) {
    super(ctx, opts);
  }
  protected get location(): string {
    return this.path;
  }

  static async open(path: string, name: string, ctx: DriverContext, opts: OpenOptions = {}): Promise<MbxMailbox> {
    const mb = new MbxMailbox(path, name, ctx, opts);
    try {
      await mb.init();
    } catch (e) {
      mb.release();
      throw e;
    }
    return mb;
  }

  // ------------------------------------------------------------ opening

  private async init(): Promise<void> {
    this.fd = this.openFile(this.path);
    const st = fstatSync(this.fd);
    this.dev = st.dev;
    this.ino = st.ino;
    // Parse permission, then the session's shared lock on the file.
    await this.withParse(async () => {
      if (!this.readOnly && recoverJournal(this.path, this.fd)) this.ctx.log.warning(`Recovered ${this.path} from an interrupted compaction`);
      if (!(await flockWait(this.fd, posix.LOCK_SH, (this.ctx.lockWait ?? 300) * 1000, 20))) throw new StoreError(`Unable to lock open mailbox ${this.name}`, 'INUSE');
    });
    if (this.opts.exclusive && !this.readOnly) {
      // POP3 wants the mailbox alone: no other session may hold it.
      if (!(await this.withParse(async () => this.tryExclusive(() => true)))) {
        throw new StoreError("Can't get lock.  Mailbox in use", 'INUSE');
      }
    }
    await this.ping(true);
  }

  private release(): void {
    if (this.fd >= 0) {
      try {
        posix.flockSync(this.fd, posix.LOCK_UN);
      } catch {
        /* ignore */
      }
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  /** Run `f` holding exclusive flock on the file if no one else has it open; then back to shared. */
  private tryExclusive<T>(f: () => T): T | undefined {
    if (!posix.flockSync(this.fd, posix.LOCK_EX | posix.LOCK_NB)) {
      // A failed conversion may have dropped our shared lock: take it back (we hold parse permission).
      posix.flockSync(this.fd, posix.LOCK_SH);
      return undefined;
    }
    try {
      return f();
    } finally {
      posix.flockSync(this.fd, posix.LOCK_SH);
    }
  }

  private async withParse<T>(f: () => Promise<T> | T): Promise<T> {
    const lock: ParseLock | undefined = await parseLock(this.dev, this.ino, { lockDirectory: this.ctx.lockDirectory, log: this.ctx.log, waitMs: (this.ctx.lockWait ?? 300) * 1000 });
    if (!lock) throw new StoreError(`Unable to lock mailbox ${this.name}`, 'INUSE');
    try {
      return await f();
    } finally {
      lock.release();
    }
  }

  private snapshot(): Snap {
    const st = fstatSync(this.fd, { bigint: true });
    return { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
  }

  private pread(len: number, pos: number): Buffer {
    return preadFully(this.fd, len, pos);
  }

  private pwrite(data: Buffer | string, pos: number): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let w = 0;
    while (w < b.length) {
      // Test hook: die by SIGKILL after this many bytes (crash-safety tests).
      const n = writeSync(this.fd, b, w, CRASH_AT ? Math.min(b.length - w, 512) : b.length - w, pos + w);
      w += n;
      crashCount += n;
      if (CRASH_AT && crashCount >= CRASH_AT) process.kill(process.pid, 'SIGKILL');
    }
  }

  private makeInfo(m: Omit<Msg, 'info'>, date: Date, zone: number, recent: boolean): MessageInfo {
    return { uid: m.uid, flags: flagsFromBits(m.sys, m.kw, this.kw), recent, internalDate: date, internalDateZone: zone, size: m.size };
  }

  // ------------------------------------------------------------- parsing

  /**
   * mbx_parse(): reread the file header, then parse records appended since
   * the last parse. Must run under parse permission.
   */
  private parse(initial: boolean): { flagcheck: boolean } {
    const st = fstatSync(this.fd);
    if (st.size < this.parsed) this.die(`Mailbox shrank from ${this.parsed} to ${st.size}!`);
    const head = this.pread(HDRSIZE, 0);
    if (head.length < HDRSIZE) this.die(`Mailbox ${this.name} is not in valid mbx format (short header)`);
    const h = parseHeader(head);
    const oldValidity = this.uidValidity;
    this.uidValidity = h.uidValidity;
    this.uidLast = this.readOnly ? Math.max(h.uidLast, this.uidLast) : h.uidLast;
    let kwChanged = false;
    for (let i = 0; i < h.keywords.length; i++) {
      if (this.kw[i] === undefined) {
        this.kw[i] = h.keywords[i];
        kwChanged = true;
      }
    }
    if (kwChanged && !initial) this.pending.keywordsChanged = true;
    let flagcheck = false;
    if (this.lastPid && this.lastPid !== h.lastPid) flagcheck = true;
    this.lastPid = h.lastPid;
    if (!initial && oldValidity && oldValidity !== this.uidValidity) this.pending.uidValidityChanged = true;

    let pos = this.parsed;
    let lastUid = this.msgs.length ? this.msgs[this.msgs.length - 1].uid : 0;
    let dirty = false;
    let uidWarned = false;
    let chunk: Buffer = Buffer.alloc(0);
    let chunkAt = 0;
    const added: Msg[] = [];
    while (pos < st.size) {
      // A window of at least 128 bytes at `pos` (record lines are ~60 bytes).
      if (pos < chunkAt || pos + 128 > chunkAt + chunk.length) {
        chunk = this.pread(Math.min(65536, st.size - pos), pos);
        chunkAt = pos;
      }
      const view = chunk.subarray(pos - chunkAt, pos - chunkAt + 128);
      if (!view.length) this.die(`Unable to read internal header at ${pos}, size = ${st.size}: no data read`);
      const r = parseRecordLine(view, pos);
      if ('error' in r) this.die(r.error);
      if (pos + r.lineLen + r.size > st.size) this.die(`Last message (at ${pos}) runs past end of file (${pos + r.lineLen + r.size} > ${st.size})`);
      let uid = r.uid;
      if (uid && (uid <= lastUid || uid > this.uidLast)) {
        if (!uidWarned) {
          const text = `Invalid UID ${uid.toString(16).padStart(8, '0')} in message ${this.msgs.length + added.length + 1}, rebuilding UIDs`;
          this.ctx.log.warning(`${text} (${this.path})`);
          this.pending.notices.push(text);
          uidWarned = true;
          this.uidValidity = Math.floor(Date.now() / 1000);
          if (!initial) this.pending.uidValidityChanged = true;
        }
        uid = 0;
        dirty = true;
        this.uidLast = lastUid;
      }
      if (r.sys & fEXPUNGED) {
        // Hidden by an expunge in a shared session: skip, keep its UID as seen.
        this.expungedPending = true;
        if (uid) lastUid = uid;
        else {
          lastUid = ++this.uidLast;
          dirty = true;
        }
      } else {
        let sys = r.sys;
        let recent = false;
        let write = false;
        if (uid === 0) {
          // Not numbered yet (mailutil copy, delivery without UIDs): number it now.
          uid = ++this.uidLast;
          write = !this.readOnly;
          dirty = dirty || write;
        }
        if (!(sys & fOLD)) {
          // New to every session so far: recent for this one; a read-write
          // session claims it ("old"), unless it is an internal open.
          recent = !this.silent;
          if (!this.readOnly && !this.silent) {
            sys |= fOLD;
            write = true;
          }
        }
        if (write) {
          this.pwrite(flagField(r.kw, sys, uid), pos + r.lineLen - 23);
          dirty = true;
        }
        const base = { uid, offset: pos, lineLen: r.lineLen, size: r.size, sys, kw: r.kw };
        const m: Msg = { ...base, info: this.makeInfo(base, r.date, r.zone, recent) };
        added.push(m);
        lastUid = uid;
      }
      pos += r.lineLen + r.size;
    }
    for (const m of added) {
      this.msgs.push(m);
      this.byUid.set(m.uid, m);
      if (!initial) this.pending.added.push(m.info);
    }
    if (uidWarned) {
      // Every message got a new UID (UIDVALIDITY changed): renumber the earlier ones too.
      this.ctx.log.info(`Rebuilt UIDs of ${this.path}`);
    }
    if (dirty && !this.readOnly) {
      this.writeHeader(false);
      fsyncSync(this.fd);
    }
    this.parsed = st.size;
    if (added.length && !this.readOnly) {
      const s = fstatSync(this.fd);
      try {
        utimesSync(this.path, Math.floor(Date.now() / 1000), s.mtime);
      } catch {
        /* informational */
      }
    }
    this.snap = this.snapshot();
    return { flagcheck };
  }

  /** mbx_update_header(): UIDVALIDITY, UIDLAST, keywords and the last flag writer's PID. */
  private writeHeader(asFlagWriter: boolean): void {
    if (asFlagWriter) this.lastPid = process.pid;
    this.pwrite(buildHeader({ uidValidity: this.uidValidity, uidLast: this.uidLast, keywords: this.kw }, this.lastPid), 0);
  }

  /** Reread the flags of every known message (another session changed some). */
  private flagSweep(): void {
    for (const m of [...this.msgs]) {
      const b = this.pread(14, m.offset + m.lineLen - 24);
      const t = b.toString('latin1');
      if (t[0] !== ';' || t[13] !== '-') this.die(`Invalid flags for message ${this.msgs.indexOf(m) + 1} (${m.offset} ${m.lineLen}): ${t}`);
      const kw = parseInt(t.slice(1, 9), 16) >>> 0;
      const sys = parseInt(t.slice(9, 13), 16);
      if (sys & fEXPUNGED) {
        // Expunged by a sharing session: gone for us too (the protocol
        // session reports EXPUNGE only where it may).
        this.expungedPending = true;
        this.remove(m);
        this.pending.expunged.push(m.uid);
        continue;
      }
      if (sys !== m.sys || kw !== m.kw) {
        const changedVisible = (sys & ~fOLD) !== (m.sys & ~fOLD) || kw !== m.kw;
        m.sys = sys;
        m.kw = kw;
        m.info.flags = flagsFromBits(sys, kw, this.kw);
        if (changedVisible) this.pending.flagsChanged.push(m.uid);
      }
    }
  }

  private remove(m: Msg): void {
    const i = this.msgs.indexOf(m);
    if (i >= 0) this.msgs.splice(i, 1);
    this.byUid.delete(m.uid);
  }

  private changedOnDisk(): boolean {
    const s = this.snapshot();
    return s.size !== this.snap.size || s.mtimeNs !== this.snap.mtimeNs || s.ctimeNs !== this.snap.ctimeNs;
  }

  /** Bring the in-memory view up to date (under parse permission). */
  private refresh(initial: boolean): void {
    const changed = initial || this.changedOnDisk();
    if (!changed) return;
    const s = this.snapshot();
    // Appends keep the mtime (UW mbx_append restores it); flag writers move
    // it, or at least the ctime without growing the file.
    const flagsMaybeChanged = !initial && (s.mtimeNs !== this.snap.mtimeNs || (s.ctimeNs !== this.snap.ctimeNs && s.size === this.snap.size));
    const { flagcheck } = this.parse(initial);
    if (flagcheck || flagsMaybeChanged) this.flagSweep();
  }

  /** mbx_ping(): parse, sweep flags, and reclaim hidden space when alone. */
  private async ping(initial: boolean): Promise<void> {
    if (this.closed) return;
    if (!initial && !this.changedOnDisk() && !this.expungedPending) return;
    await this.withParse(async () => {
      this.refresh(initial);
      if (!this.readOnly) this.reclaim();
    });
  }

  /**
   * Reclaim the space of hidden records and holes when this session has the
   * file to itself (parse permission held). Returns the bytes reclaimed.
   */
  private reclaim(): number {
    this.findHoles();
    if (!this.expungedPending) return 0;
    const n = this.compact(new Set());
    if (n === undefined) return 0; // others have it open: later
    this.expungedPending = false;
    return n;
  }

  private findHoles(): void {
    if (this.expungedPending) return;
    let pos = HDRSIZE;
    for (const m of this.msgs) {
      if (m.offset !== pos) {
        this.expungedPending = true;
        return;
      }
      pos = m.offset + m.lineLen + m.size;
    }
    if (pos !== this.parsed) this.expungedPending = true;
  }

  /**
   * Slide surviving messages down over `drop` and hidden records when this
   * session has the file to itself. Returns the bytes reclaimed (0 = nothing
   * to do), or undefined when others have the mailbox open.
   */
  private compact(drop: Set<number>): number | undefined {
    return this.tryExclusive(() => {
      const keep = this.msgs.filter((m) => !drop.has(m.uid));
      // First position that changes.
      let pos = HDRSIZE;
      let i = 0;
      for (; i < keep.length; i++) {
        if (keep[i].offset !== pos) break;
        pos += keep[i].lineLen + keep[i].size;
      }
      const oldSize = fstatSync(this.fd).size;
      if (i === keep.length && pos === oldSize) {
        for (const m of this.msgs) if (drop.has(m.uid)) this.remove(m);
        return 0;
      }
      const start = pos;
      const j = beginJournal(this.path, this.fd, start, oldSize);
      const buf = Buffer.allocUnsafe(1 << 20);
      for (; i < keep.length; i++) {
        const m = keep[i];
        const len = m.lineLen + m.size;
        let done = 0;
        while (done < len) {
          const n = j.read(buf, 0, Math.min(buf.length, len - done), m.offset + done);
          if (n <= 0) throw new StoreError(`Unable to read message ${m.uid} during compaction`, 'SERVERBUG');
          this.pwrite(buf.subarray(0, n), pos + done);
          done += n;
        }
        m.offset = pos;
        pos += len;
      }
      ftruncateSync(this.fd, pos);
      fsyncSync(this.fd);
      j.commit();
      for (const m of this.msgs) if (drop.has(m.uid)) this.remove(m);
      this.parsed = pos;
      return oldSize - pos;
    });
  }

  private setTimesAfterWrite(): void {
    try {
      const s = fstatSync(this.fd);
      utimesSync(this.path, Math.floor(Date.now() / 1000), s.mtime);
    } catch {
      /* informational */
    }
    this.snap = this.snapshot();
  }

  // ------------------------------------------------------------- reading

  async read(uid: number): Promise<Buffer | null> {
    const m = this.byUid.get(uid);
    if (!m || this.closed) return null;
    return this.pread(m.size, m.offset + m.lineLen);
  }

  async readHeader(uid: number): Promise<Buffer | null> {
    const m = this.byUid.get(uid);
    if (!m || this.closed) return null;
    if (m.hdrLen === undefined) {
      let len = Math.min(m.size, 16384);
      for (;;) {
        const b = this.pread(len, m.offset + m.lineLen);
        const i = b.indexOf('\r\n\r\n', 0, 'latin1');
        if (i >= 0) {
          m.hdrLen = i + 4;
          return b.subarray(0, i + 4);
        }
        if (len >= m.size) {
          m.hdrLen = m.size;
          return b;
        }
        len = Math.min(m.size, len * 4);
      }
    }
    return this.pread(m.hdrLen, m.offset + m.lineLen);
  }

  // ------------------------------------------------------------- writing

  async store(uids: number[], op: FlagOp, flags: string[]): Promise<number[]> {
    this.requireWritable();
    const changed: number[] = [];
    await this.withParse(async () => {
      this.refresh(false);
      const before = this.kw.length;
      for (const uid of uids) {
        const m = this.byUid.get(uid);
        if (!m) continue;
        const r = applyFlagOp(m.sys, m.kw, op, flags, this.kw, true);
        if (r.sys === m.sys && r.kw === m.kw) continue;
        m.sys = r.sys | fOLD;
        m.kw = r.kw;
        m.info.flags = flagsFromBits(m.sys, m.kw, this.kw);
        this.pwrite(flagField(m.kw, m.sys, m.uid), m.offset + m.lineLen - 23);
        changed.push(uid);
      }
      if (this.kw.length !== before) this.pending.keywordsChanged = true;
      if (changed.length || this.kw.length !== before) {
        // Flags (and keyword names) only: synced before the reply only under mail-fsync = always.
        const sync = !!this.ctx.syncFlags;
        if (sync) fsyncSync(this.fd);
        if (this.kw.length !== before || this.lastPid !== process.pid) this.writeHeader(true);
        if (sync) fsyncSync(this.fd);
        this.setTimesAfterWrite();
      }
    });
    return changed;
  }

  async expunge(uids?: number[]): Promise<number[]> {
    this.requireWritable();
    let gone: number[] = [];
    await this.withParse(async () => {
      this.refresh(false);
      const set = uids ? new Set(uids) : undefined;
      gone = this.msgs.filter((m) => m.sys & fDELETED && (!set || set.has(m.uid))).map((m) => m.uid);
      const drop = new Set(gone);
      const reclaimed = this.compact(drop);
      if (reclaimed === undefined) {
        // Shared: hide the records (0x8000); an exclusive session reclaims the space later.
        for (const uid of gone) {
          const m = this.byUid.get(uid)!;
          m.sys |= fEXPUNGED;
          this.pwrite(flagField(m.kw, m.sys, m.uid), m.offset + m.lineLen - 23);
          this.remove(m);
        }
        this.expungedPending = this.expungedPending || gone.length > 0;
        fsyncSync(this.fd);
      } else this.expungedPending = false;
      this.setTimesAfterWrite();
    });
    return gone;
  }

  append(messages: AppendMessage[]): Promise<AppendResult> {
    return this.appendWith(messages, true);
  }

  /** Append to this mailbox as a mailbox that is not open (no keyword creation). */
  appendClosed(messages: AppendMessage[]): Promise<AppendResult> {
    return this.appendWith(messages, false);
  }

  /**
   * `open`: an APPEND by the session that has the mailbox selected — it may
   * create keywords, and the new messages become its own (parsed at once).
   */
  private async appendWith(messages: AppendMessage[], open: boolean): Promise<AppendResult> {
    this.requireWritable();
    let result: AppendResult = { uidValidity: 0, uids: [], warnings: [] };
    await this.withParse(async () => {
      this.refresh(false);
      result = this.appendLocked(messages, open);
      if (open) this.refresh(false);
    });
    return result;
  }

  async adoptUidValidity(uidValidity: number): Promise<boolean> {
    this.requireWritable();
    return this.withParse(async () => {
      this.refresh(false);
      if (this.msgs.length || this.uidLast || this.parsed !== HDRSIZE || !uidValidity) return false;
      this.uidValidity = uidValidity >>> 0;
      this.writeHeader(false);
      fsyncSync(this.fd);
      this.snap = this.snapshot();
      return true;
    });
  }

  /** Messages no session has claimed yet (STATUS RECENT). */
  recentOnDisk(): number {
    return this.msgs.filter((m) => !(m.sys & fOLD)).length;
  }

  /** Append records at the end (parse permission held). `create`: keywords may be created. */
  appendLocked(messages: AppendMessage[], create: boolean): AppendResult {
    const warnings: string[] = [];
    const uids: number[] = [];
    const parts: Buffer[] = [];
    const savedLast = this.uidLast;
    const kwBefore = this.kw.length;
    for (const am of messages) {
      const data = toCrlf(am.data);
      if (!data.length) throw new StoreError('Append of zero-length message', 'CANNOT');
      const flags = am.flags ?? [];
      for (const f of flags) {
        if (f.startsWith('\\') || this.kw.includes(f)) continue;
        if (create && this.kw.length < MAX_KEYWORDS) this.kw.push(f);
        else warnings.push(`Unknown flag: ${f}`);
      }
      const date = am.internalDate ?? new Date();
      const zone = am.internalDateZone ?? localZone(date);
      const uid = am.uid && am.uid > this.uidLast ? am.uid : this.uidLast + 1;
      this.uidLast = uid;
      uids.push(uid);
      parts.push(Buffer.from(recordLine(date, zone, data.length, keywordMask(flags, this.kw), sysBits(flags), uid), 'latin1'), data);
    }
    const all = Buffer.concat(parts);
    const stBefore = fstatSync(this.fd);
    const oldSize = stBefore.size;
    const mtimeBefore = stBefore.mtime;
    const j = beginAppend(this.path, this.fd, oldSize, all);
    try {
      this.pwrite(all, oldSize);
      // UIDLAST (and new keywords) in the file header, under the same fsync
      // (the append journal keeps a whole append or cuts a partial one).
      if (this.kw.length !== kwBefore) this.writeHeader(false);
      else this.pwrite(this.uidLast.toString(16).padStart(8, '0'), 15);
      fsyncSync(this.fd);
    } catch (e) {
      let cut = false;
      try {
        ftruncateSync(this.fd, oldSize);
        fsyncSync(this.fd);
        cut = true;
      } catch {
        /* the journal cuts it back at the next open */
      }
      this.uidLast = savedLast;
      this.kw.length = kwBefore;
      if (cut) j.abandon();
      throw mapErr(e, this.name);
    }
    j.commit();
    try {
      // As mbx_append: atime = now - 1 ("new mail"), mtime kept, so sharing
      // sessions parse the new tail without sweeping every flag.
      utimesSync(this.path, Math.floor(Date.now() / 1000) - 1, mtimeBefore);
    } catch {
      /* informational */
    }
    if (this.kw.length !== kwBefore) this.pending.keywordsChanged = true;
    return { uidValidity: this.uidValidity, uids, warnings };
  }

  async checkpoint(): Promise<string | undefined> {
    if (this.readOnly || this.closed || this.dead) return undefined;
    let n = 0;
    await this.withParse(async () => {
      this.refresh(false);
      n = this.reclaim();
    });
    return n > 0 ? `Reclaimed ${n} bytes of expunged space` : undefined;
  }

  async sync(): Promise<MailboxChanges> {
    if (this.closed || this.dead) return emptyChanges();
    try {
      const st = fstatSync(this.fd);
      if (st.nlink === 0) this.lost(`Mailbox ${this.name} was deleted`);
    } catch {
      /* ignore */
    }
    await this.ping(false);
    return this.takeChanges();
  }

  async close(opts: { expunge?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.readOnly && !this.dead) {
        if (opts.expunge) await this.expunge();
        else await this.checkpoint();
      }
    } finally {
      this.closed = true;
      this.release();
    }
  }
}
