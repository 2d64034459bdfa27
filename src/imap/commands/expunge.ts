import { bad } from '../session.js';
import { SELECTED, type Command } from './types.js';

export const expunge: Command = {
  states: SELECTED,
  expungeOk: true,
  async run(s, _tag, args, uid) {
    const mb = s.requireMailbox();
    if (uid && (args.length !== 1 || args[0].type !== 'atom')) throw bad('Missing or invalid argument to UID EXPUNGE');
    if (!uid && args.length) throw bad('Argument given to EXPUNGE when none expected');
    if (mb.readOnly) return 'Expunge ignored on readonly mailbox';
    const set = uid && args[0].type === 'atom' ? s.resolveSet(args[0].value, true) : undefined;
    const gone = await mb.expunge(set);
    // The EXPUNGE responses are sent by sync() after the command.
    return gone.length ? `Expunged ${gone.length} messages` : 'No messages deleted, so no update needed';
  },
};
