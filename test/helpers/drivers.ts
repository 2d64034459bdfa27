/** What tests of the store drivers share: a silent log and a driver context. */
import type { DriverContext } from '../../src/store/driver.js';
import type { Log } from '../../src/runtime/log.js';

export const noLog: Log = { debug() {}, info() {}, notice() {}, warning() {}, error() {}, crit() {}, alert() {} } as unknown as Log;

/** A driver context for tests: personal-namespace modes, UW's lock timing, /tmp-style locks in `lockDirectory`. */
export function driverContext(lockDirectory: string, over: Partial<DriverContext> = {}): DriverContext {
  return { user: 'u', hostname: 'h', log: noLog, fileMode: 0o600, dirMode: 0o700, dotLockTimeout: 5, lockDirectory, defaultKeywords: [], ...over };
}
