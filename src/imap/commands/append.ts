import { bad, no } from '../session.js';
import { mailboxName } from '../parser.js';
import { parseInternalDate } from '../../mail/index.js';
import { AUTHED, type Command } from './types.js';
import type { AppendMessage } from '../../store/types.js';
import { StoreError } from '../../store/types.js';

const SYSTEM = ['\\SEEN', '\\ANSWERED', '\\FLAGGED', '\\DELETED', '\\DRAFT'];

/** APPEND mailbox [(flags)] [date-time] literal, repeated for MULTIAPPEND (all or nothing). */
export const append: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const name = mailboxName(args[0]);
    if (name === undefined) throw bad('Missing or invalid argument to APPEND');
    s.checkReferral(name);
    if (s.identity?.anonymous) throw no('Anonymous may not APPEND');
    const messages: AppendMessage[] = [];
    let i = 1;
    while (i < args.length) {
      const m: AppendMessage = { data: Buffer.alloc(0) };
      let t = args[i];
      if (t?.type === 'list') {
        m.flags = t.items.map((f) => {
          if (f.type !== 'atom') throw bad('Invalid flag in APPEND');
          const up = f.value.toUpperCase();
          const sys = SYSTEM.indexOf(up);
          if (sys >= 0) return SYSTEM[sys][0] + SYSTEM[sys].slice(1, 2) + SYSTEM[sys].slice(2).toLowerCase();
          if (f.value.startsWith('\\')) throw bad(`Invalid system flag ${f.value} in APPEND`);
          return f.value;
        });
        t = args[++i];
      }
      if (t?.type === 'string' && !t.literal) {
        const d = parseInternalDate(t.value.toString('latin1'));
        if (!d) throw bad('Bad date-time in APPEND');
        m.internalDate = d.date;
        m.internalDateZone = d.zoneMinutes;
        t = args[++i];
      }
      if (!t || t.type !== 'string') throw bad('Missing message literal in APPEND');
      if (t.value.length === 0) throw no('Empty message');
      m.data = t.value;
      messages.push(m);
      i++;
    }
    if (!messages.length) throw bad('Missing message literal in APPEND');
    const selected = s.mailbox && s.mailbox.name === (name.toUpperCase() === 'INBOX' ? 'INBOX' : name) && !s.mailbox.readOnly;
    let r;
    try {
      r = selected ? await s.mailbox!.append(messages) : await s.store!.append(name, messages);
    } catch (e) {
      if (e instanceof StoreError && (e.code === 'TRYCREATE' || e.code === 'NONEXISTENT')) throw no(e.message, 'TRYCREATE');
      throw e;
    }
    for (const w of r.warnings) await s.untagged(`NO ${w}`);
    const uids = r.uids.filter((u) => u > 0);
    if (uids.length === messages.length) return `[APPENDUID ${r.uidValidity} ${uidSetText(uids)}] APPEND completed`;
    return 'APPEND completed';
  },
};

export function uidSetText(uids: number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < uids.length) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j] + 1) j++;
    out.push(i === j ? String(uids[i]) : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
