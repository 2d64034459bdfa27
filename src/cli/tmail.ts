/**
 * tmail — mail delivery agent for the MTA (Postfix mailbox_command, Sendmail
 * local mailer): `tmail [-b fmt] [-D] [-f|-r from] [-I inbox] [-p prec] user[+folder] …`.
 * Reads the message on stdin and delivers it to each user's INBOX (or
 * +folder) in whatever format it is, as that user, with the daemons' locks.
 * Exit codes follow sysexits.h: 0 delivered, 75 (EX_TEMPFAIL) try again later
 * (lock timeout, full disk, any transient error), 73 quota exceeded,
 * 67 unknown user, 64 usage.
 */
import { Command } from 'commander';
import { childProcess } from '../runtime/lazy.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config/index.js';
import { initLog, log } from '../runtime/log.js';
import { becomeUser, isRoot, currentUserIdentity } from '../runtime/identity.js';
import { getpwnam } from '../runtime/posix.js';
import { resolveHostname, version } from '../runtime/daemon.js';
import { createStore } from '../store/index.js';
import { createAuthenticator } from '../auth/index.js';
import type { Identity } from '../auth/types.js';
import * as d from '../tools/deliver.js';

const MAX_MESSAGE = 256 * 1024 * 1024;

interface Opts {
  b?: string;
  D?: boolean;
  f?: string;
  r?: string;
  I?: string;
  p?: string;
  config?: string;
}

function fail(code: number, msg: string): never {
  process.stderr.write(`tmail: ${msg}\n`);
  log().error(`tmail: ${msg}`);
  process.exit(code);
}

async function identityOf(user: string, config: Config): Promise<Identity | undefined> {
  const pw = getpwnam(user) ?? (/[A-Z]/.test(user) ? getpwnam(user.toLowerCase()) : undefined);
  if (pw) return { user: pw.name, uid: pw.uid, gid: pw.gid, groups: [pw.gid], home: pw.dir, restrict: false, virtual: false, module: 'passwd' };
  try {
    return await createAuthenticator(config, log(), 'pop').lookup(user);
  } catch {
    return undefined;
  }
}

/** Deliver to one recipient in this process (after becoming that user). */
async function deliverOne(spec: string, data: Buffer, o: Opts, config: Config, invoker: string): Promise<number> {
  const plus = spec.indexOf('+');
  const user = plus >= 0 ? spec.slice(0, plus) : spec;
  const folder = plus >= 0 ? spec.slice(plus + 1) : undefined;
  if (folder && (folder.startsWith('/') || folder.startsWith('~') || folder.includes('..') || folder.includes('//'))) return d.EX_USAGE;
  const id = await identityOf(user, config);
  if (!id) fail(d.EX_NOUSER, `unknown user ${user}`);
  if (id.uid === 0) fail(d.EX_NOUSER, 'Mail to root prohibited');
  try {
    becomeUser(id, config.int('umask'));
  } catch (e) {
    fail(d.EX_TEMPFAIL, `can't become user ${user}: ${(e as Error).message}`);
  }
  const store = createStore(id, config, log(), resolveHostname(config));
  const prepared = d.prepareMessage(data, {
    from: o.f ?? o.r,
    via: `tmail-${version()}`,
    recipient: id.user,
    invokedBy: invoker !== id.user && invoker !== 'root' ? invoker : undefined,
  });
  if (prepared.lfOnly) log().warning('tmail called with LF-only newlines');
  try {
    const spoolFile = join(config.str('spool-directory'), id.user);
    if (o.b && !id.virtual && ![spoolFile, join(id.home, 'mbox'), join(id.home, 'INBOX')].some((p) => existsSync(p))) {
      // -b: a user with no INBOX at all gets one in that format (root/daemon callers only; checked in main).
      await store.create(`#driver.${o.b}/INBOX`).catch(() => undefined);
    }
    const target = o.I ? o.I : folder;
    const r = await d.deliver({ store, folder: target, quota: id.quota }, prepared.data);
    log().info(`delivered to ${id.user} mailbox=${r.mailbox} size=${prepared.data.length}`);
    return d.EX_OK;
  } catch (e) {
    const code = d.exitCodeFor(e);
    process.stderr.write(`tmail: delivery to ${id.user} failed: ${(e as Error).message}\n`);
    log().error(`delivery to ${id.user} failed: ${(e as Error).message}`);
    return code;
  } finally {
    await store.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const program = new Command('tmail')
    .description('Deliver a message from stdin to local users (MTA delivery agent)')
    .version(version(), '-V, --version')
    .option('-b <format>', 'format for a missing INBOX (unix, mbx, mix); root/daemon only')
    .option('-D', 'debug')
    .option('-f <from>', 'envelope sender (Return-Path)')
    .option('-r <from>', 'same as -f')
    .option('-I <inbox>', 'deliver to this mailbox instead of INBOX; root/daemon only')
    .option('-p <precedence>', 'ignored (UW compatibility)')
    .option('-c, --config <file>', 'configuration file')
    .argument('<user...>', 'recipients: user or user+folder')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : d.EX_USAGE));
  program.parse(process.argv);
  const o = program.opts<Opts>();
  const users = program.args;
  let config: Config;
  try {
    config = loadConfig({ file: o.config });
  } catch (e) {
    process.stderr.write(`tmail: ${(e as Error).message}\n`);
    process.exit(d.EX_TEMPFAIL);
  }
  initLog({ ident: 'tmail', target: config.str('log-target') as 'syslog', file: config.str('log-file'), facility: config.str('syslog-facility') });
  const invoker = currentUserIdentity().user;
  if ((o.b || o.I) && !isRoot() && invoker !== 'daemon') fail(d.EX_USAGE, '-b and -I are for root and daemon only');
  if (o.b && !['unix', 'mbx', 'mix'].includes(o.b)) fail(d.EX_USAGE, `unknown format ${o.b}`);
  let data: Buffer;
  try {
    data = await d.readAll(process.stdin, MAX_MESSAGE);
  } catch (e) {
    fail(d.exitCodeFor(e), (e as Error).message);
  }
  if (users.length === 1) process.exit(await deliverOne(users[0], data, o, config, invoker));
  // Several recipients: one child process per recipient (each becomes its user).
  const self = process.argv[1]; // bin/tmail (or whatever script started this process)
  const passOn = process.argv.slice(2).filter((a) => !users.includes(a));
  let worst = 0;
  for (const u of users) {
    const code = await new Promise<number>((res) => {
      const child = childProcess().spawn(process.execPath, [self, ...passOn, u], { stdio: ['pipe', 'inherit', 'inherit'] });
      child.on('exit', (c) => res(c ?? d.EX_TEMPFAIL));
      child.stdin.end(data);
    });
    if (code === d.EX_TEMPFAIL || worst === 0) worst = code || worst;
  }
  process.exit(worst);
}

void main();
