/**
 * An open mix mailbox (UW mix.c semantics, formats.md §3, locking.md §4).
 *
 * Locks: shared flock on `.mixmeta` for the session (exclusive, non-blocking,
 * only to burp); `.mixindex` shared to read and exclusive to append or
 * expunge; `.mixstatus` exclusive to change flags. No /tmp or dot-locks.
 * The S sequences of the three files tell sessions what changed.
 *
 * Beyond UW, for crash safety: text files are rewritten by writing only the
 * bytes that change (appends write their new records before the sequence),
 * a rewrite that shrinks a file is journalled; burping copies the surviving
 * messages of a data file with holes into a new data file and points the
 * index at it before the old file is removed, so no moment exists at which
 * the index points at moved bytes.
 */
import { openSync, closeSync, readSync, writeSync, fsyncSync, fstatSync, ftruncateSync, unlinkSync, readdirSync, statSync, truncateSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { DriverContext } from '../../driver.js';
import type { AppendMessage, AppendResult, FlagOp, MailboxChanges, MessageInfo, OpenOptions } from '../../types.js';
import { StoreError } from '../../types.js';
import { beginJournal, recoverJournal } from '../../journal.js';
import * as posix from '../../../runtime/posix.js';
import { applyFlagOp, flagsFromBits, fDELETED, fOLD, headerLength, keywordMask, MAX_KEYWORDS, mixDate, nextModseq, sysBits, toCrlf } from '../flagbits.js';
import { INDEX, META, MIXDATAROLL, STATUS, buildMeta, dataFileName, indexLine, isDataFileName, msgLine, parseIndex, parseMeta, parseStatus, readSeq, seqLine, statusLine, type IndexRecord, type Meta } from './format.js';
import { localZone } from '../unix/fromline.js';
import { BaseMailbox, emptyChanges, mapErr } from '../base.js';
import { preadFully, readAllFd } from '../../io.js';
import { flockWait } from '../../lock/index.js';

/** An index record (internal date kept as text) with its status and the session's view of it. */
interface Msg extends Omit<IndexRecord, 'date' | 'zone'> {
  sys: number;
  kw: number;
  mod: number;
  /** Claimed as old by a session (UW elt->valid). */
  valid: boolean;
  info: MessageInfo;
}

const CRASH_AT = Number(process.env.UWIMAP_TEST_CRASH_AFTER_BYTES ?? 0);
let crashCount = 0;
function maybeCrash(n: number): void {
  if (!CRASH_AT) return;
  crashCount += n;
  if (crashCount >= CRASH_AT) process.kill(process.pid, 'SIGKILL');
}

function pwrite(fd: number, b: Buffer, pos: number): void {
  let w = 0;
  while (w < b.length) {
    const n = writeSync(fd, b, w, b.length - w, pos + w);
    w += n;
    maybeCrash(n);
  }
}

/**
 * Replace the content of a small text file whose current bytes are `old`
 * with `next`, crash-safely: growing files get their new tail first and
 * then the changed bytes in place (each record keeps its width); a file
 * that shrinks is journalled first.
 */
export function rewriteFile(path: string, fd: number, old: Buffer, next: Buffer, opts: { syncSameSize?: boolean } = {}): void {
  if (next.length >= old.length) {
    if (next.length > old.length) {
      pwrite(fd, next.subarray(old.length), old.length);
      fsyncSync(fd);
    }
    let i = 0;
    while (i < old.length) {
      if (old[i] === next[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < old.length && old[j] !== next[j]) j++;
      pwrite(fd, next.subarray(i, j), i);
      i = j;
    }
    // Records overwritten in place, each keeping its width: a file of the
    // same size may be left to the kernel's writeback (flag changes under
    // mail-fsync = optimized).
    if (next.length > old.length || opts.syncSameSize !== false) fsyncSync(fd);
    return;
  }
  const j = beginJournal(path, fd, 0, old.length);
  pwrite(fd, next, 0);
  ftruncateSync(fd, next.length);
  fsyncSync(fd);
  j.commit();
}

export class MixMailbox extends BaseMailbox<Msg> {
  readonly driver = 'mix';
  private newmsg = 0;
  private metaseq = 0;
  private indexseq = 0;
  private statusseq = 0;
  private metaBytes: Buffer = Buffer.alloc(0);
  private indexBytes: Buffer = Buffer.alloc(0);
  private statusBytes: Buffer = Buffer.alloc(0);
  private mfd = -1;
  private dataFds = new Map<number, number>();
  private info?: string;

  private constructor(
    readonly dir: string,
    readonly name: string,
    ctx: DriverContext,
    opts: OpenOptions,
  ) {
    super(ctx, opts);
  }
  protected get location(): string {
    return this.dir;
  }

  static async open(dir: string, name: string, ctx: DriverContext, opts: OpenOptions = {}): Promise<MixMailbox> {
    const mb = new MixMailbox(dir, name, ctx, opts);
    try {
      await mb.init();
    } catch (e) {
      mb.release();
      throw e;
    }
    return mb;
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  // ------------------------------------------------------------ opening

  private async init(): Promise<void> {
    this.mfd = this.openFile(this.file(META));
    if (!(await this.flockWait(this.mfd, posix.LOCK_SH))) throw new StoreError('Error opening mix metadata file: lock timeout', 'INUSE');
    if (this.opts.exclusive && !this.readOnly) {
      if (!posix.flockSync(this.mfd, posix.LOCK_EX | posix.LOCK_NB)) {
        posix.flockSync(this.mfd, posix.LOCK_SH);
        throw new StoreError("Can't get lock.  Mailbox in use", 'INUSE');
      }
      posix.flockSync(this.mfd, posix.LOCK_SH);
    }
    await this.withFiles(!this.readOnly, async (f) => {
      if (!this.readOnly) {
        let rec = false;
        for (const [n, fd] of [[INDEX, f.ifd], [STATUS, f.sfd], [META, this.mfd]] as const) if (fd >= 0 && recoverJournal(this.file(n), fd)) rec = true;
        if (rec) this.ctx.log.warning(`Recovered ${this.dir} from an interrupted rewrite`);
      }
      this.parse(f, true);
    });
    // Try a burp in case we are alone (mix_open does an empty expunge).
    if (!this.readOnly) await this.expungeWork(undefined, true);
  }

  private release(): void {
    for (const fd of this.dataFds.values()) closeSync(fd);
    this.dataFds.clear();
    if (this.mfd >= 0) {
      try {
        posix.flockSync(this.mfd, posix.LOCK_UN);
      } catch {
        /* ignore */
      }
      closeSync(this.mfd);
      this.mfd = -1;
    }
  }

  /** flock with the configured wait (UW blocks; we poll without stopping the event loop). */
  private flockWait(fd: number, op: number): Promise<boolean> {
    return flockWait(fd, op, (this.ctx.lockWait ?? 300) * 1000, 10);
  }

  /**
   * Open and lock the index (exclusive when `write`) and the status file
   * (exclusive unless read-only), run `f`, release both.
   */
  private async withFiles<T>(write: boolean, f: (x: { ifd: number; sfd: number }) => Promise<T> | T): Promise<T> {
    if (this.dead) throw new StoreError(this.dead, 'SERVERBUG');
    write = write && !this.readOnly;
    let ifd = -1;
    let sfd = -1;
    try {
      try {
        ifd = openSync(this.file(INDEX), write ? constants.O_RDWR : constants.O_RDONLY);
      } catch (e) {
        this.die(`Error opening mix index file: ${(e as Error).message}`);
      }
      if (!(await this.flockWait(ifd, write ? posix.LOCK_EX : posix.LOCK_SH))) throw new StoreError('Unable to lock mix index file', 'INUSE');
      try {
        sfd = openSync(this.file(STATUS), this.readOnly ? constants.O_RDONLY : constants.O_RDWR);
      } catch (e) {
        this.die(`Error opening mix status file: ${(e as Error).message}`);
      }
      if (!(await this.flockWait(sfd, this.readOnly ? posix.LOCK_SH : posix.LOCK_EX))) throw new StoreError('Unable to lock mix status file', 'INUSE');
      return await f({ ifd, sfd });
    } finally {
      if (sfd >= 0) closeSync(sfd);
      if (ifd >= 0) closeSync(ifd);
    }
  }

  private makeInfo(m: Omit<Msg, 'info'>, date: Date, zone: number, recent: boolean): MessageInfo {
    return { uid: m.uid, flags: flagsFromBits(m.sys, m.kw, this.kw), recent, internalDate: date, internalDateZone: zone, size: m.size };
  }

  // ------------------------------------------------------------- parsing

  /** mix_parse(): metadata, index and status, as far as they changed. */
  private parse(f: { ifd: number; sfd: number }, initial: boolean): void {
    // Metadata.
    const metaBytes = readAllFd(this.mfd);
    const mt = parseMeta(metaBytes.toString('latin1'));
    if ('error' in mt) this.die(mt.error);
    if (mt.seq < this.metaseq) this.die('Error in mix metadata file sequence record');
    this.metaBytes = metaBytes;
    let uidChanged = false;
    if (mt.seq !== this.metaseq) {
      this.metaseq = mt.seq;
      if (this.uidValidity && mt.uidValidity !== this.uidValidity) {
        this.pending.uidValidityChanged = true;
        uidChanged = true;
      }
      this.uidValidity = mt.uidValidity;
      this.uidLast = mt.uidLast;
      this.newmsg = mt.newmsg;
      for (let i = 0; i < mt.keywords.length && i < MAX_KEYWORDS; i++) {
        if (this.kw[i] === undefined) {
          this.kw[i] = mt.keywords[i];
          if (!initial) this.pending.keywordsChanged = true;
        } else if (this.kw[i] !== mt.keywords[i]) this.die('Error in mix metadata file keyword record');
      }
    }
    // Index: only when its sequence moved.
    const seqNow = readSeq(preadFully(f.ifd, 16, 0).toString('latin1'));
    if (seqNow === undefined || seqNow < this.indexseq) this.die('Error in mix index file sequence record');
    if (uidChanged || seqNow > this.indexseq || initial) {
      const bytes = readAllFd(f.ifd);
      const ix = parseIndex(bytes.toString('latin1'));
      if ('error' in ix) this.die(ix.error);
      this.indexBytes = bytes;
      this.indexseq = ix.seq;
      const next: Msg[] = [];
      let prev = 0;
      let k = 0;
      let metaRepair = false;
      for (const r of ix.records) {
        if (r.uid <= prev) this.die(`mix index backwards UID: ${r.uid.toString(16)}`);
        prev = r.uid;
        if (r.uid > this.uidLast) {
          if (this.readOnly) this.die(`mix index invalid UID (${r.uid.toString(16).padStart(8, '0')} < ${this.uidLast.toString(16).padStart(8, '0')})`);
          this.ctx.log.warning(`mix index invalid UID (${r.uid.toString(16)} > ${this.uidLast.toString(16)}), repaired (${this.dir})`);
          this.uidLast = r.uid;
          metaRepair = true;
        }
        // Messages we knew with a lower UID are gone (expunged by someone).
        while (k < this.msgs.length && this.msgs[k].uid < r.uid) {
          this.pending.expunged.push(this.msgs[k].uid);
          this.byUid.delete(this.msgs[k].uid);
          k++;
        }
        const old = k < this.msgs.length && this.msgs[k].uid === r.uid ? this.msgs[k] : undefined;
        if (old) {
          k++;
          if (old.size !== r.size || old.dateText !== r.dateText) this.die(`mix index data mismatch: ${r.uid.toString(16)}`);
          // A burp by another session may have moved the data.
          old.file = r.file;
          old.pos = r.pos;
          old.hpos = r.hpos;
          old.hsiz = r.hsiz;
          next.push(old);
          continue;
        }
        const base = { uid: r.uid, dateText: r.dateText, size: r.size, file: r.file, pos: r.pos, hpos: r.hpos, hsiz: r.hsiz, sys: 0, kw: 0, mod: 0, valid: false };
        const m: Msg = { ...base, info: this.makeInfo(base, r.date, r.zone, !this.silent) };
        next.push(m);
        this.byUid.set(m.uid, m);
        if (!initial) this.pending.added.push(m.info);
      }
      while (k < this.msgs.length) {
        this.pending.expunged.push(this.msgs[k].uid);
        this.byUid.delete(this.msgs[k].uid);
        k++;
      }
      this.msgs = next;
      if (metaRepair) this.writeMeta();
    }
    // Status.
    const sbytes = readAllFd(f.sfd);
    const st = parseStatus(sbytes.toString('latin1'));
    if ('error' in st) this.die(st.error);
    if (st.seq < this.statusseq && this.msgs.length && st.seq !== 1) this.die(`Error in mix status sequence record, i=${st.seq.toString(16)}, seq=${this.statusseq.toString(16)}`);
    this.statusBytes = sbytes;
    let update = false;
    if (st.seq !== this.statusseq || initial) {
      if (st.seq > this.statusseq) this.statusseq = st.seq;
      for (const r of st.records) {
        const m = this.byUid.get(r.uid);
        if (!m) continue;
        if (m.valid && r.mod === m.mod) continue;
        const wasValid = m.valid;
        const visibleChange = m.sys !== (r.sys & ~fOLD) || m.kw !== r.kw;
        m.kw = r.kw;
        m.mod = r.mod;
        m.sys = r.sys & ~fOLD;
        m.info.flags = flagsFromBits(m.sys, m.kw, this.kw);
        if (wasValid) {
          if (visibleChange && !initial) this.pending.flagsChanged.push(m.uid);
        } else if (r.sys & fOLD) {
          m.valid = true;
          m.info.recent = false;
        } else if (!this.readOnly && !this.silent) {
          // Recent for us: claim it (written back with the "old" bit).
          m.valid = true;
          m.mod = nextModseq(m.mod);
          update = true;
        } else if (this.silent) m.info.recent = false;
      }
      if (st.bad) {
        this.ctx.log.warning(`Error in mix status file message record${this.readOnly ? '' : ', fixing'}: ${st.bad} (${this.dir})`);
        if (!this.readOnly) update = true;
      }
    }
    // Messages with no status record at all are new: claim them too.
    if (!this.readOnly && !this.silent) {
      const inStatus = new Set(st.records.map((r) => r.uid));
      for (const m of this.msgs) if (!m.valid && !inStatus.has(m.uid) && m.info.recent) {
        m.valid = true;
        update = true;
      }
    }
    if (update) {
      this.statusseq = nextModseq(this.statusseq);
      this.writeStatus(f.sfd);
    }
  }

  // ------------------------------------------------------------- writing the text files

  private writeMeta(): void {
    if (this.readOnly) return;
    this.metaseq = nextModseq(this.metaseq);
    const m: Meta = { seq: this.metaseq, uidValidity: this.uidValidity, uidLast: this.uidLast, newmsg: this.newmsg, keywords: this.kw };
    const next = Buffer.from(buildMeta(m), 'latin1');
    rewriteFile(this.file(META), this.mfd, this.metaBytes, next);
    this.metaBytes = next;
  }

  private writeIndex(ifd: number, seq = this.indexseq, msgs: readonly Msg[] = this.msgs): void {
    const parts = [seqLine(seq)];
    for (const m of msgs) parts.push(indexLine(m));
    const next = Buffer.from(parts.join(''), 'latin1');
    rewriteFile(this.file(INDEX), ifd, this.indexBytes, next);
    this.indexBytes = next;
  }

  /** `flagsOnly`: a STORE (only flags changed), synced only under mail-fsync = always. */
  private writeStatus(sfd: number, seq = this.statusseq, msgs: readonly Msg[] = this.msgs, flagsOnly = false): void {
    const parts = [seqLine(seq)];
    for (const m of msgs) {
      if (!m.mod) m.mod = seq;
      parts.push(statusLine({ uid: m.uid, kw: m.kw, sys: m.sys | (m.valid ? fOLD : 0), mod: m.mod }));
    }
    const next = Buffer.from(parts.join(''), 'latin1');
    rewriteFile(this.file(STATUS), sfd, this.statusBytes, next, { syncSameSize: !flagsOnly || !!this.ctx.syncFlags });
    this.statusBytes = next;
  }

  // ------------------------------------------------------------- reading

  private dataFd(n: number): number {
    let fd = this.dataFds.get(n);
    if (fd === undefined) {
      fd = openSync(this.file(dataFileName(n)), constants.O_RDONLY);
      this.dataFds.set(n, fd);
    }
    return fd;
  }

  private readAt(m: Msg, len: number, from: number): Buffer | null {
    let fd: number;
    try {
      fd = this.dataFd(m.file);
    } catch {
      this.pending.notices.push(`Missing mix data file for message UID ${m.uid}`);
      return null;
    }
    const tok = Buffer.alloc(Math.min(m.hpos, 64));
    readSync(fd, tok, 0, tok.length, m.pos);
    const t = tok.toString('latin1');
    if (!t.startsWith(':msg:') || parseInt(t.slice(5, 13), 16) !== m.uid) {
      const text = `Error reading mix message header, uid=${m.uid.toString(16)}, s=${m.size.toString(16)}, h=${t.split(/\r|\n/)[0]}`;
      this.ctx.log.error(`${text} (${this.dir})`);
      this.pending.notices.push(text);
      return Buffer.alloc(0);
    }
    return preadFully(fd, len, m.pos + m.hpos + from);
  }

  async read(uid: number): Promise<Buffer | null> {
    const m = this.byUid.get(uid);
    if (!m || this.closed) return null;
    return this.readAt(m, m.size, 0);
  }

  async readHeader(uid: number): Promise<Buffer | null> {
    const m = this.byUid.get(uid);
    if (!m || this.closed) return null;
    return this.readAt(m, m.hsiz, 0);
  }

  // ------------------------------------------------------------- changes

  async store(uids: number[], op: FlagOp, flags: string[]): Promise<number[]> {
    this.requireWritable();
    const changed: number[] = [];
    await this.withFiles(false, async (f) => {
      this.parse(f, false);
      const before = this.kw.length;
      const seq = nextModseq(this.statusseq);
      for (const uid of uids) {
        const m = this.byUid.get(uid);
        if (!m) continue;
        const r = applyFlagOp(m.sys, m.kw, op, flags, this.kw, true);
        if (r.sys === m.sys && r.kw === m.kw) continue;
        m.sys = r.sys;
        m.kw = r.kw;
        m.mod = seq;
        m.info.flags = flagsFromBits(m.sys, m.kw, this.kw);
        changed.push(uid);
      }
      if (changed.length) {
        this.statusseq = seq;
        this.writeStatus(f.sfd, seq, this.msgs, true);
      }
      if (this.kw.length !== before) {
        this.pending.keywordsChanged = true;
        this.writeMeta();
      }
    });
    return changed;
  }

  append(messages: AppendMessage[]): Promise<AppendResult> {
    return this.appendWith(messages, true);
  }

  /** Append without creating keywords (a mailbox that is not open, UW "Unknown flag"). */
  appendClosed(messages: AppendMessage[]): Promise<AppendResult> {
    return this.appendWith(messages, false);
  }

  /**
   * `open`: an APPEND by the session that has the mailbox selected — it may
   * create keywords, and the new messages become its own (parsed at once,
   * recent and claimed).
   */
  private async appendWith(messages: AppendMessage[], open: boolean): Promise<AppendResult> {
    this.requireWritable();
    let result: AppendResult = { uidValidity: 0, uids: [], warnings: [] };
    await this.withFiles(true, async (f) => {
      this.parse(f, false);
      result = this.appendLocked(f, messages, open);
    });
    if (open) await this.withFiles(false, async (f) => this.parse(f, false));
    return result;
  }

  async adoptUidValidity(uidValidity: number): Promise<boolean> {
    this.requireWritable();
    return this.withFiles(true, async (f) => {
      this.parse(f, false);
      if (this.msgs.length || this.uidLast || !uidValidity) return false;
      this.uidValidity = uidValidity >>> 0;
      this.writeMeta();
      return true;
    });
  }

  /** Messages no session has claimed yet (STATUS RECENT). */
  recentOnDisk(): number {
    return this.msgs.filter((m) => !m.valid).length;
  }

  /** mix_append(): data file, then metadata, index and status (index locked exclusively). */
  private appendLocked(f: { ifd: number; sfd: number }, messages: AppendMessage[], create: boolean): AppendResult {
    const warnings: string[] = [];
    const prepared = messages.map((am) => {
      const data = toCrlf(am.data);
      if (!data.length) throw new StoreError('Append of zero-length message', 'CANNOT');
      return { am, data };
    });
    const kwBefore = this.kw.length;
    const savedLast = this.uidLast;
    const savedNew = this.newmsg;
    let seq = nextModseq(this.metaseq);
    if (this.indexseq >= seq) seq = this.indexseq + 1;
    if (this.statusseq >= seq) seq = this.statusseq + 1;
    // The data file: the current one unless it would pass the roll size.
    const first = prepared[0];
    const firstLen = first ? first.data.length + 45 : 0;
    const last = this.msgs.length ? this.msgs[this.msgs.length - 1] : undefined;
    const curend = last && last.file === this.newmsg ? last.pos + last.hpos + last.size : 0;
    let fd = -1;
    let size = 0;
    const mode = statSync(this.file(META)).mode & 0o777;
    try {
      fd = openSync(this.file(dataFileName(this.newmsg)), constants.O_RDWR | (curend ? 0 : constants.O_CREAT), mode);
      size = fstatSync(fd).size;
      if (!(curend <= size && (!size || size + firstLen <= MIXDATAROLL))) {
        if (curend > size) this.ctx.log.warning(`short mix message file ${this.newmsg.toString(16)} (${curend} > ${size}), rolling`);
        closeSync(fd);
        fd = -1;
        for (;;) {
          this.newmsg = nextModseq(this.newmsg);
          try {
            fd = openSync(this.file(dataFileName(this.newmsg)), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, mode);
            break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          }
        }
        size = 0;
      }
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      this.newmsg = savedNew;
      throw mapErr(e, this.name);
    }
    const added: Msg[] = [];
    const uids: number[] = [];
    try {
      const parts: Buffer[] = [];
      let pos = size;
      for (const { am, data } of prepared) {
        const flags = am.flags ?? [];
        for (const fl of flags) {
          if (fl.startsWith('\\') || this.kw.includes(fl)) continue;
          if (create && this.kw.length < MAX_KEYWORDS) this.kw.push(fl);
          else warnings.push(`Unknown flag: ${fl}`);
        }
        const date = am.internalDate ?? new Date();
        const zone = am.internalDateZone ?? localZone(date);
        const uid = am.uid && am.uid > this.uidLast ? am.uid : this.uidLast + 1;
        this.uidLast = uid;
        const line = msgLine(uid, date, zone, data.length);
        parts.push(Buffer.from(line, 'latin1'), data);
        const base = { uid, dateText: mixDate(date, zone), size: data.length, file: this.newmsg, pos, hpos: line.length, hsiz: headerLength(data), sys: sysBits(flags), kw: keywordMask(flags, this.kw), mod: seq, valid: false };
        added.push({ ...base, info: this.makeInfo(base, date, zone, false) });
        uids.push(uid);
        pos += line.length + data.length;
      }
      pwrite(fd, Buffer.concat(parts), size);
      fsyncSync(fd);
    } catch (e) {
      try {
        ftruncateSync(fd, size);
      } catch {
        /* unreferenced bytes at the end of a data file are harmless */
      }
      closeSync(fd);
      this.uidLast = savedLast;
      this.newmsg = savedNew;
      this.kw.length = kwBefore;
      throw mapErr(e, this.name);
    }
    closeSync(fd);
    // Metadata (UIDLAST, N, keywords), then index, then status. Our own
    // sequences stay one behind what we wrote, so the next parse reads the new
    // messages as any session would (new, recent, claimed when appropriate).
    const all = [...this.msgs, ...added];
    this.metaseq = seq;
    this.writeMeta();
    this.writeIndex(f.ifd, seq, all);
    this.writeStatus(f.sfd, seq, all);
    this.indexseq = seq - 1;
    this.statusseq = seq - 1;
    if (this.kw.length !== kwBefore) this.pending.keywordsChanged = true;
    return { uidValidity: this.uidValidity, uids, warnings };
  }

  async expunge(uids?: number[]): Promise<number[]> {
    this.requireWritable();
    return this.expungeWork(uids ?? null, false);
  }

  /**
   * mix_expunge(): drop \Deleted messages (burp-only when `burpOnly`), and
   * reclaim data-file space when this session has the mailbox alone.
   */
  private async expungeWork(uids: number[] | null | undefined, burpOnly: boolean): Promise<number[]> {
    if (this.readOnly || this.closed || this.dead) return [];
    const gone: number[] = [];
    await this.withFiles(true, async (f) => {
      this.parse(f, false);
      if (!burpOnly) {
        const set = uids ? new Set(uids) : undefined;
        for (const m of [...this.msgs]) {
          if (m.sys & fDELETED && (!set || set.has(m.uid))) {
            gone.push(m.uid);
            this.msgs.splice(this.msgs.indexOf(m), 1);
            this.byUid.delete(m.uid);
          }
        }
      }
      let reclaimed = 0;
      let cleanup: Array<() => void> = [];
      if (posix.flockSync(this.mfd, posix.LOCK_EX | posix.LOCK_NB)) {
        try {
          const r = this.burp();
          reclaimed = r.reclaimed;
          cleanup = r.cleanup;
        } finally {
          if (!posix.flockSync(this.mfd, posix.LOCK_SH | posix.LOCK_NB)) this.die('Unable to re-acquire metadata shared lock!');
        }
      } else if (!posix.flockSync(this.mfd, posix.LOCK_SH | posix.LOCK_NB)) this.die('Unable to re-acquire metadata shared lock!');
      if (gone.length || reclaimed) {
        this.indexseq = nextModseq(this.indexseq);
        this.writeIndex(f.ifd);
        this.statusseq = nextModseq(this.statusseq);
        this.writeStatus(f.sfd);
      }
      // Old data only goes once the index no longer points at it.
      for (const c of cleanup) c();
      if (reclaimed) this.info = `Reclaimed ${reclaimed} bytes of expunged space`;
    });
    return gone;
  }

  /**
   * Plan and do the data-file part of a burp (exclusive access held).
   * Files whose live messages are one run from offset 0 are only cut at the
   * end; files with holes get their live messages copied into a new data
   * file. Removal and truncation of old bytes is returned as `cleanup`, to
   * run after the index points at the new places.
   */
  private burp(): { reclaimed: number; cleanup: Array<() => void> } {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter(isDataFileName);
    } catch {
      return { reclaimed: 0, cleanup: [] };
    }
    const byFile = new Map<number, Msg[]>();
    for (const m of this.msgs) {
      const l = byFile.get(m.file) ?? [];
      l.push(m);
      byFile.set(m.file, l);
    }
    let reclaimed = 0;
    const cleanup: Array<() => void> = [];
    let metaDirty = false;
    for (const name of names) {
      const n = name === '.mix' ? 0 : parseInt(name.slice(4), 16) >>> 0;
      const path = this.file(name);
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        continue;
      }
      const live = (byFile.get(n) ?? []).sort((a, b) => a.pos - b.pos);
      if (!live.length) {
        if (!size) continue;
        reclaimed += size;
        if (n === this.newmsg) cleanup.push(() => truncateSync(path, 0));
        else cleanup.push(() => unlinkSync(path));
        continue;
      }
      let end = 0;
      let contiguous = true;
      for (const m of live) {
        if (m.pos !== end) contiguous = false;
        end = m.pos + m.hpos + m.size;
      }
      if (end > size) {
        this.ctx.log.error(`Unexpected short mix message file ${name} ${size} < ${end} (${this.dir})`);
        continue;
      }
      if (contiguous) {
        if (end < size) {
          reclaimed += size - end;
          cleanup.push(() => truncateSync(path, end));
        }
        continue;
      }
      // Holes: copy the live messages into a fresh data file.
      const src = openSync(path, constants.O_RDONLY);
      let dst = -1;
      let fresh = 0;
      try {
        const mode = fstatSync(src).mode & 0o777;
        fresh = this.newmsg;
        for (;;) {
          fresh = nextModseq(Math.max(fresh, n));
          try {
            dst = openSync(this.file(dataFileName(fresh)), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, mode);
            break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          }
        }
        let out = 0;
        const moved: Array<[Msg, number]> = [];
        for (const m of live) {
          const len = m.hpos + m.size;
          const b = preadFully(src, len, m.pos);
          if (!b.subarray(0, 5).equals(Buffer.from(':msg:'))) throw new StoreError(`Bad message token in mix message file at ${m.pos}`, 'SERVERBUG');
          pwrite(dst, b, out);
          moved.push([m, out]);
          out += len;
        }
        fsyncSync(dst);
        reclaimed += size - out;
        for (const [m, p] of moved) {
          m.file = fresh;
          m.pos = p;
        }
        const oldFd = this.dataFds.get(n);
        cleanup.push(() => {
          if (oldFd !== undefined) {
            closeSync(oldFd);
            this.dataFds.delete(n);
          }
          unlinkSync(path);
        });
        if (n === this.newmsg) {
          this.newmsg = fresh;
          metaDirty = true;
        }
      } catch (e) {
        if (dst >= 0) {
          closeSync(dst);
          dst = -1;
          try {
            unlinkSync(this.file(dataFileName(fresh)));
          } catch {
            /* ignore */
          }
        }
        this.ctx.log.error(`Burp of ${name} failed: ${(e as Error).message} (${this.dir})`);
      } finally {
        closeSync(src);
        if (dst >= 0) closeSync(dst);
      }
    }
    if (metaDirty) this.writeMeta();
    return { reclaimed, cleanup };
  }

  async checkpoint(): Promise<string | undefined> {
    if (this.readOnly || this.closed || this.dead) return undefined;
    this.info = undefined;
    await this.expungeWork(undefined, true);
    const i = this.info;
    this.info = undefined;
    return i;
  }

  async sync(): Promise<MailboxChanges> {
    if (this.closed || this.dead) return emptyChanges();
    try {
      if (fstatSync(this.mfd).nlink === 0) this.lost(`Mailbox ${this.name} was deleted`);
    } catch {
      /* ignore */
    }
    await this.withFiles(false, async (f) => this.parse(f, false));
    return this.takeChanges();
  }

  async close(opts: { expunge?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.readOnly && !this.dead) await this.expungeWork(undefined, !opts.expunge);
    } finally {
      this.closed = true;
      this.release();
    }
  }
}

/** Whether a directory holds a mix mailbox (a regular `.mixmeta`). */
export function isMixDir(path: string): boolean {
  try {
    return !!statSync(join(path, META), { throwIfNoEntry: false })?.isFile();
  } catch {
    return false;
  }
}
