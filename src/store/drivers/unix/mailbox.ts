/**
 * An open traditional UNIX mailbox (UW's "unix" driver), shared read-write
 * between our sessions and honouring UW's lock protocol toward UW processes.
 */
import { BaseMailbox, emptyChanges, mapErr } from '../base.js';
export { emptyChanges, mapErr };
import { preadFully, indexIn, Scratch, Slab, writevFully } from '../../io.js';
import { MAX_KEYWORDS, flagsFromBits, sysBits, keywordMask } from '../flagbits.js';
import { MessageTable, SEEN, DELETED, FLAGGED, ANSWERED, DRAFT, OLD, RECENT } from './table.js';
import { closeSync, fstatSync, statSync, readSync, writeSync, fsyncSync, ftruncateSync, utimesSync } from 'node:fs';
import type { AppendMessage, AppendResult, FlagOp, MboxForm, StoreRequest, MailboxChanges, MessageInfo, OpenOptions } from '../../types.js';
import { StoreError } from '../../types.js';
import type { DriverContext } from '../../driver.js';
import { scanMailbox, scanTable, addRange, type ScannedMessage, type FieldRecords } from './scan.js';
import { pseudoMessage, statusBlock, appendBlock, pad10, statusLetters, xstatusLetters, type StatusFlags } from './format.js';
import { formatFromLine, localZone } from './fromline.js';
import { beginAppend, beginJournal, recoverJournal } from '../../journal.js';
import { loadScan, saveScan, scanCacheOn, type CachedScan } from './cache.js';
import { dotLock, lockFileExclusive, lockFileShared, unlockFile, sessionLock, onKissOfDeath, type SessionLock } from '../../lock/index.js';
import { prepareForMbox, mboxParts, dropCRs } from './convert.js';
import { FieldIndex, stageFields } from './fields.js';
import { assignUids, deriveFlags, parseImapHeader, rowsToWrite, storedMeta } from './derive.js';
import type { StagedFile } from './cache.js';

export { MAX_KEYWORDS };
/** Crash tests only: die (SIGKILL) after this many bytes of a rewrite are written. */
const CRASH_AT = Number(process.env.UWIMAP_TEST_CRASH_AFTER_BYTES ?? 0);
/** Test hook: kill the process after a rewrite marked its journal done ('done') or cut the file ('cut'). */
const CRASH_STAGE = process.env.UWIMAP_TEST_CRASH_AT_STAGE ?? '';
const SYSTEM_BITS = SEEN | DELETED | FLAGGED | ANSWERED | DRAFT;
const SYSTEM = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']);

/**
 * What a session sees of a message: made from the table when asked for
 * (get, messages), a snapshot. The date is kept as a number and made a Date
 * only when read.
 */
class UnixInfo implements MessageInfo {
  constructor(
    public uid: number,
    public flags: Set<string>,
    public recent: boolean,
    public internalTime: number,
    public internalDateZone: number,
    public size: number,
  ) {}
  get internalDate(): Date {
    return new Date(this.internalTime);
  }
}

interface Snapshot {
  size: number;
  ino: number;
  ctimeNs: bigint;
  dev?: number;
  mtimeNs?: bigint;
}

function toStatus(flags: Set<string>, old: boolean, keywordList: string[]): StatusFlags {
  return {
    seen: flags.has('\\Seen'),
    old,
    deleted: flags.has('\\Deleted'),
    flagged: flags.has('\\Flagged'),
    answered: flags.has('\\Answered'),
    draft: flags.has('\\Draft'),
    keywords: keywordList.filter((k) => flags.has(k)),
  };
}

const nowSec = () => Math.floor(Date.now() / 1000);
/** How long a shared lock taken for reading is kept for the reads that follow (withShared). */
const SHARED_HOLD_MS = 20;

export class UnixMailbox extends BaseMailbox<{ info: MessageInfo }> {
  readonly driver = 'unix';
  private pseudo: ScannedMessage | undefined;
  /** The messages (not the pseudo-message), in file and UID order. */
  private t = new MessageTable();
  /** Flag sets by (sys, keyword mask) for the current keyword list. */
  private flagSets = new Map<number, Set<string>>();
  private fd = -1;
  private snap: Snapshot = { size: 0, ino: 0, ctimeNs: 0n };
  private lockT: SessionLock | undefined;
  private unsubscribeKod: (() => void) | undefined;
  /** Key of the file state whose scan is in the cache (it came from there or was saved: nothing to save then). */
  private cachedAt: string | undefined;
  /**
   * Every message is old and has its UID in the file, known without looking
   * (what needsWrite would look through): from a cached scan that says so,
   * until the table is scanned or rewritten again. Flag changes keep it
   * (they leave O, \Recent and the UIDs alone). No row is \Recent then
   * (a message with O is not new): recentCount() needs no pass either.
   */
  private rowsClean = false;

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
  override messages(): readonly MessageInfo[] {
    const out: MessageInfo[] = new Array(this.t.length);
    for (let i = 0; i < out.length; i++) out[i] = this.infoAt(i);
    return out;
  }
  override uids(): Uint32Array {
    return this.t.uid.slice(0, this.t.length);
  }
  override extent(): { count: number; lastUid: number } {
    const n = this.t.length;
    return { count: n, lastUid: n ? this.t.uid[n - 1] : 0 };
  }
  override recentCount(): number {
    if (this.rowsClean) return 0; // every message old: none is new to anyone
    let n = 0;
    for (let i = 0; i < this.t.length; i++) if (this.t.sys[i] & RECENT) n++;
    return n;
  }
  override firstUnseen(): number {
    for (let i = 0; i < this.t.length; i++) if (!(this.t.sys[i] & SEEN)) return i;
    return -1;
  }
  override get(uid: number): MessageInfo | undefined {
    const i = this.t.find(uid);
    return i < 0 ? undefined : this.infoAt(i);
  }
  private infoAt(i: number): UnixInfo {
    const t = this.t;
    const d = t.date[i];
    const ms = Number.isNaN(d) ? 0 : d;
    const zone = t.zoneOf(i) ?? localZone(new Date(ms));
    return new UnixInfo(t.uid[i], this.flagsAt(i), (t.sys[i] & RECENT) !== 0, ms, zone, t.size[i]);
  }
  /** The flags of row i: a set shared by every message with the same flags. */
  private flagsAt(i: number): Set<string> {
    return this.flagSet(this.t.sys[i], this.t.kw[i]);
  }
  private flagSet(sys: number, kw: number): Set<string> {
    const key = (sys & SYSTEM_BITS) * 0x100000000 + kw;
    let f = this.flagSets.get(key);
    if (!f) {
      f = flagsFromBits(sys, kw, this.kw);
      this.flagSets.set(key, f);
    }
    return f;
  }
  /** The keyword list changed: flag sets made for the old one no longer apply. */
  private keywordsChanged(): void {
    this.flagSets.clear();
    this.blockMemo.table = undefined;
    this.valuesMemo.known.clear();
  }
  private statusAt(i: number): StatusFlags {
    return toStatus(this.flagsAt(i), (this.t.sys[i] & OLD) !== 0, this.kw);
  }
  /** Whether an X-IMAP or X-IMAPbase value carries this mailbox's UIDVALIDITY, UIDLAST and keywords. */
  private headerCurrent(value: string | undefined): boolean {
    const meta = parseImapHeader(value);
    return !!meta && meta.uidValidity === this.uidValidity && meta.uidLast === this.uidLast && meta.keywords.join(' ') === this.kw.join(' ');
  }

