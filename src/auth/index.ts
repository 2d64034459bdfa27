// PLACEHOLDER until the auth helper lands src/auth: createAuthenticator(config, log, service).
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import type { Authenticator } from './types.js';

export function createAuthenticator(_config: Config, _log: Log, _service: 'imap' | 'pop'): Authenticator {
  throw new Error('authentication not available yet');
}
