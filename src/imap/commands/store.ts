import { bad, no } from '../session.js';
import { SELECTED, type Command } from './types.js';
import type { FlagOp } from '../../store/types.js';

const SYSTEM: Record<string, string> = { '\\SEEN': '\\Seen', '\\ANSWERED': '\\Answered', '\\FLAGGED': '\\Flagged', '\\DELETED': '\\Deleted', '\\DRAFT': '\\Draft' };

export const store: Command = {
  states: SELECTED,
  expungeOk: false,
  async run(s, _tag, args, uid) {
    const mb = s.requireMailbox();
    const [setTok, opTok, ...rest] = args;
    if (!setTok || setTok.type !== 'atom' || !opTok || opTok.type !== 'atom' || !rest.length) throw bad('Missing or invalid argument to STORE');
    const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(opTok.value);
    if (!m) throw bad(`Invalid STORE attribute: ${opTok.value}`);
    const op: FlagOp = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
    const silent = !!m[2];
    const flagToks = rest.length === 1 && rest[0].type === 'list' ? rest[0].items : rest;
    const flags: string[] = [];
    for (const f of flagToks) {
      if (f.type !== 'atom') throw bad('Invalid flag in STORE');
      const sys = SYSTEM[f.value.toUpperCase()];
      if (sys) flags.push(sys);
      else if (f.value.startsWith('\\')) {
        if (f.value.toUpperCase() === '\\RECENT') throw bad('\\Recent can not be set');
        throw bad(`Unknown system flag ${f.value}`);
      } else flags.push(f.value);
    }
    const uids = s.resolveSet(setTok.value, uid);
    if (mb.readOnly) throw no('Mailbox is read-only');
    await mb.store(uids, op, flags);
    // .SILENT means no FETCH back, for UID STORE too (RFC 3501 §6.4.6; UW
    // imapd clears its "send flags" mark for every message a silent STORE named).
    if (!silent) {
      for (const u of uids) {
        if (!mb.get(u)) continue;
        await s.untagged(`${s.seqOf(u)} FETCH (FLAGS ${s.flagsOf(u)}${uid ? ` UID ${u}` : ''})`);
      }
    }
    return undefined;
  },
};