  static async open(path: string, name: string, ctx: DriverContext, opts: OpenOptions = {}): Promise<UnixMailbox> {
    const mb = new UnixMailbox(path, name, ctx, opts);
    await mb.init();
    return mb;
  }

  // ------------------------------------------------------------ opening

  private async init(): Promise<void> {
    this.fd = this.openFile(this.path, false);
    const st = fstatSync(this.fd);
    if (!this.readOnly) {
      this.lockT = await sessionLock(st.dev, st.ino, {
        lockDirectory: this.ctx.lockDirectory,
        exclusive: !!this.opts.exclusive,
        log: this.ctx.log,
        notify: this.opts.notify,
      });
      if (!this.lockT) {
        if (this.opts.exclusive) {
          closeSync(this.fd);
          throw new StoreError("Can't get lock.  Mailbox in use", 'INUSE');
        }
        this.readOnly = true;
        this.readOnlyReason = 'Mailbox is open by another process, access is readonly';
        this.opts.notify?.(this.readOnlyReason);
      } else {
        this.unsubscribeKod = onKissOfDeath(() => this.kissOfDeath());
      }
    }
    await this.withLock(false, async () => {
      if (!this.readOnly && recoverJournal(this.path, this.fd)) this.ctx.log.warning(`Recovered ${this.path} from an interrupted rewrite`);
      this.fullScan(true);
    });
    try {
      if (!this.readOnly && this.needsWrite()) await this.withLock(true, async () => this.rewriteDirty());
    } catch (e) {
      this.stagedFields?.discard();
      this.stagedFields = undefined;
      throw e;
    }
    // The header-field index of the first scan goes in place once its UIDs
    // are those of the file: written by this open's rewrite, or already
    // there. A read-only open that had to number messages itself keeps none
    // (whoever writes the UIDs may number them otherwise).
    const staged = this.stagedFields;
    this.stagedFields = undefined;
    if (staged) {
      if (!rowsToWrite(this.t.xuid, this.t.uid, this.t.sys, this.t.length, false) && staged.commit()) this.fieldIndex = undefined;
      else staged.discard();
    }
    // The scan for the next session now, not only at close: a session that
    // stays open, or is killed, would leave none, and every session opened
    // meanwhile would scan the file again. (Not for an internal open —
    // APPEND or STATUS to a mailbox that is not selected — which closes
    // within the command, often after changing the file: its close keeps
    // what is current then.)
    if (!this.silent) this.keepScan();
  }
  /** Leave the scan in the cache if the file is as we last saw it (not again when it is there already). */
  private keepScan(): void {
    try {
      const key = keyText(this.snap);
      if (!this.changedOnDisk() && this.cachedAt !== key) {
        saveScan(cacheKey(this.snap), this.t, this.pseudo);
        this.cachedAt = key;
      }
    } catch {
      /* no cache */
    }
  }
  private stagedFields: StagedFile | undefined;

  private kissOfDeath(): void {
    if (this.closed) return;
    // An active POP3 session keeps its lock (UW: only after 5 idle minutes).
    if (this.opts.idleSince && Date.now() - this.opts.idleSince() < (this.opts.kodIdleMs ?? 5 * 60_000)) {
      this.ctx.log.info(`Kiss of death ignored: session active within the last 5 minutes (${this.path})`);
      return;
    }
    // A UW process wants the mailbox: release our claim and tell the session.
    this.lockT?.release();
    this.lockT = undefined;
    this.readOnly = true;
    this.readOnlyReason = 'Killed (lost mailbox lock)';
    this.lost('Killed (lost mailbox lock)');
  }

  /** Dot-lock (for writes and for scanning), then flock on the mailbox fd. */
  private async withLock<T>(write: boolean, f: () => Promise<T> | T): Promise<T> {
    this.releaseShared();
    const dl = this.readOnly && !write ? undefined : await dotLock(this.path, { timeoutMinutes: this.ctx.dotLockTimeout, log: this.ctx.log, notify: this.opts.notify, mlock: { helper: this.ctx.mlockPath, fd: this.fd } });
    try {
      const wait = (this.ctx.lockWait ?? 300) * 1000;
      const ok = write ? await lockFileExclusive(this.fd, wait) : await lockFileShared(this.fd, wait);
      if (!ok) throw new StoreError(`Unable to lock mailbox ${this.name}: held by another process`, 'INUSE');
      try {
        return await f();
      } finally {
        unlockFile(this.fd);
      }
    } finally {
      dl?.release();
    }
  }

  private snapshot(): Snapshot {
    const st = fstatSync(this.fd, { bigint: true });
    return { size: Number(st.size), ino: Number(st.ino), ctimeNs: st.ctimeNs, dev: Number(st.dev), mtimeNs: st.mtimeNs };
  }
  private changedOnDisk(): boolean {
    const s = this.snapshot();
    return s.size !== this.snap.size || s.ctimeNs !== this.snap.ctimeNs;
  }

