import { SELECTED, type Command } from './types.js';

/** CHECK: write pending changes. */
export const check: Command = {
  states: SELECTED,
  expungeOk: true,
  async run(s) {
    const info = await s.requireMailbox().checkpoint();
    return info ? `${info}` : 'CHECK completed';
  },
};
/** CLOSE: expunge silently (read-write) and deselect. */
export const close: Command = {
  states: SELECTED,
  async run(s) {
    await s.deselect(true);
    return undefined;
  },
};
/** UNSELECT (RFC 3691): deselect without expunging. */
export const unselect: Command = {
  states: SELECTED,
  async run(s) {
    await s.deselect(false);
    return undefined;
  },
};
