/**
 * The common main of imapd, ipop3d and ipop2d: flags → config → log →
 * connection (stdio from inetd/xinetd/systemd, or a socket handed over by the
 * built-in listener) → protocol session. One process serves one connection.
 */
import { hostname as osHostname } from 'node:os';
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { quickDaemonArgs, type DaemonArgs } from './args.js';
import { initLog, log, type Log } from './log.js';
import { Connection, socketInfo, stdioConnection } from './connection.js';
import { netModule } from './lazy.js';
import { secureContextLoader } from './tls.js';
import { becomeUser, currentUserIdentity, isRoot } from './identity.js';
import type { Authenticator, Identity } from '../auth/types.js';
import type { Store } from '../store/types.js';
import { createAuthenticator } from '../auth/index.js';
import { createStore } from '../store/index.js';
import { settleJournalRemovals } from '../store/journal.js';

export type Program = 'imapd' | 'ipop3d' | 'ipop2d';
export type TerminateReason = 'terminated' | 'hangup';

export interface ServerContext {
  program: Program;
  config: Config;
  /** Host name for greetings and logs. */
  hostname: string;
  log: Log;
  /** Set when started as an ordinary user (ssh host imapd): IMAP greets with PREAUTH as this identity. */
  preauth?: Identity;
  /** The authenticator for this connection (created on first use). */
  auth(): Authenticator;
  /** Drop privileges to `id` (groups, gid, uid, HOME, umask, cwd) and open the user's store. Throws on failure. */
  enterUser(id: Identity): Store;
  /** Register the session's reaction to SIGTERM ("Killed (terminated)") and SIGHUP ("Hangup"). */
  onTerminate(handler: (reason: TerminateReason) => void): void;
}

export type SessionRunner = (conn: Connection, ctx: ServerContext) => Promise<void>;

/** What each protocol says when it refuses to serve before its greeting. */
const REFUSAL: Record<Program, (text: string) => string> = {
  imapd: (t) => `* BYE ${t}\r\n`,
  ipop3d: (t) => `-ERR ${t}\r\n`,
  ipop2d: (t) => `- ${t}\r\n`,
};

const VERSION = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
})();
export function version(): string {
  return VERSION;
}

export function resolveHostname(cfg: Config): string {
  return cfg.str('hostname') || osHostname();
}