  /** Parse the whole file and rebuild the message list (diffing against the old one). */
  private fullScan(initial: boolean): void {
    const snap = this.snapshot();
    // A new process opening a mailbox nobody changed since the last session: the cached scan.
    let cached = initial ? loadScan(cacheKey(snap)) : undefined;
    if (cached && !this.readOnly && !FieldIndex.kept(snap.dev ?? 0, snap.ino, storedMeta(cached.table, cached.pseudo)?.uidValidity ?? 0)) {
      // A read-write open of a file whose header-field index is missing
      // (the scan was cached by a read-only open, or before there was an
      // index): scan it once more and keep the index this time.
      cached = undefined;
    }
    if (cached) this.cachedAt = keyText(snap);
    let t: MessageTable;
    let pseudo: ScannedMessage | undefined;
    // The first scan of a file in a process keeps the lines of the indexed
    // header fields (fields.ts) once UIDs are known; later scans do not.
    let fields: FieldRecords | undefined;
    // A cached scan may carry what this pass derives (UIDs, flags), made by
    // the same functions from the same values when it was saved.
    let derived: CachedScan['derived'];
    if (cached) ({ table: t, pseudo, derived } = cached);
    else {
      ({ table: t, fields } = scanTable(this.fd, 0, snap.size, { fields: initial && scanCacheOn() }));
      if (t.length && t.headImap && parseImapHeader(t.headImap)) {
        pseudo = t.row(0);
        t.filter((i) => i > 0);
        fields?.at.shift();
      }
    }
    this.snap = snap;
    const meta = storedMeta(t, pseudo);
    const old = this.t;
    const oldKw = this.kw;
    this.pseudo = pseudo;
    let assignedNew = false;
    if (meta) {
      if (!initial && meta.uidValidity !== this.uidValidity) this.pending.uidValidityChanged = true;
      this.uidValidity = meta.uidValidity;
      this.uidLast = Math.max(meta.uidLast, initial ? 0 : this.uidLast);
      if (meta.keywords.join(' ') !== this.kw.join(' ')) {
        if (!initial) this.pending.keywordsChanged = true;
        this.kw = meta.keywords;
        this.keywordsChanged();
      }
    } else if (initial || !this.uidValidity) {
      this.uidValidity = nowSec();
      this.uidLast = 0;
      assignedNew = true;
    }
    const n = t.length;
    this.rowsClean = false;
    if (derived && initial && meta) {
      this.uidLast = derived.uidLast;
      this.rowsClean = derived.clean;
    } else {
      // UIDs from X-UID while they ascend; otherwise new UIDVALIDITY and all renumbered.
      const r = assignUids(t.xuid, n, !!meta, this.uidLast, t.uid);
      if ('uidLast' in r) this.uidLast = r.uidLast;
      else {
        const why = r.renumber;
        this.ctx.log.warning(why.order ? `Message ${why.row + 1} UID ${why.uid} less than ${why.prev}` : `UIDs of ${this.path} exhausted`);
        this.uidValidity = Math.max(nowSec(), this.uidValidity + 1);
        this.uidLast = 0;
        for (let i = 0; i < n; i++) t.uid[i] = ++this.uidLast;
        if (!initial) this.pending.uidValidityChanged = true;
      }
      // Flags from the stored status values; a message without O is \Recent.
      deriveFlags(t, this.kw, t.sys, t.kw);
    }
    if (fields && fields.at.length === n) {
      // The records follow the rows in order (a pseudo-message's is skipped).
      let first = -1;
      for (let i = 0; i < n; i++) {
        const at = fields.at[i];
        if (at < 0) continue;
        if (first < 0) first = at;
        fields.buf.writeUInt32LE(t.uid[i], at);
        fields.buf.writeUInt32LE(t.headerSize[i], at + 4);
      }
      // Written now (the buffer goes), put in place by init() once the UIDs are in the file.
      this.stagedFields?.discard();
      this.stagedFields = stageFields(snap.dev ?? 0, snap.ino, this.uidValidity, first < 0 ? Buffer.alloc(0) : fields.buf.subarray(first, fields.len));
    }
    this.t = t;
    // After a first open, what changed against the messages known before
    // goes to the session; a message known before keeps its recency (a
    // read-write session claims a new one: writes O).
    if (!initial) {
      for (let i = 0; i < n; i++) {
        const j = old.length ? old.find(t.uid[i]) : -1;
        if (j < 0) {
          this.pending.added.push(this.infoAt(i));
          continue;
        }
        t.sys[i] = (t.sys[i] & ~RECENT) | (old.sys[j] & RECENT);
        const before = oldKw === this.kw ? this.flagSet(old.sys[j], old.kw[j]) : flagsFromBits(old.sys[j], old.kw[j], oldKw);
        if (!sameFlags(before, this.flagsAt(i))) this.pending.flagsChanged.push(t.uid[i]);
      }
    }
    if (!initial) for (let j = 0; j < old.length; j++) if (t.find(old.uid[j]) < 0) this.pending.expunged.push(old.uid[j]);
    if (assignedNew && n) this.ctx.log.info(`Assigning new unique identifiers to all messages in ${this.path}`);
  }

  /** Messages whose stored status does not match what a rewrite would write. */
  private needsWrite(): boolean {
    if (this.readOnly) return false;
    const t = this.t;
    // The mailbox data, in the pseudo-message or the first message's X-IMAPbase.
    if (this.pseudo ? !this.headerCurrent(this.pseudo.ximap) : t.length > 0 && !this.headerCurrent(t.headImapBase)) return true;
    // A session that is not silent claims \Recent: writes O.
    return !this.rowsClean && rowsToWrite(t.xuid, t.uid, t.sys, t.length, !this.silent);
  }

  /** Under the write lock: rescan if someone changed the file, then write whatever is dirty. */
  private async rewriteDirty(): Promise<void> {
    if (this.changedOnDisk()) this.fullScan(false);
    this.claimRecent();
    await this.rewrite(new Set());
  }

  /** A read-write session has seen every message: they are old for everyone else (UW writes O). */
  private claimRecent(): void {
    if (this.silent) return;
    for (let i = 0; i < this.t.length; i++) this.t.sys[i] |= OLD;
  }
  /** Internal opens (APPEND/COPY to a mailbox that is not selected, STATUS) claim no recency. */
  // ----------------------------------------------------------- rewriting

  /** Row i's status block (X-IMAPbase too for the first message when there is no pseudo-message); padded to `width` when given, undefined if it does not fit. */
  private blockFor(i: number, first: boolean, width?: number): string | undefined {
    const imapbase = first && !this.pseudo ? `${this.uidValidity} ${this.uidLast}${this.kw.map((k) => ' ' + k).join('')}` : undefined;
    return statusBlock(this.statusAt(i), this.t.uid[i], imapbase, width);
  }

