import { bad } from '../session.js';
import { mailboxName } from '../parser.js';
import { mailbox as encName, str } from '../encoder.js';
import { AUTHED, type Command } from './types.js';
import type { ImapSession } from '../session.js';
import type { Token } from '../parser.js';
import type { ListEntry } from '../../store/types.js';

async function answer(s: ImapSession, word: string, entries: ListEntry[]): Promise<void> {
  for (const e of entries) {
    const delim = e.delimiter === null ? 'NIL' : str(e.delimiter).toString('latin1');
    await s.send(Buffer.concat([Buffer.from(`* ${word} (${e.attributes.join(' ')}) ${delim} `, 'latin1'), encName(e.name), Buffer.from('\r\n')]));
  }
}

function refPat(args: Token[], cmd: string): [string, string] {
  const ref = mailboxName(args[0]);
  const pat = mailboxName(args[1]);
  if (ref === undefined || pat === undefined) throw bad(`Missing or invalid argument to ${cmd}`);
  return [ref, pat];
}

export const list: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    if (args.length !== 2) throw bad('Missing or invalid argument to LIST');
    const [ref, pat] = refPat(args, 'LIST');
    await answer(s, 'LIST', await s.store!.list(ref, pat));
    return undefined;
  },
};
export const lsub: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    if (args.length !== 2) throw bad('Missing or invalid argument to LSUB');
    const [ref, pat] = refPat(args, 'LSUB');
    await answer(s, 'LSUB', await s.store!.lsub(ref, pat));
    return undefined;
  },
};
/** SCAN ref pattern text: LIST restricted to mailboxes containing text (UW extension). */
export const scan: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    if (args.length !== 3) throw bad('Missing or invalid argument to SCAN');
    const [ref, pat] = refPat(args, 'SCAN');
    const text = mailboxName(args[2]);
    if (text === undefined) throw bad('Missing or invalid argument to SCAN');
    const needle = text.toLowerCase();
    const hits: ListEntry[] = [];
    for (const e of await s.store!.list(ref, pat)) {
      if (e.attributes.some((a) => a.toLowerCase() === '\\noselect')) continue;
      try {
        const mb = await s.store!.open(e.name, { readOnly: true });
        try {
          for (const m of mb.messages()) {
            const b = await mb.read(m.uid);
            if (b && b.toString('utf8').toLowerCase().includes(needle)) {
              hits.push(e);
              break;
            }
          }
        } finally {
          await mb.close();
        }
      } catch {
        /* unreadable mailbox: not a hit */
      }
    }
    await answer(s, 'LIST', hits);
    return undefined;
  },
};
