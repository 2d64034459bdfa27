import { bad, no } from '../session.js';
import { mailboxName } from '../parser.js';
import { AUTHED, type Command } from './types.js';
import type { ImapSession } from '../session.js';
import type { Token } from '../parser.js';

async function open(s: ImapSession, args: Token[], readOnly: boolean, cmd: string): Promise<string> {
  const name = mailboxName(args[0]);
  if (name === undefined || args.length !== 1) throw bad(`Missing or invalid argument to ${cmd}`);
  s.checkReferral(name);
  if (s.mailbox) await s.deselect(false);
  const store = s.store!;
  const notices: string[] = [];
  const mb = await store.open(name, { readOnly: readOnly || !!s.identity?.anonymous, notify: (t) => notices.push(t) });
  for (const n of notices) await s.untagged(`NO ${n}`);
  await s.select(mb);
  if (mb.readOnly && !readOnly && mb.readOnlyReason) await s.untagged(`OK [ALERT] ${mb.readOnlyReason}`);
  return `[${mb.readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${cmd} completed`;
}

export const select: Command = { states: AUTHED, run: (s, _t, a) => open(s, a, false, 'SELECT') };
export const examine: Command = { states: AUTHED, run: (s, _t, a) => open(s, a, true, 'EXAMINE') };
export { no };