  /**
   * Rewrite the file from the first message that must change, omitting the
   * UIDs in `drop`, with a journal for crash safety. Pseudo-message and
   * X-IMAPbase carry the current UIDVALIDITY/UIDLAST/keywords.
   */
  private async rewrite(drop: Set<number>): Promise<void> {
    this.patchPseudoUidLast();
    const t = this.t;
    const n = t.length;
    let kept = 0;
    for (let i = 0; i < n; i++) if (!drop.has(t.uid[i])) kept++;
    // Where to start: the pseudo-message / first message carry the mailbox data, so
    // start there when it changed; otherwise at the first message whose bytes change.
    let startIdx = -1;
    for (let i = 0; i < n && startIdx < 0; i++) if (drop.has(t.uid[i]) || !this.blockMatches(i, i === 0)) startIdx = i;
    const headerDirty = this.pseudo ? !this.pseudoMatches() : n > 0 && drop.has(t.uid[0]);
    if (headerDirty || (this.pseudo === undefined && kept === 0 && n > 0)) startIdx = 0;
    if (startIdx < 0 && !headerDirty) return;
    const needPseudo = this.pseudo !== undefined || kept === 0;
    const start = startIdx <= 0 ? 0 : t.start[startIdx];
    const oldSize = this.snap.size;
    // The journal saves what will be overwritten: about the bytes of the
    // messages kept (an expunge of half the messages saves half the tail).
    // New status blocks may make it more: the journal is extended before any
    // write would pass its end.
    let estimate = start + 4096;
    for (let i = Math.max(0, startIdx); i < n; i++) if (!drop.has(t.uid[i])) estimate += t.next[i] - t.start[i];
    const journal = beginJournal(this.path, this.fd, start, oldSize, estimate);
    // Output goes through one reused buffer, and old bytes are read straight
    // into it: no Buffer per message part (for a 250 MB mailbox that was
    // twice its size in garbage, and most of the peak memory of a rewrite).
    let ob = Buffer.allocUnsafe(1 << 20);
    let olen = 0;
    let pos = start; // the file offset of ob[0]; pos + olen is where the next byte goes
    const flush = () => {
      if (pos + olen > journal.end) journal.extend(Math.max(pos + olen, journal.end + (8 << 20)));
      let w = 0;
      while (w < olen) {
        const n = CRASH_AT > 0 ? Math.min(olen - w, Math.max(1, CRASH_AT - (pos + w - start))) : olen - w;
        w += writeSync(this.fd, ob, w, n, pos + w);
        if (CRASH_AT > 0 && pos + w - start >= CRASH_AT) process.kill(process.pid, 'SIGKILL');
      }
      pos += olen;
      olen = 0;
    };
    const room = (n: number) => {
      if (olen + n <= ob.length) return;
      flush();
      if (n > ob.length) ob = Buffer.allocUnsafe(n);
    };
    const pushText = (text: string) => {
      room(text.length);
      olen += ob.write(text, olen, 'latin1');
    };
    // The old bytes of [from, from + n) into the output: from the journal when
    // they lie in the part it saved (which may have been overwritten), else
    // from the mailbox (never written: writes stay below the journal's end).
    const copyIn = (from: number, n: number) => {
      room(n);
      for (let p = 0; p < n; ) {
        const at = from + p;
        const saved = at >= start && at < journal.end;
        const got = saved ? journal.read(ob, olen + p, n - p, at) : readSync(this.fd, ob, olen + p, n - p, at); // read() stops at the journal's end
        if (got <= 0) throw new Error('short read during rewrite');
        p += got;
      }
      olen += n;
    };
    const copy = (from: number, to: number) => {
      for (let p = from; p < to; p += 1 << 20) copyIn(p, Math.min(to, p + (1 << 20)) - p);
    };
    const copySkipping = (from: number, to: number, skip: readonly number[]) => {
      let p = from;
      for (let k = 0; k < skip.length; k += 2) {
        const a = skip[k];
        const b = skip[k + 1];
        if (b <= p || a >= to) continue;
        if (a > p) copy(p, a);
        p = Math.max(p, b);
      }
      if (p < to) copy(p, to);
    };
    // What the file will hold, worked out as it is written (see placed()).
    const next = new MessageTable(kept);
    let known = true;
    let expectAt = -1;
    let firstWritten = -1;
    let finishing = false;
    try {
      if (startIdx <= 0 && needPseudo) {
        const date = this.pseudo && !Number.isNaN(this.pseudo.date) ? new Date(this.pseudo.date) : new Date();
        pushText(pseudoMessage({ hostname: this.ctx.hostname, uidValidity: this.uidValidity, uidLast: this.uidLast, keywords: this.kw, messageId: true, date }));
      }
      const from = startIdx <= 0 ? 0 : startIdx;
      let firstReal = true;
      for (let i = 0; i < n; i++) {
        if (drop.has(t.uid[i])) continue;
        const isFirst = firstReal;
        firstReal = false;
        if (i < from) {
          next.copyRow(t, i); // before the rewritten part: where it was
          continue;
        }
        const at = pos + olen;
        if (firstWritten < 0) firstWritten = at;
        // The From line as it was, CR or none at the end of the file aside.
        copyIn(t.start[i], t.hdrStart[i] - t.start[i]);
        let ll = t.hdrStart[i] - t.start[i];
        if (ll && ob[olen - 1] === 10) (olen--, ll--);
        if (ll && ob[olen - 1] === 13) (olen--, ll--);
        pushText('\n');
        copySkipping(t.hdrStart[i], t.hdrEnd[i], t.priv(i));
        const block = this.blockFor(i, isFirst && !needPseudo)!;
        const blockAt = pos + olen;
        pushText(block + '\n'); // the block and the blank line that ends the header
        copy(t.bodyStart[i], t.end[i]);
        pushText('\n');
        if (known) {
          known = this.placed(next, i, at, at + ll + 1, blockAt, block, expectAt);
          expectAt = next.next[next.length - 1];
        }
      }
      flush();
      if (journal.end < oldSize) {
        // The old tail was not saved: the new content is made durable and the
        // journal says where the file ends before the tail is cut.
        fsyncSync(this.fd);
        journal.done(pos);
        finishing = true;
        if (CRASH_STAGE === 'done') process.kill(process.pid, 'SIGKILL');
      }
      ftruncateSync(this.fd, pos);
      if (CRASH_STAGE === 'cut') process.kill(process.pid, 'SIGKILL');
      fsyncSync(this.fd);
      journal.commit();
    } catch (e) {
      // Put the old bytes back before giving up (once marked done, the next open completes the cut instead).
      if (!finishing) {
        try {
          journal.rollBack();
          journal.commit();
        } catch {
          /* the journal stays; the next open rolls back */
        }
      }
      throw mapErr(e, this.name);
    }
    this.setRewriteTimes();
    // The rewritten messages follow one another to the end of the file.
    if (known && expectAt >= 0 && expectAt !== pos) known = false;
    let pseudo = this.pseudo;
    if (known && startIdx <= 0 && needPseudo) {
      // A new pseudo-message was written first: scan it (it is small).
      const p = scanMailbox(this.fd, 0, firstWritten >= 0 ? firstWritten : pos).messages;
      if (p.length !== 1 || !p[0].ximap) known = false;
      else pseudo = p[0];
    }
    if (!known) {
      this.fullScanAfterWrite();
      return;
    }
    this.t = next;
    this.rowsClean = false;
    this.pseudo = pseudo;
    this.snap = this.snapshot();
  }

  /**
   * After a rewrite, where everything now is follows from what was written
   * (each message as its From line, its header without private lines, a new
   * status block, its body and one blank line), so the file need not be
   * scanned again: add row i of the current table to `next` as written at
   * `at`, with only its new status block parsed. False when the message
   * does not fit that shape (no header/body separator, no separator line
   * before the next message) or does not follow `expectAt`: then the caller
   * rescans.
   */
  private placed(next: MessageTable, i: number, at: number, hdrStart: number, blockAt: number, block: string, expectAt: number): boolean {
    const t = this.t;
    if (t.bodyStart[i] === t.hdrEnd[i] || t.end[i] === t.next[i]) return false;
    if (expectAt >= 0 && at !== expectAt) return false;
    const priv = t.priv(i);
    let privBytes = 0;
    for (let k = 0; k < priv.length; k += 2) privBytes += Math.max(0, Math.min(priv[k + 1], t.hdrEnd[i]) - Math.max(priv[k], t.hdrStart[i]));
    if (blockAt !== hdrStart + (t.hdrEnd[i] - t.hdrStart[i]) - privBytes) return false;
    const fields = parseBlock(block, blockAt);
    if (!fields) return false;
    const hdrEnd = blockAt + block.length;
    const bodyStart = hdrEnd + 1;
    const end = bodyStart + (t.end[i] - t.bodyStart[i]);
    next.copyRow(t, i);
    const j = next.length - 1;
    next.setPlace(j, at, hdrStart, hdrEnd, bodyStart, end);
    next.setBlock(j, fields);
    return true;
  }

