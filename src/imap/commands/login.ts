import { no, bad } from '../session.js';
import { astring } from '../parser.js';
import { AuthError } from '../../auth/types.js';
import type { Command } from './types.js';
import type { ImapSession } from '../session.js';
import type { Identity } from '../../auth/types.js';
import { loginReferral } from '../referrals.js';

/** Common end of LOGIN and AUTHENTICATE: become the user, log as UW does, answer with the capabilities. */
export async function loggedIn(s: ImapSession, id: Identity, mech?: string): Promise<string> {
  // LOGIN-REFERRALS: this user's mail is served elsewhere.
  const url = loginReferral(s.ctx.config.str('login-referrals'), id.user);
  if (url) {
    s.ctx.log.info(`Login referral user=${id.user} host=${s.hostLog} to=${url}`);
    throw no('Remote server', `REFERRAL ${url}`);
  }
  try {
    await s.enterUser(id);
  } catch (e) {
    s.ctx.log.error(`Login failed user=${id.user} auth=${id.user} host=${s.hostLog}: cannot become user: ${(e as Error).message}`);
    throw no('Authentication failed');
  }
  if (mech) s.ctx.log.info(`Authenticated user=${id.user} host=${s.hostLog} mech=${mech}`);
  else s.ctx.log.info(`Login user=${id.user} host=${s.hostLog}`);
  for (const a of id.alerts ?? []) await s.untagged(`OK [ALERT] ${a}`);
  return `[CAPABILITY ${s.capabilities('login')}] User ${id.user} authenticated`;
}

export const login: Command = {
  states: ['notauth'],
  async run(s, _tag, args) {
    const user = astring(args[0]);
    const pass = astring(args[1]);
    if (user === undefined || pass === undefined || args.length !== 2) throw bad('Missing or invalid argument to LOGIN');
    const auth = s.ctx.auth();
    const actx = s.authContext();
    if (!auth.plaintextAllowed(actx)) {
      s.ctx.log.notice(`Login failed user=${user} auth=${user} host=${s.hostLog}: plaintext disabled`);
      throw no('[PRIVACYREQUIRED] Plaintext login is disabled on this connection; use STARTTLS first');
    }
    try {
      const id = await auth.login(user, pass, actx);
      return await loggedIn(s, id);
    } catch (e) {
      if (e instanceof AuthError) {
        s.loginFailures++;
        throw no(e.message, e.code === 'AUTHENTICATIONFAILED' ? 'AUTHENTICATIONFAILED' : e.code === 'UNAVAILABLE' ? 'UNAVAILABLE' : undefined);
      }
      throw e;
    }
  },
};
