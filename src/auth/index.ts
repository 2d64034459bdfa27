/**
 * Authentication: createAuthenticator() builds the module chain, SASL and
 * throttling from the configuration (see authenticator.ts).
 */
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import type { Authenticator } from './types.js';
import { ModuleAuthenticator } from './authenticator.js';

export function createAuthenticator(config: Config, log: Log, service: 'imap' | 'pop'): Authenticator {
  return new ModuleAuthenticator(config, log, service);
}

export { openUserDb, UserDb } from './users-db.js';