  /**
   * The pseudo-message's UIDLAST is a fixed-width field: when only it changed,
   * overwrite the ten digits in place instead of rewriting the whole file.
   */
  private patchPseudoUidLast(): void {
    const p = this.pseudo;
    if (!p || p.ximapValueAt === undefined) return;
    const meta = parseImapHeader(p.ximap);
    if (!meta || meta.uidLast === this.uidLast || meta.uidValidity !== this.uidValidity || meta.keywords.join(' ') !== this.kw.join(' ')) return;
    const cur = this.readRange(p.ximapValueAt, p.ximapValueAt + 21).toString('latin1');
    if (!/^\d{10} \d{10}$/.test(cur)) return;
    const digits = Buffer.from(pad10(this.uidLast), 'latin1');
    writeSync(this.fd, digits, 0, 10, p.ximapValueAt + 11);
    fsyncSync(this.fd);
    p.ximap = `${pad10(this.uidValidity)} ${pad10(this.uidLast)}${this.kw.map((k) => ' ' + k).join('')}`;
    this.snap = this.snapshot();
  }

  /**
   * Whether message i's stored status block says what it should. The answer
   * for each combination of stored values and flags is worked out once (a
   * STORE checks all 50,000 messages of a mailbox, which share a handful).
   */
  private blockMatches(i: number, first: boolean): boolean {
    const t = this.t;
    if (t.xuid[i] !== t.uid[i]) return false;
    if (first && !this.pseudo && !this.headerCurrent(t.headImapBase)) return false;
    const m = this.blockMemo;
    if (m.table !== t) {
      m.table = t;
      m.known.clear();
    }
    const key = `${t.status[i]} ${t.xstatus[i]} ${t.xkeywords[i]} ${t.sys[i]} ${t.kw[i]}`;
    let ok = m.known.get(key);
    if (ok === undefined) {
      ok = this.storedFlagsMatch(i);
      if (m.known.size >= 4096) m.known.clear();
      m.known.set(key, ok);
    }
    return ok;
  }
  private readonly blockMemo: { table?: MessageTable; known: Map<string, boolean> } = { known: new Map() };
  private storedFlagsMatch(i: number): boolean {
    const t = this.t;
    const want = this.statusAt(i);
    const st = t.str(t.status[i]) ?? '';
    const statusOk = st.includes('R') === want.seen && st.includes('O') === want.old;
    const x = t.str(t.xstatus[i]) ?? '';
    const xOk = x.includes('D') === want.deleted && x.includes('F') === want.flagged && x.includes('A') === want.answered && x.includes('T') === want.draft;
    const kwOk = (t.str(t.xkeywords[i]) ?? '').split(/\s+/).filter((k) => this.kw.includes(k)).sort().join(' ') === [...want.keywords].sort().join(' ');
    return statusOk && xOk && kwOk;
  }
  private pseudoMatches(): boolean {
    return this.headerCurrent(this.pseudo?.ximap);
  }

  /** c-client's times after a rewrite: atime now, mtime now − 1 unless already older. */
  private setRewriteTimes(): void {
    try {
      const st = statSync(this.path);
      const now = Date.now() / 1000;
      const mtime = Math.floor(st.mtimeMs / 1000) < Math.floor(now) ? Math.floor(st.mtimeMs / 1000) : Math.floor(now) - 1;
      utimesSync(this.path, Math.floor(now), mtime);
    } catch {
      /* informational */
    }
  }

  /** After our own write: rescan without reporting our own changes as foreign (\Recent is kept by UID). */
  private fullScanAfterWrite(): void {
    const keepPending = this.pending;
    this.pending = emptyChanges();
    this.fullScan(false);
    this.pending = keepPending;
  }

  // ------------------------------------------------------------- reading

  /** Someone else changed the file: rescan, collect changes for the next sync. */
  private rescanForeign(): void {
    const before = this.snap;
    const now = this.snapshot();
    if (now.size < before.size) this.ctx.log.info(`Mailbox ${this.path} shrank from ${before.size} to ${now.size} bytes, rescanning`);
    this.fullScan(false);
  }

  private readRange(from: number, to: number): Buffer {
    return preadFully(this.fd, to - from, from);
  }

  /** Convert stored text to what IMAP shows: private headers out, CRs out, LF → CRLF. */
  private present(i: number, headerOnly: boolean, into?: Scratch): Buffer {
    const t = this.t;
    const hdrStart = t.hdrStart[i];
    const len = (headerOnly ? t.bodyStart[i] : t.end[i]) - hdrStart;
    const outSize = headerOnly ? t.headerSize[i] : t.size[i];
    // The stored bytes are read into the same buffer, after the room the
    // output needs, and converted in place front to back: the output (at
    // most outSize bytes) never catches up with input not yet read. Runs are
    // moved with copyWithin, which makes no object per run (Buffer.copy
    // made one per line, about 2.5 times slower over a large mailbox).
    const D = outSize + 2;
    const w = (into ? into.get(D + len) : Buffer.allocUnsafe(D + len)).subarray(0, D + len);
    const end = D + preadFully(this.fd, len, hdrStart, w.subarray(D)).length;
    const off = D - hdrStart; // w index of a file offset
    const skips = t.priv(i); // flat [start, end) file offsets, all inside the header
    let si = 0;
    let o = 0;
    let p = D;
    // Runs between line ends, CRs and private headers are moved whole; the
    // next LF and CR are found by indexOf (memchr), not byte by byte.
    let nextLf = -1;
    let nextCr = -1;
    while (p < end) {
      if (si < skips.length && p >= skips[si] + off) {
        p = skips[si + 1] + off;
        si += 2;
        continue;
      }
      const limit = si < skips.length ? Math.min(skips[si] + off, end) : end;
      if (nextLf < p) nextLf = indexIn(w, 10, p, end);
      if (nextCr < p) nextCr = indexIn(w, 13, p, end);
      const q = Math.min(limit, nextLf, nextCr);
      if (q > p) {
        w.copyWithin(o, p, q);
        o += q - p;
        p = q;
        continue;
      }
      if (p === limit) continue; // at a private header: skipped above
      if (w[p] === 10) {
        w[o++] = 13;
        w[o++] = 10;
      }
      p++; // a CR is dropped
    }
    return w.subarray(0, o);
  }

