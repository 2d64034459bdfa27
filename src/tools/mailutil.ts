/**
 * mailutil: UW's mailbox utility on top of the store — check, create, delete,
 * rename, copy, move, append, appenddelete, prune, transfer, plus repair.
 * Output texts follow UW's mailutil so that administrators' scripts keep
 * working. Works across every driver (unix, mbx, mix): `copy ~/old
 * '#driver.mix/old'` converts a mailbox's format, keeping flags, keywords and
 * internal dates.
 */
import type { Mailbox, MessageInfo, Store, AppendMessage } from '../store/types.js';
import { StoreError } from '../store/types.js';
import { parseCriteria, CriteriaError } from './criteria.js';
import { compileSearch } from '../mail/index.js';

export type MergeMode = { mode: 'prompt' } | { mode: 'append' } | { mode: 'suffix'; suffix: string };

export interface MailutilOptions {
  debug?: boolean;
  verbose?: boolean;
  /** Open the source read-write (needed for POP-style sources; also marks \Recent as seen). */
  rwcopy?: boolean;
  /** Create the source's keywords in the destination. */
  kwcopy?: boolean;
  /** Drop keywords entirely. */
  ignore?: boolean;
  merge?: MergeMode;
  /** Standard output / error writers (lines without newline). */
  out: (line: string) => void;
  err: (line: string) => void;
  /** Directory of the /tmp/.<dev>.<ino> locks (lock-directory). */
  lockDirectory?: string;
  /** Reads an alternative name for -merge prompt. */
  prompt?: (question: string) => Promise<string>;
}

/** Messages per append batch: bounded memory, whatever the mailbox size. */
const BATCH_MESSAGES = 256;
const BATCH_BYTES = 16 * 1024 * 1024;

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function check(store: Store, name: string, o: MailutilOptions): Promise<number> {
  try {
    const st = await store.status(name);
    if (st.recent || st.unseen) o.out(`${st.recent} new message(s) (${st.unseen} unseen), ${st.messages} total in ${name}`);
    else o.out(`No new messages, ${st.messages} total in ${name}`);
    return 0;
  } catch (e) {
    o.err(errText(e));
    return 1;
  }
}

async function simple(o: MailutilOptions, f: () => Promise<unknown>): Promise<number> {
  try {
    await f();
    return 0;
  } catch (e) {
    o.err(errText(e));
    return 1;
  }
}

export const create = (store: Store, name: string, o: MailutilOptions) => simple(o, () => store.create(name));
export const remove = (store: Store, name: string, o: MailutilOptions) => simple(o, () => store.delete(name));
export const rename = (store: Store, from: string, to: string, o: MailutilOptions) => simple(o, () => store.rename(from, to));

/** Flags to give the destination for one source message. */
function flagsFor(m: MessageInfo, allowedKeywords: Set<string> | null, o: MailutilOptions): string[] {
  const out: string[] = [];
  for (const f of m.flags) {
    if (f.startsWith('\\')) out.push(f);
    else if (o.ignore) continue;
    else if (o.kwcopy || !allowedKeywords || allowedKeywords.has(f)) out.push(f);
  }
  return out;
}

/**
 * Copy every message of `source` to the mailbox `dst` (UW's mbxcopy):
 * `create` makes the destination first (merge modes decide what happens when
 * it exists), `del` deletes and expunges the copied messages from the source.
 */
async function mbxcopy(store: Store, source: Mailbox, srcName: string, dst: string, create: boolean, del: boolean, o: MailutilOptions): Promise<boolean> {
  let target = dst;
  let mode = o.merge;
  let created = false;
  if (create) {
    for (;;) {
      try {
        await store.create(target);
        created = true;
        break;
      } catch (e) {
        if (mode?.mode === 'append') break;
        if (mode?.mode === 'suffix') {
          target = `${dst}${mode.suffix}`;
          o.out(`retry to create ${target}`);
          mode = { mode: 'prompt' };
          continue;
        }
        if (mode?.mode === 'prompt' && o.prompt) {
          o.err(errText(e));
          let alt = '';
          while (!alt) alt = (await o.prompt('alternative name: ')).trim();
          target = alt;
          continue;
        }
        o.err(errText(e));
        return false;
      }
    }
  }
  const msgs = source.messages();
  if (msgs.length === 0) {
    if (o.verbose) o.out(`${srcName} [empty] => ${target}`);
    return true;
  }
  if (o.verbose) o.out(`${srcName} [${msgs.length} message(s)] => ${target}`);
  let dest: Mailbox;
  try {
    dest = await store.open(target, { silent: true });
  } catch (e) {
    o.err(errText(e));
    if (o.verbose) o.out('[Failed]');
    return false;
  }
  const copied: number[] = [];
  try {
    if (dest.readOnly) throw new StoreError(`Can't append to ${target}: ${dest.readOnlyReason ?? 'mailbox is read-only'}`);
    const allowed = o.kwcopy ? null : new Set(dest.keywords());
    // A mailbox made for this copy keeps the source's UIDVALIDITY and UIDs
    // (where the format allows), so clients need not resynchronise.
    const keepUids = created && dest.messages().length === 0 && (await dest.adoptUidValidity?.(source.uidValidity)) === true;
    let batch: AppendMessage[] = [];
    let batchUids: number[] = [];
    let bytes = 0;
    const flush = async () => {
      if (!batch.length) return;
      const r = await dest.append(batch);
      for (const w of r.warnings) o.err(`warning: ${w}`);
      copied.push(...batchUids);
      batch = [];
      batchUids = [];
      bytes = 0;
    };
    for (const m of msgs) {
      const data = await source.read(m.uid);
      if (!data) continue; // expunged meanwhile
      batch.push({ data, flags: flagsFor(m, allowed, o), internalDate: m.internalDate, internalDateZone: m.internalDateZone, uid: keepUids ? m.uid : undefined });
      batchUids.push(m.uid);
      bytes += data.length;
      if (batch.length >= BATCH_MESSAGES || bytes >= BATCH_BYTES) await flush();
    }
    await flush();
  } catch (e) {
    o.err(errText(e));
    if (o.verbose) o.out('[Failed]');
    await dest.close().catch(() => undefined);
    return false;
  }
  await dest.close();
  if (o.verbose) o.out(`[Ok ${copied.length} messages(s)]`);
  if (del && copied.length) {
    await source.store(copied, 'add', ['\\Deleted']);
    await source.expunge(copied);
  }
  return true;
}

