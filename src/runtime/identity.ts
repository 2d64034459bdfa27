/**
 * Process identity: becoming the logged-in user before any mailbox is
 * touched (UW pw_login: setgid, initgroups, setuid, chdir home), and finding
 * out who we are when started as an ordinary user (PREAUTH, like rimapd).
 */
import { userInfo } from 'node:os';
import { statSync } from 'node:fs';
import type { Identity } from '../auth/types.js';
import { getpwuid } from './posix.js';

export class IdentityError extends Error {}

/** Running as root: logins switch identity. Otherwise the process already is its user. */
export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/**
 * Switch supplementary groups, gid and uid (in that order) to `id`, set HOME
 * and the umask, and chdir to the home directory. Refuses uid 0. When not
 * running as root, only accepts the identity we already have.
 */
export function becomeUser(id: Identity, umaskWhenZero = 0o022): void {
  if (id.uid === 0) throw new IdentityError('Login as root refused');
  if (isRoot()) {
    process.setgroups!(id.groups.length ? id.groups : [id.gid]);
    process.setgid!(id.gid);
    process.setuid!(id.uid);
    // Defence in depth: we must not be able to regain root.
    if (process.getuid!() === 0 || process.geteuid!() === 0) throw new IdentityError('privilege drop failed');
    try {
      process.setuid!(0);
      throw new IdentityError('privilege drop failed: setuid(0) succeeded');
    } catch (e) {
      if (e instanceof IdentityError) throw e;
    }
  } else if (process.getuid!() !== id.uid) {
    throw new IdentityError(`cannot become uid ${id.uid} when not started as root`);
  }
  process.env.HOME = id.home;
  process.env.USER = id.user;
  process.env.LOGNAME = id.user;
  // UW forces 022 only when the inherited umask is 0.
  const old = process.umask(0);
  process.umask(old === 0 ? umaskWhenZero : old);
  try {
    process.chdir(id.mailRoot ?? id.home);
  } catch {
    try {
      process.chdir(id.home);
    } catch {
      process.chdir('/');
    }
  }
}

/**
 * The identity of the invoking (non-root) user, for PREAUTH: the login name
 * if it maps to our uid, else the password entry of the uid; home from $HOME
 * when it is a directory (UW's rule), else from the password entry.
 */
export function currentUserIdentity(): Identity {
  const uid = process.getuid!();
  const gid = process.getgid!();
  let name = '';
  let home = '';
  // os.userInfo() asks the password database (getpwuid_r) without loading the FFI bridge.
  const ui = safe(() => userInfo());
  if (ui && ui.uid === uid) {
    name = ui.username;
    home = ui.homedir;
  } else {
    const pw = safe(() => getpwuid(uid));
    name = pw?.name ?? process.env.USER ?? process.env.LOGNAME ?? `uid${uid}`;
    home = pw?.dir ?? '';
  }
  const envHome = process.env.HOME;
  if (envHome && safe(() => statSync(envHome).isDirectory())) home = envHome;
  return {
    user: name,
    uid,
    gid,
    groups: process.getgroups?.() ?? [gid],
    home: home || '/',
    restrict: false,
    virtual: false,
    module: 'preauth',
  };
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
