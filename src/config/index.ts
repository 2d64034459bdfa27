/**
 * Configuration: built-in defaults (enough for a vanilla UNIX host, as UW
 * promised), an optional file, then command-line flags. Unknown keys and bad
 * values are errors that name the key: the daemon refuses to start rather
 * than guess.
 *
 * File format (docs/configuration.md): one `key = value` per line, `#`
 * comments, blank lines ignored. The same keys work as `--key value` flags.
 */
import { readFileSync, existsSync } from 'node:fs';
import { ConfigError, parseValue, type KeyDef, type Value } from './schema.js';
import { serverKeys, logKeys, tlsKeys, timerKeys } from './keys/server.js';
import { listenerKeys } from './keys/listener.js';
import { authKeys } from './keys/auth.js';
import { storeKeys } from './keys/store.js';
import { imapKeys } from './keys/imap.js';
import { popKeys } from './keys/pop.js';

export { ConfigError } from './schema.js';
export type { KeyDef } from './schema.js';

export const ALL_KEYS: KeyDef[] = [
  ...serverKeys,
  ...logKeys,
  ...tlsKeys,
  ...timerKeys,
  ...authKeys,
  ...storeKeys,
  ...imapKeys,
  ...popKeys,
  ...listenerKeys,
];

const BY_NAME = new Map<string, KeyDef>();
for (const k of ALL_KEYS) {
  if (BY_NAME.has(k.key)) throw new Error(`duplicate config key ${k.key}`);
  BY_NAME.set(k.key, k);
}

export function keyDef(name: string): KeyDef | undefined {
  return BY_NAME.get(name);
}

/** The default configuration file, read when it exists and no --config is given. */
export const DEFAULT_CONFIG_FILE = '/etc/uwimap.conf';

export class Config {
  private readonly values = new Map<string, Value>();
  /** Where each value came from, for error messages and `--show-config`. */
  readonly sources = new Map<string, string>();

  constructor() {
    for (const k of ALL_KEYS) this.values.set(k.key, k.default);
  }

  private def(key: string): KeyDef {
    const d = BY_NAME.get(key);
    if (!d) throw new Error(`internal error: unknown config key ${key}`);
    return d;
  }

  /** Set from text (file or flag). */
  setText(key: string, raw: string, where: string): void {
    const d = BY_NAME.get(key);
    if (!d) throw new ConfigError(`${where}: unknown configuration key "${key}"`);
    this.values.set(key, parseValue(d, raw, where));
    this.sources.set(key, where);
  }

  /** Set an already-typed value (programmatic defaults such as the demo setup). */
  set(key: string, value: Value): void {
    this.def(key);
    this.values.set(key, value);
    this.sources.set(key, 'program');
  }

  str(key: string): string {
    const v = this.values.get(this.def(key).key);
    return v === undefined ? '' : String(v);
  }
  int(key: string): number {
    const v = this.values.get(this.def(key).key);
    return typeof v === 'number' ? v : Number(v ?? 0);
  }
  bool(key: string): boolean {
    return this.values.get(this.def(key).key) === true;
  }
  list(key: string): string[] {
    const v = this.values.get(this.def(key).key);
    return Array.isArray(v) ? v : v === undefined || v === '' ? [] : [String(v)];
  }
  raw(key: string): Value {
    return this.values.get(this.def(key).key);
  }

  /** All values, for diagnostics (`--show-config`). */
  entries(): Array<[string, Value]> {
    return ALL_KEYS.map((k) => [k.key, this.values.get(k.key)]);
  }
}

/** Parse configuration text into `cfg`. */
export function applyConfigText(cfg: Config, text: string, file: string): void {
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)\s*(?:=\s*|\s+)(.*)$/.exec(t) ?? /^([A-Za-z0-9][A-Za-z0-9-]*)\s*=?\s*$/.exec(t);
    if (!m) throw new ConfigError(`${file}:${i + 1}: cannot parse line: ${JSON.stringify(line)}`);
    cfg.setText(m[1].toLowerCase(), m[2] ?? '', `${file}:${i + 1}`);
  });
}

export interface LoadOptions {
  /** Explicit file (--config). Must exist. */
  file?: string;
  /** key → raw text from command-line flags. */
  overrides?: Array<[string, string]>;
  /** Programmatic settings applied before the file (e.g. demo defaults). */
  presets?: Array<[string, Value]>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const cfg = new Config();
  for (const [k, v] of opts.presets ?? []) cfg.set(k, v);
  const file = opts.file ?? process.env.UWIMAP_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(e as Error).message}`);
    }
    applyConfigText(cfg, text, file);
  }
  for (const [k, v] of opts.overrides ?? []) cfg.setText(k, v, `--${k}`);
  return cfg;
}
