/**
 * The daemons' full command line through commander: one `--key <value>` flag
 * per configuration key, --config, --help, --version, --show-config. Loaded
 * only when the quick parser (args.ts) meets something it does not handle.
 */
import { Command, Option } from 'commander';
import { ALL_KEYS } from '../config/index.js';
import type { DaemonArgs } from './args.js';
import type { Program } from './daemon.js';

/** Add one `--key <value>` flag per configuration key, plus --config. */
export function addConfigFlags(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'configuration file (default /etc/uwimap.conf when it exists)');
  for (const k of ALL_KEYS) {
    const o = new Option(`--${k.key} <${k.type === 'bool' ? 'yes|no' : k.type}>`, k.description);
    o.hideHelp(false);
    cmd.addOption(o);
  }
  return cmd;
}

/** Flags given on the command line as [key, raw text] pairs for loadConfig. */
export function configOverrides(opts: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const k of ALL_KEYS) {
    const camel = k.key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const v = opts[camel];
    if (v !== undefined) out.push([k.key, String(v)]);
  }
  return out;
}

const DESCRIPTION: Record<Program, string> = {
  imapd: 'IMAP4rev1 server: serves one connection on stdin/stdout (inetd, xinetd, systemd Accept=yes, ssh).',
  ipop3d: 'POP3 server: serves one connection on stdin/stdout.',
  ipop2d: 'POP2 server (RFC 937): serves one connection on stdin/stdout.',
};

/** Parse a daemon's argv with commander (which prints help, version and errors, and exits for them). */
export function parseDaemonFlags(program: Program, version: string, argv: string[]): DaemonArgs {
  const cmd = new Command(program)
    .description(DESCRIPTION[program])
    .version(version, '-V, --version')
    .option('--show-config', 'print the effective configuration and exit')
    .addOption(new Option('--worker', 'run as a worker of the built-in listener (internal)').hideHelp())
    .allowExcessArguments(false);
  addConfigFlags(cmd);
  // commander writes help/version/errors to stdout/stderr: fine for an administrator at a terminal.
  cmd.parse(argv);
  const opts = cmd.opts<Record<string, unknown>>();
  return {
    config: opts.config as string | undefined,
    overrides: configOverrides(opts),
    worker: Boolean(opts.worker),
    showConfig: Boolean(opts.showConfig),
  };
}