  /**
   * The stored bytes in stored form for an append to another unix mailbox:
   * what prepareForMbox makes of read()'s output (private headers and CRs
   * out, then the rest of the conversion), without the CRLF form between.
   */
  private storedForm(i: number, slab?: Slab): MboxForm {
    const t = this.t;
    const start = t.hdrStart[i];
    const len = t.end[i] - start;
    const w = slab ? slab.take(len + 1) : Buffer.allocUnsafe(len + 1); // + a final LF if missing
    const end = preadFully(this.fd, len, start, w).length;
    return mboxParts(w, dropCRs(w, end, t.priv(i), start)); // private headers (file offsets) and CRs out
  }
  readMboxForm(uid: number, slab?: Slab): Promise<MboxForm | null> {
    if (this.closed) throw new StoreError('Mailbox is closed');
    return this.withShared(() => {
      const i = this.t.find(uid);
      return i < 0 ? null : this.storedForm(i, slab);
    });
  }

  /**
   * The lines of the indexed header fields of `uid` from the field index
   * (fields.ts), or undefined when it has no current entry for it.
   */
  readFields(uid: number): Buffer | undefined {
    if (this.closed) throw new StoreError('Mailbox is closed');
    const i = this.t.find(uid);
    if (i < 0) return undefined;
    if (this.fieldIndex === undefined || this.fieldIndex.validity !== this.uidValidity) {
      this.fieldIndex = { validity: this.uidValidity, index: FieldIndex.load(this.snap.dev ?? 0, this.snap.ino, this.uidValidity) };
    }
    this.fieldUses++;
    if (!this.fieldTimer) this.releaseFieldsWhenUnused(this.fieldUses);
    return this.fieldIndex.index?.get(uid, this.t.headerSize[i]);
  }
  private fieldIndex: { validity: number; index: FieldIndex | undefined } | undefined;
  /**
   * The index (11 MB at 50,000 messages) is let go once a second has passed
   * without a lookup: a session that searched once and then idles for hours
   * should not keep it.
   */
  private releaseFieldsWhenUnused(seen: number): void {
    this.fieldTimer = setTimeout(() => {
      this.fieldTimer = undefined;
      if (this.fieldUses !== seen) this.releaseFieldsWhenUnused(this.fieldUses);
      else this.fieldIndex = undefined;
    }, 1000);
    this.fieldTimer.unref();
  }
  private fieldUses = 0;
  private fieldTimer: NodeJS.Timeout | undefined;

  read(uid: number, opts?: { transient?: boolean }): Promise<Buffer | null> {
    return this.presentUid(uid, false, opts?.transient ? this.outScratch : undefined);
  }
  readHeader(uid: number, opts?: { transient?: boolean }): Promise<Buffer | null> {
    return this.presentUid(uid, true, opts?.transient ? this.outScratch : undefined);
  }
  private async presentUid(uid: number, headerOnly: boolean, into?: Scratch): Promise<Buffer | null> {
    if (this.closed) throw new StoreError('Mailbox is closed');
    // The row is looked up under the shared lock, which first rescans if the
    // file changed (one fstat per burst of reads, not one more per message).
    return this.withShared(() => {
      const i = this.t.find(uid);
      return i < 0 ? null : this.present(i, headerOnly, into);
    });
  }
  /** Transient reads: input and output of present() share it, so twice a 64 KB message fits. */
  private readonly outScratch = new Scratch(128 * 1024);

  /**
   * Reads happen under a shared lock. One lock serves a burst of reads: the
   * messages of one FETCH or SEARCH, and the commands that follow it within
   * SHARED_HOLD_MS (a POP3 client's RETR after RETR). It is released that
   * long after it was taken, or at once when this session needs its own
   * write lock or closes; another process that wants to write waits at most
   * that long. Taking and dropping flock and fcntl locks (and the fstat that
   * follows) for each of 50,000 messages cost more than reading them.
   */
  private shared?: { ready: Promise<void> };
  private sharedHeld = false;
  private async withShared<T>(f: () => T): Promise<T> {
    if (!this.shared) {
      const burst: { ready: Promise<void> } = { ready: Promise.resolve() };
      this.shared = burst;
      burst.ready = (async () => {
        if (!posixFlockShared(this.fd)) await lockFileShared(this.fd);
        if (this.shared !== burst) {
          // released (this session took its write lock) while we waited
          unlockFile(this.fd);
          return;
        }
        this.sharedHeld = true;
        setTimeout(() => {
          if (this.shared === burst) this.releaseShared();
        }, SHARED_HOLD_MS).unref();
        // Changed since the last burst: rescan under the lock; offsets are now current.
        if (this.changedOnDisk()) this.rescanForeign();
      })();
      burst.ready.catch(() => {
        if (this.shared === burst) this.releaseShared();
      });
    }
    await this.shared.ready;
    if (!this.sharedHeld) return this.withShared(f);
    return f();
  }
  private releaseShared(): void {
    const held = this.sharedHeld;
    this.shared = undefined;
    this.sharedHeld = false;
    if (held) unlockFile(this.fd);
  }

  // ------------------------------------------------------------- writing

  async store(uids: number[], op: FlagOp, flags: string[]): Promise<number[]> {
    this.requireWritable();
    let changed: number[] = [];
    await this.withLock(true, async () => {
      if (this.changedOnDisk()) this.fullScan(false);
      changed = this.setFlags(uids, op, flags);
      this.claimRecent();
      if (changed.length || this.needsWrite()) {
        if (!(await this.writeInPlace(changed))) await this.rewrite(new Set());
      }
    });
    return changed;
  }

  /** Change flags in the table only (under the write lock); returns the UIDs whose flags changed. */
  private setFlags(uids: number[], op: FlagOp, flags: string[]): number[] {
    const changed: number[] = [];
    const keywords = flags.filter((f) => !f.startsWith('\\'));
    for (const k of keywords) {
      if (!this.kw.includes(k) && (op === 'add' || op === 'set')) {
        if (this.kw.length >= MAX_KEYWORDS) continue;
        this.kw.push(k);
        this.keywordsChanged();
      }
    }
    const wanted = flags.filter((f) => SYSTEM.has(f) || this.kw.includes(f));
    const wSys = sysBits(wanted);
    const wKw = keywordMask(wanted, this.kw);
    const t = this.t;
    for (const uid of uids) {
      const i = t.find(uid);
      if (i < 0) continue;
      const sys = t.sys[i] & SYSTEM_BITS;
      const kw = t.kw[i];
      const nSys = op === 'set' ? wSys : op === 'add' ? sys | wSys : sys & ~wSys;
      const nKw = (op === 'set' ? wKw : op === 'add' ? kw | wKw : kw & ~wKw) >>> 0;
      if (nSys === sys && nKw === kw) continue;
      t.sys[i] = (t.sys[i] & ~SYSTEM_BITS) | nSys;
      t.kw[i] = nKw;
      changed.push(uid);
    }
    return changed;
  }

