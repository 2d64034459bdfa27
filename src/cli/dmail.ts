/**
 * dmail — procmail delivery agent: `dmail [-D] [-f|-r from] [-s] [-k "kw …"] [-p prec] [user][+folder]`.
 * Runs as the user (never root or daemon), reads the message on stdin and
 * appends it to the named folder (or INBOX) with the daemons' locks.
 * Exit codes as tmail (sysexits.h).
 */
import { Command } from 'commander';
import { statSync } from 'node:fs';
import { loadConfig, type Config } from '../config/index.js';
import { initLog, log } from '../runtime/log.js';
import { currentUserIdentity } from '../runtime/identity.js';
import { resolveHostname, version } from '../runtime/daemon.js';
import { createStore } from '../store/index.js';
import * as d from '../tools/deliver.js';

const MAX_MESSAGE = 256 * 1024 * 1024;

interface Opts {
  D?: boolean;
  f?: string;
  r?: string;
  s?: boolean;
  k?: string;
  p?: string;
  config?: string;
}

function fail(code: number, msg: string): never {
  process.stderr.write(`dmail: ${msg}\n`);
  log().error(`dmail: ${msg}`);
  process.exit(code);
}

/** UW's warnings about a target file others could tamper with. */
function warnAboutFile(path: string): void {
  try {
    const st = statSync(path);
    if (st.nlink > 1) log().warning(`dmail: ${path} has multiple links`);
    if (st.mode & 0o111) log().warning(`dmail: ${path} is executable`);
    if (st.mode & 0o002) log().warning(`dmail: ${path} is world-writable`);
    else if (st.mode & 0o004) log().warning(`dmail: ${path} is world-readable`);
  } catch {
    /* does not exist yet */
  }
}

async function main(): Promise<void> {
  const program = new Command('dmail')
    .description('Deliver a message from stdin into one of your mailboxes (procmail delivery agent)')
    .version(version(), '-V, --version')
    .option('-D', 'debug')
    .option('-f <from>', 'envelope sender (Return-Path)')
    .option('-r <from>', 'same as -f')
    .option('-s', 'mark the message \\Seen')
    .option('-k <keywords>', 'keywords to set (space-separated; only keywords already defined in the mailbox are kept)')
    .option('-p <precedence>', 'ignored (UW compatibility)')
    .option('-c, --config <file>', 'configuration file')
    .argument('[target]', '[user][+folder]')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : d.EX_USAGE));
  program.parse(process.argv);
  const o = program.opts<Opts>();
  let config: Config;
  try {
    config = loadConfig({ file: o.config });
  } catch (e) {
    process.stderr.write(`dmail: ${(e as Error).message}\n`);
    process.exit(d.EX_TEMPFAIL);
  }
  initLog({ ident: 'dmail', target: config.str('log-target') as 'syslog', file: config.str('log-file'), facility: config.str('syslog-facility') });
  const id = currentUserIdentity();
  if (id.uid === 0 || id.user === 'daemon') fail(d.EX_USAGE, 'dmail may not be run as root or daemon');
  const target = program.args[0] ?? '';
  const plus = target.indexOf('+');
  const user = plus >= 0 ? target.slice(0, plus) : target;
  let folder = plus >= 0 ? target.slice(plus + 1) : undefined;
  if (user && user !== id.user) fail(d.EX_USAGE, `may only deliver to yourself (${id.user}), not ${user}`);
  if (folder && (folder.startsWith('/') || folder.startsWith('~') || folder.includes('..') || folder.includes('//'))) {
    log().warning(`dmail: refusing folder name ${folder}, delivering to INBOX`);
    folder = undefined;
  }
  let data: Buffer;
  try {
    data = await d.readAll(process.stdin, MAX_MESSAGE);
  } catch (e) {
    fail(d.exitCodeFor(e), (e as Error).message);
  }
  const store = createStore(id, config, log(), resolveHostname(config));
  const prepared = d.prepareMessage(data, { from: o.f ?? o.r, via: `dmail-${version()}`, recipient: id.user });
  const flags: string[] = [];
  if (o.s) flags.push('\\Seen');
  if (o.k) flags.push(...o.k.split(/\s+/).filter(Boolean));
  if (folder && !folder.startsWith('#')) warnAboutFile(`${id.home}/${folder}`);
  let code: number = d.EX_OK;
  try {
    const r = await d.deliver({ store, folder, flags, quota: id.quota }, prepared.data);
    log().info(`delivered to ${id.user} mailbox=${r.mailbox} size=${prepared.data.length}`);
  } catch (e) {
    code = d.exitCodeFor(e);
    process.stderr.write(`dmail: delivery failed: ${(e as Error).message}\n`);
    log().error(`delivery to ${id.user} failed: ${(e as Error).message}`);
  }
  await store.close().catch(() => undefined);
  process.exit(code);
}

void main();
