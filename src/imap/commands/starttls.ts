import { no, bad } from '../session.js';
import type { Command } from './types.js';

export const starttls: Command = {
  states: ['notauth'],
  async run(s, tag, args) {
    if (args.length) throw bad('Argument given to STARTTLS when none expected');
    if (s.conn.isTls) throw bad('Already in TLS');
    if (!s.conn.canStartTls) throw no('Server certificate not installed');
    await s.send(`${tag} OK STARTTLS completed\r\n`);
    await s.flush();
    // Anything the client sent after STARTTLS in plain text is discarded (command injection).
    s.reader.reset();
    try {
      await s.conn.startTls();
    } catch (e) {
      s.ctx.log.info(`TLS negotiation failed host=${s.hostLog}: ${(e as Error).message}`);
      s.endAfterReply();
    }
    return null;
  },
};