/** Parse argv and run one session of `program` with `runner`. */
export async function runDaemon(program: Program, runner: SessionRunner, argv = process.argv): Promise<void> {
  const invokedAs = basename(argv[1] ?? program);
  // The usual command lines (inetd, systemd, the listener's workers) are
  // parsed without loading commander; --help, --version, --show-config and
  // mistakes go through it (src/runtime/flags.ts).
  const opts: DaemonArgs = quickDaemonArgs(argv.slice(2)) ?? (await import('./flags.js')).parseDaemonFlags(program, VERSION, argv);

  let config: Config;
  try {
    config = loadConfig({ file: opts.config, overrides: opts.overrides });
  } catch (e) {
    if (e instanceof ConfigError) {
      refuseStart(program, e.message);
      return;
    }
    throw e;
  }
  if (opts.showConfig) {
    for (const [k, v] of config.entries()) process.stdout.write(`${k} = ${Array.isArray(v) ? v.join(', ') : (v ?? '')}\n`);
    return;
  }

  const ident = invokedAs.replace(/\.js$/, '') || program;
  initLog({
    ident,
    target: config.str('log-target') as 'syslog' | 'file' | 'none',
    file: config.str('log-file'),
    facility: config.str('syslog-facility'),
    level: config.str('log-level') as 'info',
  });
  // Node prints its warnings to stderr, which is the client's socket under
  // inetd: take the printer away and send them to the log instead.
  process.removeAllListeners('warning');
  process.on('warning', (w) => log().warning(`Node warning: ${w.name}: ${w.message}`));
  process.on('uncaughtException', (e) => {
    log().crit(`Fatal error: ${e.stack ?? e.message}`);
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    log().crit(`Fatal error: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(1);
  });

  const implicitTls = config.bool('implicit-tls') || /^(imapsd|ipop3sd|pop3sd|simapd|spop3d|sipop3d)$/.test(ident);
  const secureContext = secureContextLoader(config);

  const conn = opts.worker ? await receiveWorkerSocket(secureContext) : makeStdioConnection(secureContext);
  if (!conn) return;

  const terminateHandlers: Array<(r: TerminateReason) => void> = [];
  const onSignal = (r: TerminateReason) => () => {
    if (terminateHandlers.length === 0) process.exit(r === 'terminated' ? 1 : 0);
    for (const h of terminateHandlers) h(r);
  };
  process.on('SIGTERM', onSignal('terminated'));
  process.on('SIGHUP', onSignal('hangup'));

  let authenticator: Authenticator | undefined;
  const ctx: ServerContext = {
    program,
    config,
    hostname: resolveHostname(config),
    log: log(),
    preauth: program === 'imapd' && !isRoot() && config.str('preauth') === 'auto' ? currentUserIdentity() : undefined,
    auth: () => (authenticator ??= createAuthenticator(config, log(), program === 'imapd' ? 'imap' : 'pop')),
    enterUser: (id) => {
      becomeUser(id, config.int('umask'));
      return createStore(id, config, log(), resolveHostname(config));
    },
    onTerminate: (h) => terminateHandlers.push(h),
  };

  if (implicitTls) {
    try {
      await conn.startTls();
    } catch (e) {
      log().error(`TLS negotiation failed host=[${conn.remoteAddress}]: ${(e as Error).message}`);
      await conn.close();
      return;
    }
  }
  await runner(conn, ctx);
  await conn.close();
  await settleJournalRemovals();
  // One process, one connection: whatever else is pending (stdin still open,
  // timers) must not keep the process alive once the session is over.
  process.exit(process.exitCode ?? 0);
}

function makeStdioConnection(secureContext: ReturnType<typeof secureContextLoader>): Connection {
  const { open, info, direct } = stdioConnection();
  return new Connection(open, info, secureContext, direct);
}

/** Listener worker: wait for the accepted socket from the parent, then serve it like inetd would. */
function receiveWorkerSocket(secureContext: ReturnType<typeof secureContextLoader>): Promise<Connection | undefined> {
  return new Promise((resolve) => {
    if (!process.send) return resolve(undefined);
    const onMessage = (msg: unknown, handle: unknown) => {
      if (handle instanceof netModule().Socket && (msg as { type?: string })?.type === 'warmup') {
        // The listener's throw-away connection (listener.ts warmUp): receive
        // it, write to it and close it as a session would, so that the real
        // one runs warm code.
        handle.on('error', () => handle.destroy());
        handle.setNoDelay(true);
        socketInfo(handle);
        handle.write('* warm-up\r\n', () => {
          handle.destroy();
          process.send?.({ type: 'warm' });
        });
        return;
      }
      if (handle instanceof netModule().Socket && (msg as { type?: string })?.type === 'connection') {
        process.off('message', onMessage);
        handle.setNoDelay(true);
        // Tell the listener we are busy, then let the IPC channel stop keeping us alive.
        process.send?.({ type: 'busy' });
        process.channel?.unref();
        resolve(new Connection(handle, socketInfo(handle), secureContext));
      }
    };
    process.on('message', onMessage);
    process.on('disconnect', () => resolve(undefined));
    // Compile Node's socket code now, while the worker waits in the pool,
    // rather than while a client waits for its greeting.
    new (netModule().Socket)().destroy();
    process.send({ type: 'ready' });
  });
}

function refuseStart(program: Program, message: string): void {
  // The administrator sees the reason in syslog; the client gets a protocol-level refusal.
  try {
    initLog({ ident: program, target: 'syslog' }).crit(`Configuration error, not starting: ${message}`);
  } catch {
    /* no syslog available */
  }
  if (process.stdin.isTTY) process.stderr.write(`${program}: ${message}\n`);
  else process.stdout.write(REFUSAL[program]('Server configuration error'));
  process.exitCode = 78; // EX_CONFIG
}
