import { bad, no } from '../session.js';
import { mailboxName } from '../parser.js';
import { AUTHED, type Command } from './types.js';

export const rename: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const from = mailboxName(args[0]);
    const to = mailboxName(args[1]);
    if (from === undefined || to === undefined || args.length !== 2) throw bad('Missing or invalid argument to RENAME');
    if (s.identity?.anonymous) throw no('Anonymous may not RENAME');
    if (s.mailbox && s.mailbox.name === from) throw no('Can not RENAME the selected mailbox');
    await s.store!.rename(from, to);
    return undefined;
  },
};
