/**
 * Mailbox names → files, as UW c-client maps them (naming.md §1): INBOX
 * (any case) is special; other names are relative to the mailbox root (the
 * home directory, or home/<mail-subdirectory>, or a virtual user's mail
 * root); `~/x`, `~user/x` and absolute paths for unconfined users;
 * `#driver.FMT/name` picks a format on CREATE/APPEND. Names are octets on
 * disk: a modified UTF-7 name is the file name.
 */
import { StoreError } from './types.js';
import { join, normalize, dirname, basename } from 'node:path';
import { realpathSync } from 'node:fs';
import { getpwnam } from '../runtime/posix.js';

export const MAX_NAME = 256;

import type { SharedNamespace } from './user-dirs.js';
export type { SharedNamespace };

export interface NameContext {
  root: string;
  home: string;
  /** Confined: no absolute paths, no ~user, no .., and no symbolic link out of the tree. */
  restrict: boolean;
  /** Directories of the #ftp/, #public/ and #shared/ namespaces that exist here. */
  namespaces?: Partial<Record<SharedNamespace, string>>;
}

export interface Resolved {
  inbox: boolean;
  /** File system path (undefined for INBOX: the INBOX rules decide). */
  path?: string;
  /** Format forced by a #driver. prefix. */
  driver?: string;
  /** The name without a #driver. prefix. */
  name: string;
  /** #ftp/, #public/ or #shared/ name. */
  namespace?: SharedNamespace;
}

/**
 * Beyond UW: when confined, a path may not leave `top` through a symbolic
 * link. The deepest part of the path that exists is resolved with
 * realpath(3) and must still be inside `top` (itself resolved).
 */
export function insideTree(path: string, top: string): boolean {
  let realTop: string;
  try {
    realTop = realpathSync(top);
  } catch {
    realTop = normalize(top);
  }
  let p = normalize(path);
  let rest = '';
  for (;;) {
    try {
      const real = realpathSync(p);
      const full = rest ? join(real, rest) : real;
      return full === realTop || full.startsWith(realTop.endsWith('/') ? realTop : realTop + '/');
    } catch {
      const parent = dirname(p);
      if (parent === p) return false;
      rest = rest ? join(basename(p), rest) : basename(p);
      p = parent;
    }
  }
}

export function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX';
}

/** Canonical form: INBOX in upper case. */
export function canonical(name: string): string {
  return isInbox(name) ? 'INBOX' : name;
}

/** Validate a name as UW does for CREATE/RENAME targets (naming.md §4). */
export function checkNewName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7e) throw new StoreError(`Can't create mailbox name with 8-bit octet: ${name}`, 'CANNOT');
  }
  for (let i = name.indexOf('&'); i >= 0; i = name.indexOf('&', i + 1)) {
    const end = name.indexOf('-', i + 1);
    if (end < 0) throw new StoreError(`Can't create unterminated modified UTF-7 name: ${name}`, 'CANNOT');
    const run = name.slice(i + 1, end);
    if (!/^[A-Za-z0-9+,]*$/.test(run)) throw new StoreError(`Can't create invalid modified UTF-7 name: ${name}`, 'CANNOT');
    i = end;
  }
}

export function resolveName(raw: string, ctx: NameContext): Resolved {
  if (raw.length === 0) throw new StoreError('Invalid mailbox name: empty', 'CANNOT');
  if (raw.length > MAX_NAME) throw new StoreError(`Invalid mailbox name: longer than ${MAX_NAME} characters`, 'CANNOT');
  if (/[\r\n\0]/.test(raw)) throw new StoreError('Invalid mailbox name', 'CANNOT');
  let name = raw;
  let driver: string | undefined;
  const m = /^#driver\.([^/]*)\/(.*)$/i.exec(name);
  if (m) {
    driver = m[1];
    if (!['unix', 'mbx', 'mix'].includes(driver)) throw new StoreError(`Can't create mailbox ${raw}: unknown driver`, 'CANNOT');
    name = m[2];
    if (!name) throw new StoreError(`Invalid mailbox name: ${raw}`, 'CANNOT');
  }
  if (isInbox(name)) return { inbox: true, name: 'INBOX', driver };
  const ns = /^#(ftp|public|shared)\/(.*)$/i.exec(name);
  if (ns) {
    const kind = ns[1].toLowerCase() as SharedNamespace;
    const dir = ctx.namespaces?.[kind];
    if (!dir) throw new StoreError(`No such namespace: ${raw}`, 'NONEXISTENT');
    let rest = ns[2];
    // Every #... name is held to the strict rules (naming.md §1).
    if (!rest || rest.includes('..') || rest.includes('//') || rest.includes('/~') || rest.startsWith('/') || rest.startsWith('~')) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
    if (isInbox(rest)) rest = 'INBOX';
    const path = join(dir, rest);
    if (!insideTree(path, dir)) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
    return { inbox: false, path, driver, name: `#${kind}/${rest}`, namespace: kind };
  }
  if (name.startsWith('#')) throw new StoreError(`No such namespace: ${raw}`, 'NONEXISTENT');
  const confined = ctx.restrict;
  if (confined && (name.includes('..') || name.includes('//') || name.includes('/~'))) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
  let path: string;
  if (name.startsWith('/')) {
    if (confined) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
    path = normalize(name);
  } else if (name.startsWith('~/')) {
    path = join(ctx.root, name.slice(2));
  } else if (name.startsWith('~')) {
    if (confined) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
    const slash = name.indexOf('/');
    const user = name.slice(1, slash < 0 ? undefined : slash);
    const pw = getpwnam(user);
    if (!pw) throw new StoreError(`No such user: ${user}`, 'NONEXISTENT');
    const rest = slash < 0 ? '' : name.slice(slash + 1);
    path = join(pw.dir, isInbox(rest) ? 'INBOX' : rest);
  } else {
    path = join(ctx.root, name);
  }
  if (confined) {
    const n = normalize(path);
    if (n !== ctx.root && !n.startsWith(ctx.root.endsWith('/') ? ctx.root : ctx.root + '/')) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
    if (!insideTree(n, ctx.root)) throw new StoreError(`Invalid mailbox name: ${raw}`, 'NOPERM');
  }
  return { inbox: false, path, driver, name };
}

/** IMAP LIST wildcard match: `*` any characters, `%` any but the delimiter. INBOX case-insensitive. */
export function wildcardMatch(pattern: string, name: string, delim = '/'): boolean {
  const rx = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '%' ? `[^${delim.replace(/[\\\]^-]/g, '\\$&')}]*` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    isInbox(name) ? 'si' : 's',
  );
  return rx.test(name);
}
