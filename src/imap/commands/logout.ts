import { ANY, type Command } from './types.js';

export const logout: Command = {
  states: ANY,
  async run(s) {
    await s.logout();
    s.endAfterReply();
    return undefined;
  },
};
