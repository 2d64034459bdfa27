/**
 * The quick path through a daemon's command line: what inetd, systemd and
 * the listener pass (`--config FILE`, `-c FILE`, `--worker`, `--<key> VALUE`,
 * `--<key>=VALUE` for configuration keys) is parsed here without loading
 * commander. Anything else — --help, --version, --show-config, an unknown
 * flag, a missing value — returns undefined and goes to flags.ts, which
 * answers exactly as before.
 */
import { ALL_KEYS } from '../config/index.js';

export interface DaemonArgs {
  config?: string;
  /** [key, raw text] pairs for loadConfig, in ALL_KEYS order, last one given wins. */
  overrides: Array<[string, string]>;
  worker: boolean;
  showConfig: boolean;
}

let keyNames: Set<string> | undefined;

export function quickDaemonArgs(args: readonly string[]): DaemonArgs | undefined {
  keyNames ??= new Set(ALL_KEYS.map((k) => k.key));
  const given = new Map<string, string>();
  let config: string | undefined;
  let worker = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--worker') {
      worker = true;
      continue;
    }
    if (!a.startsWith('--') && a !== '-c') return undefined;
    const eq = a.indexOf('=');
    let name: string;
    let value: string | undefined;
    if (a === '-c') name = 'config';
    else if (eq > 2) {
      name = a.slice(2, eq);
      value = a.slice(eq + 1);
    } else name = a.slice(2);
    if (name !== 'config' && !keyNames.has(name)) return undefined;
    if (value === undefined) {
      if (i + 1 >= args.length) return undefined;
      value = args[++i];
    }
    if (name === 'config') config = value;
    else given.set(name, value);
  }
  const overrides: Array<[string, string]> = [];
  for (const k of ALL_KEYS) {
    const v = given.get(k.key);
    if (v !== undefined) overrides.push([k.key, v]);
  }
  return { config, overrides, worker, showConfig: false };
}
