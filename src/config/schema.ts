/**
 * Configuration keys: one registry, so that the file parser, the command-line
 * flags and docs/configuration.md all come from the same definitions.
 *
 * Each area owns a file in src/config/keys/ that exports its KeyDef list.
 */

export type KeyType = 'string' | 'path' | 'int' | 'bool' | 'list' | 'mode' | 'seconds' | 'enum';

export interface KeyDef {
  /** kebab-case name, used in the file and as `--name` on the command line. */
  key: string;
  type: KeyType;
  /** Default value (already parsed). `undefined` means unset. */
  default: string | number | boolean | string[] | undefined;
  /** One or two sentences for docs/configuration.md and --help. */
  description: string;
  /** For type 'enum'. */
  values?: string[];
  /** For ints/seconds: inclusive bounds. */
  min?: number;
  max?: number;
  /** Heading in docs/configuration.md. */
  section: string;
}

export type Value = string | number | boolean | string[] | undefined;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const TRUE = new Set(['1', 'yes', 'true', 'on']);
const FALSE = new Set(['0', 'no', 'false', 'off']);

/** Parse a textual value for `def`; throws ConfigError naming the key. */
export function parseValue(def: KeyDef, raw: string, where: string): Value {
  const v = raw.trim();
  const bad = (why: string): never => {
    throw new ConfigError(`${where}: bad value for ${def.key}: ${JSON.stringify(raw)} (${why})`);
  };
  switch (def.type) {
    case 'string':
    case 'path':
      if (def.type === 'path' && v !== '' && !v.startsWith('/') && !v.startsWith('./') && !v.startsWith('../'))
        bad('expected a path');
      return v;
    case 'enum':
      if (!def.values?.includes(v)) bad(`expected one of ${def.values?.join(', ')}`);
      return v;
    case 'bool':
      if (TRUE.has(v.toLowerCase())) return true;
      if (FALSE.has(v.toLowerCase())) return false;
      return bad('expected yes or no');
    case 'int':
    case 'seconds': {
      let n: number;
      if (def.type === 'seconds') {
        const m = /^(\d+)\s*(s|m|h|d)?$/i.exec(v);
        if (!m) return bad('expected a number of seconds, optionally with s, m, h or d');
        const mult = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's'];
        n = Number(m[1]) * mult;
      } else {
        if (!/^-?\d+$/.test(v)) return bad('expected an integer');
        n = Number(v);
      }
      if (def.min !== undefined && n < def.min) bad(`must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) bad(`must be at most ${def.max}`);
      return n;
    }
    case 'mode':
      if (!/^0?[0-7]{3,4}$/.test(v)) return bad('expected an octal file mode such as 0600');
      return parseInt(v, 8);
    case 'list':
      return v === '' ? [] : v.split(/[\s,]+/).filter(Boolean);
  }
}

export function formatDefault(def: KeyDef): string {
  const d = def.default;
  if (d === undefined) return '(unset)';
  if (def.type === 'mode' && typeof d === 'number') return '0' + d.toString(8);
  if (Array.isArray(d)) return d.join(', ') || '(empty)';
  if (typeof d === 'boolean') return d ? 'yes' : 'no';
  if (d === '') return '(empty)';
  return String(d);
}
