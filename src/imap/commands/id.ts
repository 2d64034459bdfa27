import { ANY, type Command } from './types.js';
import { IMAP_VERSION } from '../session.js';

/** ID (RFC 2971): we say who we are; the client's parameters are only logged. */
export const id: Command = {
  states: ANY,
  async run(s, _tag, args) {
    const a = args[0];
    if (a?.type === 'list') {
      const kv: string[] = [];
      for (let i = 0; i + 1 < a.items.length; i += 2) {
        const k = a.items[i];
        const v = a.items[i + 1];
        kv.push(`${k.type === 'string' ? k.value.toString() : k.type === 'atom' ? k.value : ''}=${v.type === 'string' ? v.value.toString() : v.type === 'atom' ? v.value : 'NIL'}`);
      }
      s.ctx.log.info(`ID ${kv.join(' ')} host=${s.hostLog}`);
    }
    await s.untagged(`ID ("name" "uw-imapd-ts" "version" "${IMAP_VERSION}")`);
    return undefined;
  },
};
