import { AUTHED, type Command } from './types.js';
import { bad } from '../session.js';

/** ENABLE (RFC 5161): no extension here needs enabling, so the list is empty. */
export const enable: Command = {
  states: AUTHED,
  async run(s, _tag, args) {
    if (!args.length) throw bad('Missing argument to ENABLE');
    await s.untagged('ENABLED');
    return undefined;
  },
};
