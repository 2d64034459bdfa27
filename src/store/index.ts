// PLACEHOLDER until the store helper lands src/store: createStore(identity, config, log, hostname).
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import type { Identity } from '../auth/types.js';
import type { Store } from './types.js';

export function createStore(_id: Identity, _config: Config, _log: Log, _hostname: string): Store {
  throw new Error('mail store not available yet');
}
