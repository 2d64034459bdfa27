import { bad, no } from '../session.js';
import { mailboxName } from '../parser.js';
import { AUTHED, type Command } from './types.js';

export const create: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, _tag, args) {
    const name = mailboxName(args[0]);
    if (name === undefined || args.length !== 1) throw bad('Missing or invalid argument to CREATE');
    s.checkReferral(name);
    if (s.identity?.anonymous) throw no('Anonymous may not CREATE');
    await s.store!.create(name);
    return undefined;
  },
};
