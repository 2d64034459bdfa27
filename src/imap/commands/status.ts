import { bad } from '../session.js';
import { mailboxName } from '../parser.js';
import { mailbox as encName } from '../encoder.js';
import { AUTHED, type Command } from './types.js';
import type { StatusInfo } from '../../store/types.js';

export const status: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const name = mailboxName(args[0]);
    const items = args[1];
    if (name === undefined || !items || items.type !== 'list' || args.length !== 2) throw bad('Missing or invalid argument to STATUS');
    s.checkReferral(name);
    let st: StatusInfo;
    if (s.mailbox && s.mailbox.name === (name.toUpperCase() === 'INBOX' ? 'INBOX' : name)) {
      await s.untagged(`NO CLIENT BUG DETECTED: STATUS on selected mailbox: ${name}`);
      const msgs = s.mailbox.messages();
      st = { messages: msgs.length, recent: msgs.filter((m) => m.recent).length, unseen: msgs.filter((m) => !m.flags.has('\\Seen')).length, uidNext: s.mailbox.uidNext, uidValidity: s.mailbox.uidValidity, size: msgs.reduce((a, m) => a + m.size, 0) };
    } else st = await s.store!.status(name);
    const out: string[] = [];
    for (const it of items.items) {
      const k = it.type === 'atom' ? it.value.toUpperCase() : '';
      if (k === 'MESSAGES') out.push(`MESSAGES ${st.messages}`);
      else if (k === 'RECENT') out.push(`RECENT ${st.recent}`);
      else if (k === 'UNSEEN') out.push(`UNSEEN ${st.unseen}`);
      else if (k === 'UIDNEXT') out.push(`UIDNEXT ${st.uidNext}`);
      else if (k === 'UIDVALIDITY') out.push(`UIDVALIDITY ${st.uidValidity}`);
      else if (k === 'SIZE' && st.size !== undefined) out.push(`SIZE ${st.size}`);
      else throw bad(`Unknown status flag ${k || '?'}`);
    }
    await s.send(Buffer.concat([Buffer.from('* STATUS '), encName(name), Buffer.from(` (${out.join(' ')})\r\n`)]));
    return undefined;
  },
};
