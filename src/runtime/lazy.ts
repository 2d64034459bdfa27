/**
 * Lazy loading of heavy dependencies, so that a daemon started by inetd
 * greets its client before it pays for modules it may never need (SQLite,
 * bcrypt, charset tables, the logger) — and of the Node built-ins a session
 * may never need: TLS (only after STARTTLS or on an implicit-TLS port),
 * crypto (authentication, append journals), child processes (checkpassword,
 * the mlock helper), and sockets and streams, which an inetd-started daemon
 * needs only once its greeting is out (connection.ts). Each of those costs
 * milliseconds of every inetd-style process start.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type Bcrypt from 'bcryptjs';
import type Iconv from 'iconv-lite';

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();
function load<T>(name: string): T {
  let m = cache.get(name) as T | undefined;
  if (m === undefined) {
    m = require(name) as T;
    cache.set(name, m);
  }
  return m;
}

export const sqlite = (): typeof BetterSqlite3 => load<typeof BetterSqlite3>('better-sqlite3');
export const bcrypt = (): typeof Bcrypt => load<typeof Bcrypt>('bcryptjs');
export const iconv = (): typeof Iconv => load<typeof Iconv>('iconv-lite');

export const tls = (): typeof import('node:tls') => load<typeof import('node:tls')>('node:tls');
export const nodeCrypto = (): typeof import('node:crypto') => load<typeof import('node:crypto')>('node:crypto');
export const netModule = (): typeof import('node:net') => load<typeof import('node:net')>('node:net');
export const streamModule = (): typeof import('node:stream') => load<typeof import('node:stream')>('node:stream');
export const v8Module = (): typeof import('node:v8') => load<typeof import('node:v8')>('node:v8');
export const childProcess = (): typeof import('node:child_process') => load<typeof import('node:child_process')>('node:child_process');
