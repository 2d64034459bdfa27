import { bad } from '../session.js';
import { ANY, type Command } from './types.js';

export const capability: Command = {
  states: ANY,
  expungeOk: true,
  async run(s, _tag, args) {
    if (args.length) throw bad('Argument given to CAPABILITY when none expected');
    await s.untagged(`CAPABILITY ${s.capabilities('command')}`);
    return undefined;
  },
};
