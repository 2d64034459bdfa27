import { ANY, type Command } from './types.js';

export const noop: Command = { states: ANY, expungeOk: true, run: async () => undefined };