export async function copyOrMove(store: Store, cmd: 'copy' | 'move' | 'append' | 'appenddelete', src: string, dst: string, o: MailutilOptions): Promise<number> {
  const del = cmd === 'move' || cmd === 'appenddelete';
  let source: Mailbox;
  try {
    source = await store.open(src, { readOnly: !(del || o.rwcopy) });
  } catch (e) {
    o.err(errText(e));
    return 1;
  }
  try {
    if (del && source.readOnly) {
      o.err(`Can't ${cmd} from ${src}: ${source.readOnlyReason ?? 'mailbox is read-only'}`);
      return 1;
    }
    const ok = await mbxcopy(store, source, src, dst, cmd === 'copy' || cmd === 'move', del, o);
    return ok ? 0 : 1;
  } finally {
    await source.close().catch(() => undefined);
  }
}

export async function prune(store: Store, name: string, criteria: string, o: MailutilOptions): Promise<number> {
  let key;
  try {
    key = parseCriteria(criteria);
  } catch (e) {
    if (e instanceof CriteriaError) {
      o.err(`bad search criteria: ${e.message}`);
      return 2;
    }
    throw e;
  }
  let box: Mailbox;
  try {
    box = await store.open(name);
  } catch (e) {
    o.err(errText(e));
    return 1;
  }
  try {
    if (box.readOnly) {
      o.err(`Can't prune ${name}: ${box.readOnlyReason ?? 'mailbox is read-only'}`);
      return 1;
    }
    const msgs = box.messages();
    const maxUid = msgs.length ? msgs[msgs.length - 1].uid : 0;
    const match = compileSearch(key, { charset: 'UTF-8', maxSeq: msgs.length, maxUid, now: new Date() });
    const hits: number[] = [];
    let seq = 0;
    for (const m of msgs) {
      seq++;
      const flags = new Set(m.flags);
      if (m.recent) flags.add('\\Recent');
      const ok = await match({
        seq,
        uid: m.uid,
        flags,
        internalDate: m.internalDate,
        size: m.size,
        load: async () => (await box.read(m.uid)) ?? Buffer.alloc(0),
      });
      if (ok) hits.push(m.uid);
    }
    if (!hits.length) {
      o.out('No matching messages, so nothing purged');
      return 0;
    }
    const before = box.messages().length;
    await box.store(hits, 'add', ['\\Deleted']);
    await box.expunge(); // UW: mail_expunge removes every \Deleted message
    o.out(`${before - box.messages().length} message(s) purged`);
    return 0;
  } catch (e) {
    o.err(errText(e));
    return 1;
  } finally {
    await box.close().catch(() => undefined);
  }
}

/** Copy a whole hierarchy: every selectable mailbox whose name starts with `src`, to `dst` + its name. */
export async function transfer(store: Store, src: string, dst: string, o: MailutilOptions): Promise<number> {
  if (o.verbose) o.out('Listing mailboxes...');
  let names: string[];
  try {
    const entries = await store.list(src, '*');
    names = entries.filter((e) => !e.attributes.some((a) => a.toLowerCase() === '\\noselect') && e.name).map((e) => e.name);
  } catch (e) {
    o.err(errText(e));
    return 1;
  }
  for (const name of names) {
    const target = dst + name;
    if (o.verbose) {
      o.out(`Copying ${name}`);
      o.out(`  => ${target}`);
    }
    let source: Mailbox;
    try {
      source = await store.open(name, { readOnly: !o.rwcopy });
    } catch {
      o.out(`can't open source mailbox ${name}`);
      continue;
    }
    try {
      if (!(await mbxcopy(store, source, name, target, true, false, o))) return 1;
    } finally {
      await source.close().catch(() => undefined);
    }
  }
  return 0;
}
