import { bad, no } from '../session.js';
import { mailboxName } from '../parser.js';
import { AUTHED, type Command } from './types.js';
import type { Token } from '../parser.js';

function nameArg(args: Token[], cmd: string): string {
  // IMAP2bis "SUBSCRIBE MAILBOX name" is accepted.
  const a = args.length === 2 && args[0].type === 'atom' && args[0].value.toUpperCase() === 'MAILBOX' ? args.slice(1) : args;
  const name = mailboxName(a[0]);
  if (name === undefined || a.length !== 1) throw bad(`Missing or invalid argument to ${cmd}`);
  return name;
}

export const subscribe: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const name = nameArg(args, 'SUBSCRIBE');
    if (s.identity?.anonymous) throw no('Anonymous may not SUBSCRIBE');
    const warning = await s.store!.subscribe(name);
    if (warning) await s.untagged(`NO ${warning}`);
    return undefined;
  },
};
export const unsubscribe: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const name = nameArg(args, 'UNSUBSCRIBE');
    if (s.identity?.anonymous) throw no('Anonymous may not UNSUBSCRIBE');
    await s.store!.unsubscribe(name);
    return undefined;
  },
};