  /**
   * The flag changes and the expunge under one lock, and when anything is
   * expunged one rewrite that writes the new flags of the messages it keeps
   * (POP3's QUIT wrote every \Seen and \Deleted in place, synced, only for
   * the expunge to rewrite the same blocks).
   */
  override async update(stores: StoreRequest[], expunge: number[]): Promise<number[]> {
    this.requireWritable();
    let gone: number[] = [];
    await this.withLock(true, async () => {
      if (this.changedOnDisk()) this.fullScan(false);
      const changed = new Set<number>();
      for (const r of stores) for (const uid of this.setFlags(r.uids, r.op, r.flags)) changed.add(uid);
      gone = this.deletedUids(new Set(expunge));
      this.claimRecent();
      if (gone.length) await this.rewrite(new Set(gone));
      else if (changed.size || this.needsWrite()) {
        if (!(await this.writeInPlace([...changed]))) await this.rewrite(new Set());
      }
    });
    return gone;
  }

  /**
   * Overwrite the padded status blocks of `uids` in place when each still
   * fits. The blocks are made into one buffer (no Buffer per block) and the
   * table is updated from the values written (no parse of each block again):
   * a STORE on 50,000 messages spent a third of its CPU on those.
   */
  private async writeInPlace(uids: number[]): Promise<boolean> {
    if (!this.pseudoMatches() && this.pseudo) return false;
    const t = this.t;
    const rows = new Int32Array(uids.length);
    const widths = new Int32Array(uids.length);
    const writing = new Uint8Array(t.length);
    let total = 0;
    for (let k = 0; k < uids.length; k++) {
      const i = t.find(uids[k]);
      // The block must be one contiguous run (one range) ending at the header's end.
      if (i < 0 || !t.privIsOneRun(i) || t.privB[i] !== t.hdrEnd[i]) return false;
      rows[k] = i;
      widths[k] = t.privB[i] - t.privA[i];
      writing[i] = 1;
      total += widths[k];
    }
    const out = Buffer.allocUnsafe(total);
    const values: Array<BlockValues | undefined> = new Array(uids.length);
    let o = 0;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k];
      const width = widths[k];
      const v = i === 0 && !this.pseudo ? undefined : this.blockValues(i);
      const text = v ? statusBlock(v.flags, t.uid[i], undefined, width) : this.blockFor(i, i === 0, width);
      if (text === undefined) return false;
      out.write(text, o, 'latin1');
      o += width;
      values[k] = v;
    }
    for (let i = 0; i < t.length; i++) if (!writing[i] && !this.blockMatches(i, i === 0)) return false;
    o = 0;
    for (let k = 0; k < rows.length; k++) {
      writeSync(this.fd, out, o, widths[k], t.privA[rows[k]]);
      o += widths[k];
    }
    // Only flags changed (every other block matched, nothing moved): synced
    // before the reply only under mail-fsync = always.
    if (this.ctx.syncFlags) fsyncSync(this.fd);
    this.setRewriteTimes();
    // Nothing moved: the table takes the values just written.
    o = 0;
    let ok = true;
    for (let k = 0; k < rows.length && ok; k++) {
      const i = rows[k];
      const a = t.privA[i];
      const width = widths[k];
      const v = values[k];
      if (v) t.setBlockRun(i, a, a + width, v.status, v.xstatus, v.xkeywords, t.uid[i]);
      else {
        const h = parseBlock(out.toString('latin1', o, o + width), a);
        if (h) t.setBlock(i, h);
        else ok = false;
      }
      o += width;
    }
    if (ok) this.snap = this.snapshot();
    else this.fullScanAfterWrite();
    return true;
  }

  /**
   * Row i's status values as a block without X-IMAPbase states them (what
   * parseBlock finds in statusBlock's text), made once per combination of
   * flags in a write.
   */
  private blockValues(i: number): BlockValues {
    const t = this.t;
    const key = (t.sys[i] & (SYSTEM_BITS | OLD)) * 0x100000000 + t.kw[i];
    // (keywordsChanged() empties it whenever the keyword list changes)
    let v = this.valuesMemo.known.get(key);
    if (!v) {
      const flags = this.statusAt(i);
      v = { flags, status: statusLetters(flags), xstatus: xstatusLetters(flags), xkeywords: flags.keywords.join(' ') };
      if (this.valuesMemo.known.size >= 4096) this.valuesMemo.known.clear();
      this.valuesMemo.known.set(key, v);
    }
    return v;
  }
  private readonly valuesMemo: { known: Map<number, BlockValues> } = { known: new Map() };

  /** The UIDs of the \Deleted messages (only those in `among` when given), in mailbox order. */
  private deletedUids(among?: Set<number>): number[] {
    const t = this.t;
    const out: number[] = [];
    for (let i = 0; i < t.length; i++) if (t.sys[i] & DELETED && (!among || among.has(t.uid[i]))) out.push(t.uid[i]);
    return out;
  }

  async expunge(uids?: number[]): Promise<number[]> {
    this.requireWritable();
    let gone: number[] = [];
    await this.withLock(true, async () => {
      if (this.changedOnDisk()) this.fullScan(false);
      gone = this.deletedUids(uids ? new Set(uids) : undefined);
      if (!gone.length) return;
      this.claimRecent();
      await this.rewrite(new Set(gone));
    });
    return gone;
  }

  async append(messages: AppendMessage[]): Promise<AppendResult> {
    this.requireWritable();
    let result: AppendResult = { uidValidity: 0, uids: [], warnings: [] };
    await this.withLock(true, async () => {
      if (this.changedOnDisk()) this.fullScan(false);
      const warnings: string[] = [];
      const uids: number[] = [];
      const parts: Buffer[] = [];
      const savedLast = this.uidLast;
      const savedKw = [...this.kw];
      for (const am of messages) {
        const uid = am.uid && am.uid > this.uidLast ? am.uid : this.uidLast + 1;
        this.uidLast = uid;
        uids.push(uid);
        const flags = new Set<string>();
        for (const f of am.flags ?? []) {
          if (SYSTEM.has(f)) flags.add(f);
          else if (this.kw.includes(f)) flags.add(f);
          else if (this.kw.length < MAX_KEYWORDS) {
            this.kw.push(f);
            this.keywordsChanged();
            flags.add(f);
          } else warnings.push(`Unknown flag: ${f}`);
        }
        parts.push(...buildAppended(am, flags, this.kw, uid, this.ctx, false));
      }
      try {
        await appendBytes(this.path, this.fd, this.snap.size, parts);
      } catch (e) {
        // Nothing was written: forget the UIDs and keywords this append would have used.
        this.uidLast = savedLast;
        this.kw = savedKw;
        this.keywordsChanged();
        throw mapErr(e, this.name);
      }
      this.fullScan(false);
      // Our own appends: not foreign news, but new messages for the session (EXISTS), recent for us.
      for (const uid of uids) {
        const i = this.t.find(uid);
        if (i >= 0) this.t.sys[i] = this.silent ? this.t.sys[i] & ~RECENT : this.t.sys[i] | RECENT;
      }
      this.claimRecent();
      await this.rewrite(new Set());
      result = { uidValidity: this.uidValidity, uids, warnings };
    });
    return result;
  }

  async adoptUidValidity(uidValidity: number): Promise<boolean> {
    this.requireWritable();
    return this.withLock(true, async () => {
      if (this.changedOnDisk()) this.fullScan(false);
      if (this.t.length || this.uidLast || !uidValidity) return false;
      this.uidValidity = uidValidity;
      await this.rewrite(new Set());
      return true;
    });
  }

  async checkpoint(): Promise<string | undefined> {
    if (this.readOnly || this.closed) return undefined;
    await this.withLock(true, async () => {
      if (this.changedOnDisk()) this.fullScan(false);
      if (this.needsWrite()) await this.rewriteDirty();
    });
    return undefined;
  }

  async sync(): Promise<MailboxChanges> {
    if (this.closed) return emptyChanges();
    // A file that vanished or was replaced: the mailbox is gone.
    try {
      const st = statSync(this.path);
      if (st.ino !== this.snap.ino && this.snap.ino !== 0) {
        this.lost(`Mailbox ${this.name} was replaced`);
      }
    } catch {
      this.lost(`Mailbox ${this.name} was deleted`);
    }
    if (this.changedOnDisk()) {
      await this.withLock(!this.readOnly, async () => {
        if (this.changedOnDisk()) this.rescanForeign();
        if (!this.readOnly && this.needsWrite()) {
          this.claimRecent();
          await this.rewrite(new Set());
        }
      });
    }
    return this.takeChanges();
  }

  async close(opts: { expunge?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (this.fieldTimer) clearTimeout(this.fieldTimer);
    this.fieldIndex = undefined;
    try {
      if (!this.readOnly) {
        if (opts.expunge) await this.expunge();
        else await this.checkpoint();
      }
    } finally {
      // Leave the scan for the next session if the file is as we last saw it.
      this.keepScan();
      this.closed = true;
      this.releaseShared();
      this.unsubscribeKod?.();
      this.lockT?.release();
      closeSync(this.fd);
    }
  }
}

