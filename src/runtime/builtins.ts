/**
 * Node built-ins that a session may never need, loaded on first use: TLS
 * (only after STARTTLS or on an implicit-TLS port), crypto (only at
 * authentication) and child processes (checkpassword, the mlock helper).
 * Loading them costs a few milliseconds of every inetd-style process start.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Tls = typeof import('node:tls');
type Crypto = typeof import('node:crypto');
type ChildProcess = typeof import('node:child_process');

let tlsMod: Tls | undefined;
let cryptoMod: Crypto | undefined;
let cpMod: ChildProcess | undefined;

export const tls = (): Tls => (tlsMod ??= require('node:tls') as Tls);
export const nodeCrypto = (): Crypto => (cryptoMod ??= require('node:crypto') as Crypto);
export const childProcess = (): ChildProcess => (cpMod ??= require('node:child_process') as ChildProcess);
