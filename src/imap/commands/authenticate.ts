import { no, bad } from '../session.js';
import { astring } from '../parser.js';
import { loggedIn } from './login.js';
import type { Command } from './types.js';

/** AUTHENTICATE mechanism [initial-response] (RFC 3501, RFC 4959 SASL-IR). */
export const authenticate: Command = {
  states: ['notauth'],
  async run(s, _tag, args) {
    const mech = astring(args[0])?.toUpperCase();
    if (!mech) throw bad('Missing or invalid argument to AUTHENTICATE');
    const ir = args[1] ? astring(args[1]) : undefined;
    const auth = s.ctx.auth();
    const actx = s.authContext();
    const ex = auth.startSasl(mech, actx);
    // A mechanism that is not offered looks unknown (UW).
    if (!ex) throw bad('Command unrecognized');
    if (ir !== undefined && !ex.clientFirst) throw bad(`${mech} does not take an initial response`);
    let response: Buffer | null = ir === undefined ? null : ir === '=' ? Buffer.alloc(0) : Buffer.from(ir, 'base64');
    for (;;) {
      const step = await ex.step(response);
      if (step.type === 'success') return loggedIn(s, step.identity, mech);
      if (step.type === 'failure') {
        s.ctx.log.notice(`AUTHENTICATE ${mech} failure host=${s.hostLog}`);
        throw no(step.reason || 'Authentication failed', 'AUTHENTICATIONFAILED');
      }
      await s.send(`+ ${step.data.toString('base64')}\r\n`);
      await s.flush();
      const line = await s.readLine();
      if (line === undefined) throw no('Authentication cancelled');
      const text = line.toString('latin1').trim();
      if (text === '*') throw bad('AUTHENTICATE cancelled');
      if (!/^[A-Za-z0-9+/=]*$/.test(text)) throw bad('Invalid base64 in AUTHENTICATE response');
      response = Buffer.from(text, 'base64');
    }
  },
};
