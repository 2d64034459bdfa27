import { bad, no } from '../session.js';
import { mailboxName } from '../parser.js';
import { AUTHED, type Command } from './types.js';

export const del: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const name = mailboxName(args[0]);
    if (name === undefined || args.length !== 1) throw bad('Missing or invalid argument to DELETE');
    if (s.identity?.anonymous) throw no('Anonymous may not DELETE');
    if (s.mailbox && s.mailbox.name === name) throw no('Can not DELETE the selected mailbox');
    await s.store!.delete(name);
    return undefined;
  },
};
