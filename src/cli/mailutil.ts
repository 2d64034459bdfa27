/**
 * mailutil — UW's mailbox utility. Accepts UW's single-dash switches
 * (-d/-debug, -v/-verbose, -rw/-rwcopy, -kw/-kwcopy, -ig/-ignore,
 * -m/-merge MODE, -u/-user USER, `--` ends switches) as well as GNU-style
 * long options.
 */
import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { loadConfig, ConfigError } from '../config/index.js';
import { initLog, log } from '../runtime/log.js';
import { currentUserIdentity, becomeUser, isRoot } from '../runtime/identity.js';
import { getpwnam } from '../runtime/posix.js';
import { resolveHostname, version } from '../runtime/daemon.js';
import { createStore } from '../store/index.js';
import type { Identity } from '../auth/types.js';
import * as mu from '../tools/mailutil.js';
import { repair } from '../tools/repair.js';

const UW_SWITCHES: Record<string, string> = {
  '-d': '--debug',
  '-debug': '--debug',
  '-v': '--verbose',
  '-verbose': '--verbose',
  '-rw': '--rwcopy',
  '-rwcopy': '--rwcopy',
  '-kw': '--kwcopy',
  '-kwcopy': '--kwcopy',
  '-ig': '--ignore',
  '-ignore': '--ignore',
  '-m': '--merge',
  '-merge': '--merge',
  '-u': '--user',
  '-user': '--user',
};

/** Turn UW-style switches into long options; everything after `--` stays as is. */
export function normaliseArgs(args: string[]): string[] {
  const out: string[] = [];
  let switches = true;
  for (const a of args) {
    if (switches && a === '--') {
      switches = false;
      out.push(a);
    } else if (switches && UW_SWITCHES[a]) out.push(UW_SWITCHES[a]);
    else out.push(a);
  }
  return out;
}

function parseMerge(v: string): mu.MergeMode {
  if (v === 'prompt') return { mode: 'prompt' };
  if (v === 'append') return { mode: 'append' };
  if (v.startsWith('suffix=') && v.length > 7) return { mode: 'suffix', suffix: v.slice(7) };
  process.stdout.write(`unknown merge option: ${v}\n`);
  process.exit(1);
}

function identityFor(user: string | undefined): Identity {
  if (!user) return currentUserIdentity();
  if (!isRoot()) {
    process.stderr.write('mailutil: -user is only for root\n');
    process.exit(1);
  }
  const pw = getpwnam(user);
  if (!pw) {
    process.stderr.write(`mailutil: unknown user ${user}\n`);
    process.exit(1);
  }
  const id: Identity = { user: pw.name, uid: pw.uid, gid: pw.gid, groups: [pw.gid], home: pw.dir, restrict: false, virtual: false, module: 'mailutil' };
  becomeUser(id);
  return id;
}

async function main(): Promise<void> {
  const program = new Command('mailutil')
    .description('Mailbox utility: check, create, delete, rename, copy, move, append, appenddelete, prune, transfer, repair')
    .version(version(), '-V, --version')
    .option('--debug', 'debugging telemetry')
    .option('--verbose', 'verbose progress')
    .option('--rwcopy', 'open the source read-write (needed for POP3-style sources)')
    .option('--kwcopy', 'create the source keywords in the destination')
    .option('--ignore', 'do not copy keywords')
    .addOption(new Option('--merge <mode>', 'merge mode for copy/move/transfer when the destination exists: prompt, append, suffix=XXX'))
    .option('--user <user>', 'act as USER (root only)')
    .option('-c, --config <file>', 'configuration file')
    .argument('[command]', 'check | create | delete | rename | copy | move | append | appenddelete | prune | transfer | repair')
    .argument('[src]')
    .argument('[dst]')
    .allowExcessArguments(false)
    .showHelpAfterError();
  program.parse(normaliseArgs(process.argv.slice(2)), { from: 'user' });
  const o = program.opts<{ debug?: boolean; verbose?: boolean; rwcopy?: boolean; kwcopy?: boolean; ignore?: boolean; merge?: string; user?: string; config?: string }>();
  const [cmd = '', src, dst] = program.args;
  if (o.kwcopy && o.ignore) {
    process.stdout.write('-kwcopy and -ignore are mutually exclusive\n');
    process.exit(1);
  }
  let config;
  try {
    config = loadConfig({ file: o.config });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`mailutil: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  initLog({ ident: 'mailutil', target: config.str('log-target') as 'syslog', file: config.str('log-file'), facility: config.str('syslog-facility') });
  const opts: mu.MailutilOptions = {
    lockDirectory: config.str('lock-directory'),
    debug: o.debug,
    verbose: o.verbose,
    rwcopy: o.rwcopy,
    kwcopy: o.kwcopy,
    ignore: o.ignore,
    merge: o.merge ? parseMerge(o.merge) : undefined,
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    prompt: async (q) => {
      process.stdout.write(q);
      const rl = createInterface({ input: process.stdin });
      const line = await new Promise<string>((res) => rl.once('line', res).once('close', () => res('')));
      rl.close();
      return line;
    },
  };
  const usage = (u: string) => {
    process.stdout.write(`usage: mailutil ${u}\n`);
    return 1;
  };
  const id = identityFor(o.user);
  const store = createStore(id, config, log(), resolveHostname(config));
  let rc: number;
  const copyish = !o.merge || cmd === 'transfer';
  switch (cmd) {
    case 'check':
      rc = dst ? usage('check [-d[ebug]] [-v[erbose]] [mailbox]') : await mu.check(store, src ?? 'INBOX', opts);
      break;
    case 'create':
      rc = !src || dst ? usage('create [-d[ebug]] [-v[erbose]] mailbox') : await mu.create(store, src, opts);
      break;
    case 'delete':
      rc = !src || dst ? usage('delete [-d[ebug]] [-v[erbose]] mailbox') : await mu.remove(store, src, opts);
      break;
    case 'rename':
      rc = !src || !dst ? usage('rename [-d[ebug]] [-v[erbose]] src dst') : await mu.rename(store, src, dst, opts);
      break;
    case 'copy':
    case 'move':
    case 'append':
    case 'appenddelete':
      rc = !src || !dst || !copyish ? usage(`${cmd} [-d[ebug]] [-v[erbose]] [-rw[copy]] [-kw[copy]] [-ig[nore]] src dst`) : await mu.copyOrMove(store, cmd, src, dst, opts);
      break;
    case 'prune':
      rc = !src || !dst ? usage('prune [-d[ebug]] [-v[erbose]] mailbox search_criteria') : await mu.prune(store, src, dst, opts);
      break;
    case 'transfer':
      rc = !src || !dst ? usage('transfer [-d[ebug]] [-v[erbose]] [-rw[copy]] [-kw[copy]] [-ig[nore]] [-m[erge] m] src dst') : await mu.transfer(store, src, dst, opts);
      break;
    case 'repair':
      rc = !src || dst ? usage('repair [-v[erbose]] mailbox') : await repair(store, src, opts);
      break;
    default:
      process.stdout.write(program.helpInformation());
      rc = 1;
  }
  await store.close().catch(() => undefined);
  process.exit(rc);
}

await main();
