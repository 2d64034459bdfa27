import type { Command } from './types.js';
import { capability } from './capability.js';
import { noop } from './noop.js';
import { logout } from './logout.js';
import { id } from './id.js';
import { enable } from './enable.js';
import { starttls } from './starttls.js';
import { login } from './login.js';
import { authenticate } from './authenticate.js';
import { select, examine } from './select.js';
import { create } from './create.js';
import { del } from './delete.js';
import { rename } from './rename.js';
import { subscribe, unsubscribe } from './subscribe.js';
import { list, lsub, scan } from './list.js';
import { namespace } from './namespace.js';
import { status } from './status.js';
import { append } from './append.js';
import { check, close, unselect } from './close.js';
import { expunge } from './expunge.js';
import { fetch } from './fetch.js';
import { store } from './store.js';
import { copy, move } from './copy.js';
import { search } from './search.js';
import { sort, thread } from './sort.js';
import { idle } from './idle.js';

/** Every command, by name. */
export const COMMANDS: Record<string, Command> = {
  CAPABILITY: capability,
  NOOP: noop,
  LOGOUT: logout,
  ID: id,
  ENABLE: enable,
  STARTTLS: starttls,
  LOGIN: login,
  AUTHENTICATE: authenticate,
  SELECT: select,
  EXAMINE: examine,
  CREATE: create,
  DELETE: del,
  RENAME: rename,
  SUBSCRIBE: subscribe,
  UNSUBSCRIBE: unsubscribe,
  LIST: list,
  RLIST: list,
  LSUB: lsub,
  RLSUB: lsub,
  SCAN: scan,
  NAMESPACE: namespace,
  STATUS: status,
  APPEND: append,
  CHECK: check,
  CLOSE: close,
  UNSELECT: unselect,
  EXPUNGE: expunge,
  FETCH: fetch,
  STORE: store,
  COPY: copy,
  MOVE: move,
  SEARCH: search,
  SORT: sort,
  THREAD: thread,
  IDLE: idle,
};
