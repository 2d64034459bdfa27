import { bad } from '../session.js';
import { AUTHED, type Command } from './types.js';

/**
 * IDLE (RFC 2177): poll the mailbox every idle-poll-interval seconds and
 * report changes at once; "* OK Timeout in n minutes" keeps NAT boxes awake.
 * No fake EXISTS/EXPUNGE (UW's trick breaks strict clients).
 */
export const idle: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s, tag) {
    await s.send('+ Waiting for DONE\r\n');
    await s.flush();
    s.idling = true;
    const poll = s.ctx.config.int('idle-poll-interval') * 1000;
    const budget = s.ctx.config.int('imap-idle-timeout') * 1000;
    const started = Date.now();
    let lastKeepAlive = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const line = await new Promise<Buffer | undefined>((resolve) => {
        const tick = async () => {
          try {
            await s.sync(true);
            if (Date.now() - lastKeepAlive >= 120_000) {
              lastKeepAlive = Date.now();
              await s.untagged(`OK Timeout in ${Math.max(0, Math.round((budget - (Date.now() - started)) / 60000))} minutes`);
            }
            await s.flush();
          } catch {
            /* reported by the next command */
          }
          if (Date.now() - started > budget) return resolve(undefined);
          timer = setTimeout(tick, poll);
        };
        timer = setTimeout(tick, poll);
        void s.readLine().then(resolve);
      });
      if (line === undefined) return null;
      if (line.toString('latin1').trim().toUpperCase() !== 'DONE') throw bad('Bogus IDLE continuation');
      return undefined;
    } finally {
      if (timer) clearTimeout(timer);
      s.idling = false;
      void tag;
    }
  },
};