/**
 * The private header lines of a status block we wrote ourselves (each line
 * ending with LF), at offset `at` of the file: their ranges and values, as the
 * scanner would record them (every field present, undefined when absent).
 * Undefined if the block holds anything else.
 */
function parseBlock(text: string, at: number): BlockFields | undefined {
  if (!text.endsWith('\n')) return undefined;
  const out: BlockFields = { priv: [], status: undefined, xstatus: undefined, xkeywords: undefined, xuid: undefined, ximapbase: undefined };
  for (let p = 0; p < text.length; ) {
    const nl = text.indexOf('\n', p);
    const line = text.slice(p, nl);
    const colon = line.indexOf(':');
    const key = BLOCK_KEYS[line.slice(0, colon).toLowerCase()];
    if (colon <= 0 || !key || out[key] !== undefined) return undefined;
    out[key] = line.slice(colon + 1).trim();
    addRange(out.priv, at + p, at + nl + 1);
    p = nl + 1;
  }
  return out.priv.length ? out : undefined;
}
interface BlockValues {
  flags: StatusFlags;
  status: string;
  xstatus: string;
  xkeywords: string;
}
type BlockFields = Pick<ScannedMessage, 'priv' | 'status' | 'xstatus' | 'xkeywords' | 'xuid' | 'ximapbase'>;
const BLOCK_KEYS: Record<string, 'status' | 'xstatus' | 'xkeywords' | 'xuid' | 'ximapbase'> = {
  status: 'status',
  'x-status': 'xstatus',
  'x-keywords': 'xkeywords',
  'x-uid': 'xuid',
  'x-imapbase': 'ximapbase',
};

function keyText(s: Snapshot): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function cacheKey(s: Snapshot) {
  return { dev: s.dev ?? 0, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs ?? 0n, ctimeNs: s.ctimeNs };
}

function posixFlockShared(fd: number): boolean {
  return lockShNb(fd);
}
import * as posix from '../../../runtime/posix.js';
function lockShNb(fd: number): boolean {
  return posix.flockSync(fd, posix.LOCK_SH | posix.LOCK_NB);
}

function sameFlags(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const f of a) if (!b.has(f)) return false;
  return true;
}

/**
 * One message in c-client's raw append layout (or the rewritten layout when
 * `old`), as parts to be written one after another.
 */
export function buildAppended(am: AppendMessage, flags: Set<string>, kw: string[], uid: number | null, ctx: DriverContext, old: boolean): Buffer[] {
  const date = am.internalDate ?? new Date();
  const zone = am.internalDateZone ?? localZone(date);
  const from = formatFromLine(`${ctx.user}@${ctx.hostname}`, date, zone);
  const { header, body } = am.mbox ?? prepareForMbox(am.data);
  const block = appendBlock(toStatus(flags, old, kw), uid);
  return [Buffer.from(`${from}\n${block}`, 'latin1'), header, NEWLINE, body, NEWLINE];
}
const NEWLINE = Buffer.from('\n', 'latin1');

/**
 * Append bytes (one buffer, or parts written one after another) at the end
 * of the file under an append journal (journal.ts); `patches` (such as the
 * pseudo-message's UIDLAST digits) are written before the one fsync. On
 * failure the file is cut back to the old size.
 */
export async function appendBytes(path: string, fd: number, oldSize: number, data: Buffer | Buffer[], patches: Array<[number, Buffer]> = [], journal?: number): Promise<void> {
  // Messages are separated by a blank line: make sure the file ends with LF LF.
  let prefix = '';
  if (oldSize > 0) {
    const tail = Buffer.alloc(2);
    let n: number;
    try {
      n = readSync(fd, tail, 0, 2, Math.max(0, oldSize - 2));
    } catch (e) {
      if (journal !== undefined) closeSync(journal);
      throw e;
    }
    const t = tail.subarray(0, n).toString('latin1');
    if (!t.endsWith('\n')) prefix = '\n\n';
    else if (oldSize >= 2 && t !== '\n\n') prefix = '\n';
  }
  const parts = Buffer.isBuffer(data) ? [data] : data;
  const all = prefix ? [Buffer.from(prefix, 'latin1'), ...parts] : parts;
  // An idle journal the caller opened (prepareAppend) is beginAppend's from here.
  const j = beginAppend(path, fd, oldSize, all, journal);
  try {
    writevFully(fd, all, oldSize);
    for (const [at, b] of patches) writeSync(fd, b, 0, b.length, at);
    fsyncSync(fd);
  } catch (e) {
    try {
      ftruncateSync(fd, oldSize);
      fsyncSync(fd);
    } catch {
      /* the journal stays and the next open cuts the file back */
      throw e;
    }
    j.abandon();
    throw e;
  }
  j.commit();
  // c-client's times after an append: atime = now − 1, mtime = now ("new mail").
  try {
    const now = Math.floor(Date.now() / 1000);
    utimesSync(path, now - 1, now);
  } catch {
    /* informational */
  }
}

export { pad10 };
