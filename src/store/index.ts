/**
 * The store of one logged-in user: createStore() is what the daemons and
 * tools call after login (and after dropping privileges).
 */
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import type { Identity } from '../auth/types.js';
import type { Store } from './types.js';
import { LocalStore } from './store.js';

export function createStore(id: Identity, config: Config, log: Log, hostname: string): Store {
  return new LocalStore({ identity: id, config, log, hostname });
}

export { LocalStore } from './store.js';
