/**
 * The user's store: names → drivers, INBOX rules, LIST/LSUB, subscriptions,
 * CREATE/DELETE/RENAME, STATUS and APPEND, following UW c-client (naming.md,
 * formats.md §4).
 */
import { USER_CACHE_DIR, sharedNamespaceDir, userRoot } from './user-dirs.js';
import { existsSync, statSync, lstatSync, mkdirSync, readdirSync, rmdirSync, readFileSync, writeFileSync, renameSync, openSync, closeSync, appendFileSync, chmodSync, constants, readSync, ftruncateSync, fsyncSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import type { AppendMessage, AppendResult, ListEntry, Mailbox, MailboxChanges, Namespaces, OpenOptions, StatusInfo, Store } from './types.js';
import { StoreError } from './types.js';
import type { Driver, DriverContext } from './driver.js';
import type { Identity } from '../auth/types.js';
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import { resolveName, isInbox, canonical, checkNewName, wildcardMatch, type NameContext, insideTree } from './naming.js';
import type { SharedNamespace } from './user-dirs.js';
import { unixDriver, createUnixFile, isUnixFormat } from './drivers/unix/index.js';
import { appendBytes } from './drivers/unix/mailbox.js';
import { mbxDriver } from './drivers/mbx/index.js';
import { probePath, type Probe } from './probe.js';
import { mixDriver, isMixDir } from './drivers/mix/index.js';
import { dotLock, lockFileExclusive, unlockFile } from './lock/index.js';
import { setJournalFallback } from './journal.js';
import { setScanCacheDir } from './drivers/unix/cache.js';


const JOURNAL_FILE = /\.uwjournal(\.tmp|\.old)?$/;
const SUBSCRIPTIONS = '.mailboxlist';

export interface StoreOptions {
  identity: Identity;
  config: Config;
  log: Log;
  hostname: string;
  /** Extra drivers (mbx, mix) in probe order before unix. */
  drivers?: Driver[];
}

export class LocalStore implements Store {
  readonly delimiter = '/';
  private readonly id: Identity;
  private readonly cfg: Config;
  private readonly log: Log;
  private readonly hostname: string;
  private readonly root: string;
  private readonly restrict: boolean;
  private readonly drivers: Driver[];
  private lastSnarf = 0;

  constructor(o: StoreOptions) {
    this.id = o.identity;
    this.cfg = o.config;
    this.log = o.log;
    this.hostname = o.hostname;
    const sub = o.config.str('mail-subdirectory');
    this.root = o.identity.mailRoot ?? (sub ? join(o.identity.home, sub) : o.identity.home);
    this.restrict = o.identity.restrict || (!o.identity.virtual && o.config.bool('restrict-system-users'));
    // Journals for mailboxes in directories we cannot write (see journal.ts).
    setJournalFallback(userRoot(o.identity));
    setScanCacheDir(o.config.bool('scan-cache') ? join(userRoot(o.identity), USER_CACHE_DIR) : undefined);
    // UW's probe order: mix, mbx, then unix.
    this.drivers = [...(o.drivers ?? [mixDriver, mbxDriver]), unixDriver];
    // A virtual user's mail root appears on first login.
    if (o.identity.mailRoot && !existsSync(o.identity.mailRoot)) {
      try {
        mkdirSync(o.identity.mailRoot, { recursive: true, mode: o.config.int('directory-protection') });
      } catch (e) {
        o.log.error(`Can't create mail root ${o.identity.mailRoot}: ${(e as Error).message}`);
      }
    }
  }

  /** NAMESPACE (worked out when asked: the shared ones need account lookups). */
  get namespaces(): Namespaces {
    return {
      // UW: an anonymous session has only the shared namespaces.
      personal: this.id.anonymous ? [] : [{ prefix: '', delimiter: '/' }],
      otherUsers: this.restrict ? [] : [{ prefix: '~', delimiter: '/' }],
      shared: Object.keys(this.sharedNamespaces()).map((k) => ({ prefix: `#${k}/`, delimiter: '/' })),
    };
  }

  private nsDirs: Partial<Record<SharedNamespace, string>> | undefined;
  /** The #ftp/, #public/ and #shared/ directories that exist (UW: homes of ftp, imappublic, imapshared). */
  sharedNamespaces(): Partial<Record<SharedNamespace, string>> {
    if (this.nsDirs) return this.nsDirs;
    const out: Partial<Record<SharedNamespace, string>> = {};
    for (const kind of ['shared', 'ftp', 'public'] as const) {
      if (kind === 'shared' && this.id.anonymous) continue; // UW: not for anonymous
      const dir = sharedNamespaceDir(this.cfg, kind);
      if (dir) out[kind] = dir;
    }
    this.nsDirs = out;
    return out;
  }

  private nameCtx(): NameContext {
    // The namespace directories are looked up only when a # name needs them.
    const store = this;
    return (this.names ??= {
      root: this.root,
      home: this.id.home,
      restrict: this.restrict,
      get namespaces() {
        return store.sharedNamespaces();
      },
    });
  }
  private names?: NameContext;
  /** The context of the user's own mailboxes, made once (the configuration does not change in a session). */
  private ownContext?: DriverContext;

  driverContext(ns?: SharedNamespace): DriverContext {
    if (!ns) return (this.ownContext ??= this.makeDriverContext());
    return this.makeDriverContext(ns);
  }

  private makeDriverContext(ns?: SharedNamespace): DriverContext {
    const fileMode = ns ? this.cfg.int(`${ns}-protection`) : this.cfg.int('mailbox-protection');
    // Directories: the file mode plus search bits where a class may read or write (UW get_dir_protection).
    let dirMode = this.cfg.int('directory-protection');
    if (ns) {
      dirMode = fileMode;
      for (const [rw, x] of [[0o600, 0o100], [0o060, 0o010], [0o006, 0o001]]) if (fileMode & rw) dirMode |= x;
    }
    return {
      user: this.id.user,
      hostname: this.hostname,
      log: this.log,
      fileMode,
      dirMode,
      dotLockTimeout: this.cfg.int('dot-lock-timeout'),
      lockDirectory: this.cfg.str('lock-directory'),
      lockWait: this.cfg.int('lock-wait'),
      mlockPath: this.cfg.str('mlock-path') || undefined,
      defaultKeywords: this.cfg.list('keywords'),
      syncFlags: this.cfg.str('mail-fsync') === 'always',
    };
  }

  // ------------------------------------------------------------- INBOX

  /** The spool file of this user. */
  spoolPath(): string {
    return join(this.cfg.str('spool-directory'), this.id.user);
  }

  /** Where INBOX lives and whether spool mail is moved into it (UW "mbox" driver). */
  inboxLocation(): { path: string; snarfFrom?: string; moveFrom?: string } {
    if (this.id.inbox) return { path: this.id.inbox };
    if (this.id.mailRoot) return { path: join(this.id.mailRoot, 'INBOX') };
    const override = this.cfg.str('inbox-path');
    if (override) return { path: override.replace(/%u/g, this.id.user).replace(/%h/g, this.id.home) };
    const mbox = join(this.id.home, 'mbox');
    if (isUnixFormat(mbox)) {
      const spool = this.spoolPath();
      if (!existsSync(spool) || isUnixFormat(spool)) return { path: mbox, snarfFrom: spool };
    }
    // mbx/mix INBOX in the home directory (detected), else the spool.
    const home = join(this.id.home, 'INBOX');
    if (this.drivers.length > 1 && existsSync(home)) return { path: home, moveFrom: this.spoolPath() };
    return { path: this.spoolPath() };
  }

  /** Path (and forced driver) for a name. */
  locate(name: string): string | undefined {
    try {
      const r = resolveName(name, this.nameCtx());
      return r.inbox ? this.inboxLocation().path : r.path;
    } catch {
      return undefined;
    }
  }

  private async driverFor(path: string, probe: Probe | undefined = probePath(path)): Promise<Driver | undefined> {
    if (!probe) return undefined;
    for (const d of this.drivers) if (d.recognise(probe)) return d;
    return undefined;
  }

  /**
   * Move new mail from the spool into ~/mbox (UW's mbox driver): under the
   * spool's dot-lock and flock, append its bytes to ~/mbox, then truncate the
   * spool to 0 (never unlink it).
   */
  async snarf(mboxPath: string, spool: string, force = false): Promise<number> {
    const interval = this.cfg.int('snarf-interval') * 1000;
    if (!force && Date.now() - this.lastSnarf < interval) return 0;
    this.lastSnarf = Date.now();
    let st;
    try {
      st = statSync(spool);
    } catch {
      return 0;
    }
    if (st.size === 0) return 0;
    if (!isUnixFormat(spool)) {
      this.log.warning(`Mail drop ${spool} is not in standard Unix format`);
      return 0;
    }
    const ctx = this.driverContext();
    let sfd = -1;
    try {
      sfd = openSync(spool, constants.O_RDWR);
    } catch (e) {
      this.log.error(`Can't move new mail from ${spool}: ${(e as Error).message}`);
      return 0;
    }
    const spoolLock = await dotLock(spool, { timeoutMinutes: ctx.dotLockTimeout, log: this.log, mlock: { helper: ctx.mlockPath, fd: sfd } });
    try {
      if (!(await lockFileExclusive(sfd))) return 0;
      try {
        const size = statSync(spool).size;
        const data = Buffer.allocUnsafe(size);
        let got = 0;
        while (got < size) {
          const n = readSync(sfd, data, got, size - got, got);
          if (n <= 0) break;
          got += n;
        }
        const mboxLock = await dotLock(mboxPath, { timeoutMinutes: ctx.dotLockTimeout, log: this.log });
        const mfd = openSync(mboxPath, constants.O_RDWR);
        try {
          if (!(await lockFileExclusive(mfd))) return 0;
          try {
            await appendBytes(mboxPath, mfd, statSync(mboxPath).size, data.subarray(0, got));
          } finally {
            unlockFile(mfd);
          }
        } finally {
          closeSync(mfd);
          mboxLock.release();
        }
        const now = statSync(spool).size;
        if (now !== size) {
          this.log.error(`Mail drop ${spool} lock failure, old=${size} now=${now}`);
          return 0;
        }
        ftruncateSync(sfd, 0);
        fsyncSync(sfd);
        this.log.info(`Moved ${got} bytes of new mail to ${mboxPath} from ${spool}`);
        return got;
      } finally {
        unlockFile(sfd);
      }
    } catch (e) {
      this.log.error(`Can't move new mail from ${spool}: ${(e as Error).message}`);
      return 0;
    } finally {
      if (sfd >= 0) closeSync(sfd);
      spoolLock.release();
    }
  }

  /**
   * mbx/mix INBOX (UW mbx_snarf / mix_ping): copy the messages of the spool
   * file into the open INBOX with their flags, then delete and expunge them
   * from the spool. A crash in between can duplicate, never lose, a message.
   */
  async moveSpool(inbox: Mailbox, spool: string, force = false): Promise<number> {
    const interval = this.cfg.int('snarf-interval') * 1000;
    if (!force && Date.now() - this.lastSnarf < interval) return 0;
    this.lastSnarf = Date.now();
    try {
      if (statSync(spool).size === 0 || !isUnixFormat(spool)) return 0;
    } catch {
      return 0;
    }
    let moved = 0;
    let src: Mailbox | undefined;
    try {
      src = await unixDriver.open(spool, 'INBOX', this.driverContext(), { silent: true });
      if (src.readOnly) return 0;
      const msgs = src.messages().filter((m) => !m.flags.has('\\Deleted'));
      for (let i = 0; i < msgs.length; i += 256) {
        const batch = msgs.slice(i, i + 256);
        const appends: AppendMessage[] = [];
        for (const m of batch) {
          const data = await src.read(m.uid);
          if (!data || !data.length) continue;
          appends.push({ data, flags: [...m.flags].filter((f) => f.startsWith('\\') && f !== '\\Deleted'), internalDate: m.internalDate, internalDateZone: m.internalDateZone });
        }
        if (appends.length) await inbox.append(appends);
        await src.store(batch.map((m) => m.uid), 'add', ['\\Deleted']);
        moved += appends.length;
      }
      if (msgs.length) await src.expunge(msgs.map((m) => m.uid));
      if (moved) this.log.info(`Moved ${moved} messages of new mail to INBOX from ${spool}`);
    } catch (e) {
      this.log.warning(`Can't copy new mail: ${(e as Error).message}`);
    } finally {
      await src?.close();
    }
    return moved;
  }

  /** Make sure INBOX exists as a file (a missing spool file is created with the pseudo-message). */
  /**
   * Make sure INBOX exists. A spool file (or an inbox-path file) is the
   * MTA's and is always a traditional mbox; an INBOX of the user's own (a
   * virtual user's mail root) is made in new-mailbox-format.
   */
  private async ensureInbox(path: string): Promise<void> {
    if (existsSync(path)) return;
    const own = !!this.id.mailRoot && path === join(this.id.mailRoot, 'INBOX');
    const d = own ? this.drivers.find((x) => x.name === this.cfg.str('new-mailbox-format')) : undefined;
    try {
      if (d && d !== unixDriver) await d.create(path, this.driverContext());
      else createUnixFile(path, this.driverContext());
    } catch (e) {
      if (!(e instanceof StoreError && e.code === 'ALREADYEXISTS')) throw e;
    }
  }

  // ------------------------------------------------------------ mailboxes

  async open(name: string, opts: OpenOptions = {}): Promise<Mailbox> {
    const r = resolveName(name, this.nameCtx());
    const ctx = this.driverContext();
    if (r.inbox) {
      const loc = this.inboxLocation();
      if (loc.snarfFrom) await this.snarf(loc.path, loc.snarfFrom, true);
      if (!existsSync(loc.path) && !opts.readOnly) await this.ensureInbox(loc.path);
      if (!existsSync(loc.path)) throw new StoreError(`Mailbox INBOX does not exist`, 'NONEXISTENT');
      const d = (await this.driverFor(loc.path)) ?? unixDriver;
      const mb = await d.open(loc.path, 'INBOX', ctx, opts);
      if (loc.snarfFrom) return new SnarfingMailbox(mb, () => this.snarf(loc.path, loc.snarfFrom!));
      if (loc.moveFrom && d !== unixDriver && !mb.readOnly && !opts.silent) {
        // mbx/mix INBOX in the home directory: spool mail is copied in and removed from the spool.
        await this.moveSpool(mb, loc.moveFrom, true);
        return new SnarfingMailbox(mb, () => this.moveSpool(mb, loc.moveFrom!));
      }
      return mb;
    }
    const path = r.path!;
    const probe = probePath(path);
    if (!probe) throw new StoreError(`Mailbox doesn't exist: ${name}`, 'NONEXISTENT');
    const d = await this.driverFor(path, probe);
    if (!d) {
      if (probe.directory) throw new StoreError(`Can't open ${name}: not a selectable mailbox`, 'CANNOT');
      throw new StoreError(`Can't open ${name}: not in valid mailbox format`, 'CANNOT');
    }
    return d.open(path, canonical(name), ctx, opts);
  }

  async exists(name: string): Promise<boolean> {
    const r = resolveName(name, this.nameCtx());
    if (r.inbox) return true;
    return !!(await this.driverFor(r.path!));
  }

  async create(name: string): Promise<void> {
    const r = resolveName(name, this.nameCtx());
    if (r.inbox && !r.driver) throw new StoreError("Can't create INBOX", 'ALREADYEXISTS');
    checkNewName(r.name);
    const ctx = this.driverContext(r.namespace);
    const path = r.inbox ? join(userRoot(this.id), 'INBOX') : r.path!;
    const dirOnly = name.endsWith('/');
    // Parent directories, created with the directory protection.
    const parent = dirOnly ? path.replace(/\/+$/, '') : dirname(path);
    this.mkdirs(parent, ctx.dirMode, name);
    if (dirOnly) return;
    if (existsSync(path)) throw new StoreError(`Can't create mailbox ${name}: mailbox already exists`, 'ALREADYEXISTS');
    const fmt = r.driver ?? ((r.namespace && this.cfg.str(`${r.namespace}-mailbox-format`)) || this.cfg.str('new-mailbox-format'));
    const d = this.drivers.find((x) => x.name === fmt);
    if (!d) throw new StoreError(`Can't create mailbox ${name}: ${fmt} format is not available`, 'CANNOT');
    await d.create(path, ctx);
  }

  private mkdirs(dir: string, mode: number, name: string): void {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new StoreError(`Can't create mailbox node ${dir}/: File exists`, 'CANNOT');
      return;
    }
    this.mkdirs(dirname(dir), mode, name);
    const old = process.umask(0);
    try {
      mkdirSync(dir, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError(`Can't create mailbox node ${dir}/: ${(e as Error).message}`, 'CANNOT');
    } finally {
      process.umask(old);
    }
  }

  async delete(name: string): Promise<void> {
    const r = resolveName(name, this.nameCtx());
    if (r.inbox) throw new StoreError("Can't delete INBOX", 'CANNOT');
    const path = r.path!;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      throw new StoreError(`Can't delete mailbox ${name}: no such mailbox`, 'NONEXISTENT');
    }
    if (st.isDirectory()) {
      const d = await this.driverFor(path);
      if (d) return d.delete(path, this.driverContext());
      try {
        rmdirSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY') throw new StoreError(`Can't delete mailbox ${name}: Directory not empty`, 'CANNOT');
        throw new StoreError(`Can't delete mailbox ${name}: ${(e as Error).message}`, 'CANNOT');
      }
      return;
    }
    const d = (await this.driverFor(path)) ?? unixDriver;
    await d.delete(path, this.driverContext());
  }

  async rename(from: string, to: string): Promise<void> {
    const rf = resolveName(from, this.nameCtx());
    const rt = resolveName(to, this.nameCtx());
    if (rt.inbox) throw new StoreError(`Can't rename to INBOX`, 'ALREADYEXISTS');
    checkNewName(rt.name);
    const dest = rt.path!;
    if (existsSync(dest)) throw new StoreError(`Can't rename to mailbox ${to}: mailbox already exists`, 'ALREADYEXISTS');
    this.mkdirs(dirname(dest), this.driverContext().dirMode, to);
    if (rf.inbox) {
      // RENAME INBOX: the messages move, INBOX is left empty (recreated on the next delivery/open).
      const loc = this.inboxLocation();
      if (!existsSync(loc.path)) {
        await this.create(to);
        return;
      }
      renameSync(loc.path, dest);
      if (loc.snarfFrom) createUnixFile(loc.path, this.driverContext());
      return;
    }
    const src = rf.path!;
    if (!existsSync(src)) throw new StoreError(`Can't rename mailbox ${from}: no such mailbox`, 'NONEXISTENT');
    renameSync(src, dest);
  }

  async status(name: string): Promise<StatusInfo> {
    const r = resolveName(name, this.nameCtx());
    const ctx = this.driverContext();
    if (r.inbox) {
      const loc = this.inboxLocation();
      if (!existsSync(loc.path)) return { messages: 0, recent: 0, unseen: 0, uidNext: 1, uidValidity: Math.floor(Date.now() / 1000), size: 0 };
      const d = (await this.driverFor(loc.path)) ?? unixDriver;
      const s = await d.status(loc.path, ctx);
      const spool = loc.snarfFrom ?? (d !== unixDriver ? loc.moveFrom : undefined);
      const spoolProbe = spool ? probePath(spool) : undefined;
      if (spoolProbe && spoolProbe.size > 0 && unixDriver.recognise(spoolProbe)) {
        // UW adds the spool's counts: those messages are new and unseen.
        const sp = await unixDriver.status(spoolProbe.path, ctx);
        s.messages += sp.messages;
        s.recent += sp.messages;
        s.unseen += sp.unseen;
        s.uidNext += sp.messages;
        s.size = (s.size ?? 0) + (sp.size ?? 0);
      }
      return s;
    }
    const path = r.path!;
    if (!existsSync(path)) throw new StoreError(`Mailbox doesn't exist: ${name}`, 'NONEXISTENT');
    const d = await this.driverFor(path);
    if (!d) throw new StoreError(`Can't get status of mailbox ${name}: not a selectable mailbox`, 'CANNOT');
    return d.status(path, ctx);
  }

  /**
   * The driver an APPEND to `name` would use ('unix' for an empty file, as
   * append() treats it), or undefined when the mailbox does not exist (yet).
   */
  async appendDriver(name: string): Promise<string | undefined> {
    const r = resolveName(name, this.nameCtx());
    const path = r.inbox ? this.inboxLocation().path : r.path!;
    return (await this.appendDriverAt(path))?.name;
  }
  /** The driver that appends to the file at `path`: its format's, or unix for an empty file. */
  private async appendDriverAt(path: string, probe: Probe | undefined = probePath(path)): Promise<Driver | undefined> {
    return (await this.driverFor(path, probe)) ?? (probe?.file && probe.size === 0 ? unixDriver : undefined);
  }

  async append(name: string, messages: AppendMessage[]): Promise<AppendResult> {
    const r = resolveName(name, this.nameCtx());
    const ctx = this.driverContext();
    let path: string;
    let probe: Probe | undefined;
    if (r.inbox) {
      path = this.inboxLocation().path;
      await this.ensureInbox(path);
    } else {
      path = r.path!;
      probe = probePath(path);
      if (!probe) {
        if (r.driver) {
          await this.create(name);
        } else throw new StoreError(`Mailbox doesn't exist: ${name}`, 'TRYCREATE');
      }
    }
    const d = await this.appendDriverAt(path, probe ?? probePath(path));
    if (!d) throw new StoreError(`Can't append to ${name}: not a selectable mailbox`, 'CANNOT');
    return d.append(path, messages, ctx);
  }

  // ----------------------------------------------------------------- LIST

  async list(reference: string, pattern: string): Promise<ListEntry[]> {
    if (pattern === '') {
      // The hierarchy root and delimiter.
      const nsRef = /^#(ftp|public|shared)\//i.exec(reference);
      const root = nsRef ? `#${nsRef[1].toLowerCase()}/` : reference.startsWith('~') ? reference.replace(/\/.*/, '/') : '';
      return [{ name: root, delimiter: '/', attributes: ['\\Noselect'] }];
    }
    let full = reference + pattern;
    if (pattern.startsWith('/') || pattern.startsWith('~') || pattern.startsWith('#')) full = pattern;
    // #ftp/, #public/ and #shared/: the namespace's directory, names given with the prefix.
    const nsm = /^#(ftp|public|shared)\//i.exec(full);
    let nsRoot: string | undefined;
    if (nsm) {
      const kind = nsm[1].toLowerCase() as SharedNamespace;
      nsRoot = this.sharedNamespaces()[kind];
      if (!nsRoot || full.includes('..') || full.includes('//')) return [];
      full = `#${kind}/${full.slice(nsm[0].length)}`;
    } else if (full.startsWith('#')) return [];
    if ((full.match(/[*%]/g)?.length ?? 0) > 10) throw new StoreError('Excessive wildcards in LIST/LSUB', 'CANNOT');
    if (this.restrict && (full.startsWith('/') || full.startsWith('~') || full.includes('..'))) return [];
    const out: ListEntry[] = [];
    if (wildcardMatch(full, 'INBOX')) {
      // A mix INBOX is a directory: listed with the delimiter and no attributes (as UW).
      const loc = this.inboxLocation();
      out.push(isMixDir(loc.path) ? { name: 'INBOX', delimiter: '/', attributes: [] } : { name: 'INBOX', delimiter: null, attributes: ['\\NoInferiors'] });
    }
    // Split the pattern into a fixed directory prefix and the wildcard part.
    const firstWild = full.search(/[*%]/);
    const fixed = firstWild < 0 ? full : full.slice(0, firstWild);
    const prefixDir = fixed.includes('/') ? fixed.slice(0, fixed.lastIndexOf('/') + 1) : '';
    let base: string;
    let namePrefix = prefixDir;
    if (nsRoot) base = join(nsRoot, prefixDir.slice(prefixDir.indexOf('/') + 1));
    else if (prefixDir.startsWith('/')) base = prefixDir;
    else if (prefixDir.startsWith('~/')) base = join(this.root, prefixDir.slice(2));
    else if (prefixDir.startsWith('~')) {
      // ~user/ lists another user's tree in the form given.
      const loc = this.locate(prefixDir.replace(/\/$/, '/x'));
      base = loc ? dirname(loc) + '/' : '';
    } else base = join(this.root, prefixDir);
    if (firstWild < 0) {
      // No wildcard: a single name.
      if (!isInbox(full)) {
        const path = this.locate(full);
        if (path && existsSync(path)) out.push(this.entryFor(full.replace(/\/$/, ''), path));
      }
      return out;
    }
    const maxLevel = this.cfg.int('list-maximum-level');
    const hide = this.cfg.bool('hide-dot-files');
    const walk = (dir: string, rel: string, level: number) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      names.sort();
      const mixDir = isMixDir(dir);
      for (const n of names) {
        if (mixDir && n.startsWith('.mix')) continue; // the format's own files
        if (hide && n.startsWith('.')) continue;
        // Our journals (and one being made, or being removed) and lock files are not mailboxes.
        if (n.startsWith('.') && (JOURNAL_FILE.test(n) || n.endsWith('.lock'))) continue;
        if (n.endsWith('.lock') || n === USER_CACHE_DIR) continue;
        const path = join(dir, n);
        const name = namePrefix + rel + n;
        if (isInbox(name) && !namePrefix && !rel) continue; // the home INBOX file is INBOX itself
        // Confined users never see (or follow) a symbolic link that leads out of their tree.
        if (this.restrict && !nsRoot && !insideTree(path, this.root)) continue;
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        if (wildcardMatch(full, name)) out.push(this.entryFor(name, path));
        if (st.isDirectory()) {
          if (wildcardMatch(full, name + '/') && !wildcardMatch(full, name)) out.push({ ...this.entryFor(name, path), name: name + '/' });
          if (level < maxLevel && couldMatchBelow(full, name + '/')) walk(path, rel + n + '/', level + 1);
        }
      }
    };
    walk(base, '', 0);
    return out;
  }

  private entryFor(name: string, path: string): ListEntry {
    let st;
    try {
      st = statSync(path);
    } catch {
      return { name, delimiter: '/', attributes: ['\\NonExistent'] };
    }
    if (st.isDirectory()) {
      let children = false;
      try {
        // Children as LIST would show them: no format files, journals or locks (nor dot files when hidden).
        const hide = this.cfg.bool('hide-dot-files');
        children = readdirSync(path).some((n) => !n.startsWith('.mix') && !(n.startsWith('.') && (hide || JOURNAL_FILE.test(n) || n.endsWith('.lock'))));
      } catch {
        /* unreadable */
      }
      const kids = children ? '\\HasChildren' : '\\HasNoChildren';
      // A mix mailbox is a directory that is selectable and may have children.
      return { name, delimiter: '/', attributes: isMixDir(path) ? [kids] : ['\\NoSelect', kids] };
    }
    const marked = st.size > 0 && st.atimeMs < st.ctimeMs;
    return { name, delimiter: '/', attributes: ['\\NoInferiors', marked ? '\\Marked' : '\\UnMarked'] };
  }

  // --------------------------------------------------------- subscriptions

  private subsPath(): string {
    return join(this.id.home, SUBSCRIPTIONS);
  }
  private readSubs(): string[] {
    try {
      return readFileSync(this.subsPath(), 'latin1').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  async lsub(reference: string, pattern: string): Promise<ListEntry[]> {
    const full = pattern.startsWith('/') || pattern.startsWith('~') ? pattern : reference + pattern;
    const out: ListEntry[] = [];
    const seenParents: string[] = [];
    for (const s of this.readSubs()) {
      if (wildcardMatch(full, s)) {
        out.push(isInbox(s) ? { name: 'INBOX', delimiter: null, attributes: ['\\NoInferiors'] } : { name: s, delimiter: '/', attributes: [] });
      } else if (full.endsWith('%')) {
        // Unsubscribed parents of subscribed names (UW reports them once per child).
        const parts = s.split('/');
        for (let i = parts.length - 1; i > 0; i--) {
          const parent = parts.slice(0, i).join('/');
          if (wildcardMatch(full, parent)) {
            out.push({ name: parent, delimiter: '/', attributes: ['\\NoSelect'] });
            seenParents.push(parent);
            break;
          }
        }
      }
    }
    return out;
  }

  async subscribe(name: string): Promise<string | undefined> {
    const n = canonical(name);
    const subs = this.readSubs();
    if (subs.includes(n)) throw new StoreError(`Already subscribed to mailbox ${n}`, 'ALREADYEXISTS');
    let warning: string | undefined;
    if (!isInbox(n)) {
      const path = this.locate(n);
      if (!path || !existsSync(path)) throw new StoreError(`Can't subscribe to mailbox ${n}: no such mailbox`, 'NONEXISTENT');
      if (statSync(path).isDirectory() && !(await this.driverFor(path))) warning = `CLIENT BUG DETECTED: subscribe of non-mailbox directory ${n}`;
    }
    appendFileSync(this.subsPath(), n + '\n');
    return warning;
  }

  async unsubscribe(name: string): Promise<void> {
    const n = canonical(name);
    const subs = this.readSubs();
    if (!subs.includes(n)) throw new StoreError(`Not subscribed to mailbox ${n}`, 'NONEXISTENT');
    const tmp = join(this.id.home, '.mlbxlsttmp');
    writeFileSync(tmp, subs.filter((s) => s !== n).map((s) => s + '\n').join(''));
    renameSync(tmp, this.subsPath());
  }

  async close(): Promise<void> {
    /* nothing held between calls */
  }
}

/** Could anything below `prefix` (a directory name ending in /) match the pattern? */
function couldMatchBelow(pattern: string, prefix: string): boolean {
  // Compare the fixed part of the pattern with the prefix.
  for (let i = 0; i < prefix.length; i++) {
    const p = pattern[i];
    if (p === undefined) return false;
    if (p === '*') return true;
    if (p === '%') {
      // % cannot cross '/': skip to the next '/' in the prefix
      const slash = prefix.indexOf('/', i);
      if (slash < 0) return true;
      return couldMatchBelow(pattern.slice(i + 1), prefix.slice(slash));
    }
    if (p !== prefix[i]) return false;
  }
  return true;
}

/** INBOX when ~/mbox is the INBOX: each sync may first move new spool mail in. */
class SnarfingMailbox implements Mailbox {
  constructor(
    private readonly inner: Mailbox,
    private readonly snarf: () => Promise<number>,
  ) {}
  get name() {
    return this.inner.name;
  }
  get driver() {
    return this.inner.driver;
  }
  get readOnly() {
    return this.inner.readOnly;
  }
  get readOnlyReason() {
    return this.inner.readOnlyReason;
  }
  get uidValidity() {
    return this.inner.uidValidity;
  }
  get uidNext() {
    return this.inner.uidNext;
  }
  keywords() {
    return this.inner.keywords();
  }
  canCreateKeywords() {
    return this.inner.canCreateKeywords();
  }
  messages() {
    return this.inner.messages();
  }
  uids() {
    return this.inner.uids();
  }
  extent() {
    return this.inner.extent();
  }
  recentCount() {
    return this.inner.recentCount();
  }
  firstUnseen() {
    return this.inner.firstUnseen();
  }
  get(uid: number) {
    return this.inner.get(uid);
  }
  read(uid: number, opts?: { transient?: boolean }) {
    return this.inner.read(uid, opts);
  }
  readHeader(uid: number, opts?: { transient?: boolean }) {
    return this.inner.readHeader(uid, opts);
  }
  get readMboxForm() {
    return this.inner.readMboxForm?.bind(this.inner);
  }
  get readFields() {
    return this.inner.readFields?.bind(this.inner);
  }
  store(...a: Parameters<Mailbox['store']>) {
    return this.inner.store(...a);
  }
  append(m: AppendMessage[]) {
    return this.inner.append(m);
  }
  expunge(uids?: number[]) {
    return this.inner.expunge(uids);
  }
  update(...a: Parameters<Mailbox['update']>) {
    return this.inner.update(...a);
  }
  checkpoint() {
    return this.inner.checkpoint();
  }
  adoptUidValidity(v: number): Promise<boolean> {
    return this.inner.adoptUidValidity?.(v) ?? Promise.resolve(false);
  }
  async sync(): Promise<MailboxChanges> {
    if (!this.inner.readOnly) await this.snarf();
    return this.inner.sync();
  }
  close(opts?: { expunge?: boolean }) {
    return this.inner.close(opts);
  }
  onLost(l: (r: string) => void) {
    this.inner.onLost(l);
  }
}

void chmodSync;
void basename;
