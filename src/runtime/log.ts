/**
 * Logging: pino, with a destination that writes to syslog(3) (facility mail,
 * ident = program name, LOG_PID, as UW's openlog) or appends text lines to a
 * file. Never to stdout or stderr: under inetd and systemd both are the
 * client's socket.
 *
 * Messages follow UW's wording so that administrators' greps keep working:
 * "Login user=fred host=client.example [192.0.2.1]", "Logout user=…",
 * "Autologout user=…", "Login failed user=… auth=… host=…".
 */
import { openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger as PinoLogger } from 'pino';
import { createRequire } from 'node:module';
import * as posix from './posix.js';

export type LogTarget = 'syslog' | 'file' | 'none';
export type Level = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'crit' | 'alert';

export interface LogOptions {
  ident: string;
  target: LogTarget;
  file?: string;
  facility?: string;
  level?: Level;
}

const PINO_LEVELS: Record<Level, number> = {
  debug: 20,
  info: 30,
  notice: 35,
  warning: 40,
  error: 50,
  crit: 55,
  alert: 58,
};
const SYSLOG_PRIO: Record<number, number> = {
  20: posix.LOG_DEBUG,
  30: posix.LOG_INFO,
  35: posix.LOG_NOTICE,
  40: posix.LOG_WARNING,
  50: posix.LOG_ERR,
  55: posix.LOG_CRIT,
  58: posix.LOG_ALERT,
  60: posix.LOG_EMERG,
};
const LEVEL_NAME: Record<number, string> = { 20: 'debug', 30: 'info', 35: 'notice', 40: 'warning', 50: 'err', 55: 'crit', 58: 'alert', 60: 'emerg' };

/**
 * Turns pino's JSON lines into syslog calls or text lines in a file (pino's
 * destination: an object with write(); not a Node stream, so that starting
 * a daemon does not load the stream module).
 */
class Sink {
  private fd: number | undefined;
  private syslogOpen = false;
  constructor(private readonly opts: LogOptions) {
    // The log file is opened now, while the process may still be root: after
    // the privilege drop the user could not open it.
    if (opts.target === 'file') this.fd = openSync(opts.file ?? '/dev/null', 'a', 0o640);
  }
  /** Synchronous, so that a line logged just before exit is never lost. */
  writeLine(chunk: string): void {
    let rec: { level: number; msg?: string; time?: number; [k: string]: unknown };
    try {
      rec = JSON.parse(chunk);
    } catch {
      return;
    }
    const { level, msg = '', time, pid: _pid, hostname: _h, ...rest } = rec;
    void _pid;
    void _h;
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const text = extra ? `${msg} ${extra}` : msg;
    if (this.opts.target === 'syslog') {
      if (!this.syslogOpen) {
        posix.openlog(this.opts.ident, posix.LOG_PID | posix.LOG_NDELAY, posix.SYSLOG_FACILITIES[this.opts.facility ?? 'mail'] ?? posix.LOG_MAIL);
        this.syslogOpen = true;
      }
      posix.syslog(SYSLOG_PRIO[level] ?? posix.LOG_INFO, text);
    } else if (this.fd !== undefined) {
      const d = new Date(time ?? Date.now());
      const stamp = d.toISOString();
      writeSync(this.fd, `${stamp} ${hostname()} ${this.opts.ident}[${process.pid}]: ${LEVEL_NAME[level] ?? level}: ${text}\n`);
    }
  }
}

export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  notice(msg: string, fields?: Record<string, unknown>): void;
  warning(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  crit(msg: string, fields?: Record<string, unknown>): void;
  alert(msg: string, fields?: Record<string, unknown>): void;
}

class PinoLog implements Log {
  constructor(private readonly p: PinoLogger<'notice' | 'crit' | 'alert'>) {}
  private emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
    const fn = (this.p as unknown as Record<string, (o: object, m: string) => void>)[level === 'warning' ? 'warn' : level];
    fn.call(this.p, fields ?? {}, msg);
  }
  debug(m: string, f?: Record<string, unknown>) { this.emit('debug', m, f); }
  info(m: string, f?: Record<string, unknown>) { this.emit('info', m, f); }
  notice(m: string, f?: Record<string, unknown>) { this.emit('notice', m, f); }
  warning(m: string, f?: Record<string, unknown>) { this.emit('warning', m, f); }
  error(m: string, f?: Record<string, unknown>) { this.emit('error', m, f); }
  crit(m: string, f?: Record<string, unknown>) { this.emit('crit', m, f); }
  alert(m: string, f?: Record<string, unknown>) { this.emit('alert', m, f); }
}

const nullLog: Log = {
  debug() {},
  info() {},
  notice() {},
  warning() {},
  error() {},
  crit() {},
  alert() {},
};

let current: Log = nullLog;

/**
 * Set up the process logger. Call once at start; later calls replace it.
 * pino and the syslog connection are set up at the first log line, so a
 * daemon greets its client before paying for them.
 */
export function initLog(opts: LogOptions): Log {
  if (opts.target === 'none') {
    current = nullLog;
    return current;
  }
  let real: Log | undefined;
  const sink = new Sink(opts);
  const make = (): Log => {
    if (real) return real;
    const pino = createRequire(import.meta.url)('pino') as typeof import('pino');
    // pino writes synchronously to a destination we own; route straight to writeLine.
    const dest = { write: (s: string) => sink.writeLine(s) };
    const p = pino(
      {
        level: opts.level === 'warning' ? 'warn' : (opts.level ?? 'info'),
        customLevels: { notice: PINO_LEVELS.notice, crit: PINO_LEVELS.crit, alert: PINO_LEVELS.alert },
        base: undefined,
        timestamp: pino.stdTimeFunctions.epochTime,
      },
      dest,
    );
    real = new PinoLog(p as PinoLogger<'notice' | 'crit' | 'alert'>);
    return real;
  };
  const lazy = (level: Level) => (m: string, f?: Record<string, unknown>) => make()[level](m, f);
  current = { debug: lazy('debug'), info: lazy('info'), notice: lazy('notice'), warning: lazy('warning'), error: lazy('error'), crit: lazy('crit'), alert: lazy('alert') };
  return current;
}

/** The process logger (a no-op until initLog). */
export function log(): Log {
  return current;
}
