/**
 * Per-user places the servers keep outside the mailboxes, and where the
 * shared namespaces live. One definition for the store, the POP3 policies,
 * the IMAP alerts and anonymous logins.
 */
import { statSync } from 'node:fs';
import type { Identity } from '../auth/types.js';
import type { Config } from '../config/index.js';
import { getpwnam } from '../runtime/posix.js';

/** The user's own directory for server state (scan cache, POP3 policy records); never listed. */
export const USER_CACHE_DIR = '.uwimap-cache';

/** Where a user's mail lives: a virtual user's mail root, else the home directory. */
export function userRoot(id: Identity): string {
  return id.mailRoot ?? id.home;
}

export type SharedNamespace = 'ftp' | 'public' | 'shared';

/** UW's accounts whose home directories are the shared namespaces. */
const NAMESPACE_USERS: Record<SharedNamespace, string> = { ftp: 'ftp', public: 'imappublic', shared: 'imapshared' };

/**
 * The directory of #ftp/, #public/ or #shared/: `<kind>-directory` when set
 * ("none" = off), else the home of the UW account; undefined when there is
 * no such directory.
 */
export function sharedNamespaceDir(cfg: Config, kind: SharedNamespace): string | undefined {
  const set = cfg.str(`${kind}-directory`);
  if (set === 'none') return undefined;
  let dir = set;
  if (!dir) {
    try {
      dir = getpwnam(NAMESPACE_USERS[kind])?.dir ?? '';
    } catch {
      dir = '';
    }
  }
  try {
    return dir && dir !== '/' && statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

