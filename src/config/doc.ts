/**
 * docs/configuration.md, generated from the key registry so that the
 * reference can never drift from the code (a test compares them).
 */
import { ALL_KEYS } from './index.js';
import { formatDefault } from './schema.js';

export function configurationMarkdown(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/keys/*.ts by `node scripts/gen-config-doc.js`; do not edit by hand. -->',
    '',
    'Every daemon and tool reads the same configuration: built-in defaults (enough for a',
    'vanilla UNIX host), then the configuration file, then command-line flags.',
    '',
    '- The file is `/etc/uwimap.conf` when it exists, or the one named by `--config FILE` or the',
    '  `UWIMAP_CONFIG` environment variable.',
    '- One `key = value` per line (`key value` works too); `#` starts a comment line.',
    '- Every key is also a flag: `--key value` on the command line (for example in `inetd.conf`).',
    '- Booleans are `yes`/`no` (also `true`/`false`, `on`/`off`, `1`/`0`); lists are separated by',
    '  commas or spaces; modes are octal (`0600`); durations are seconds, or a number with `s`, `m`, `h`, `d`.',
    '- An unknown key or a bad value is an error that names the key: the daemon refuses to start',
    '  (IMAP `* BYE Server configuration error`, exit status 78) and logs the reason.',
    '- `imapd --show-config` prints the effective configuration.',
    '',
  ];
  const sections = [...new Set(ALL_KEYS.map((k) => k.section))];
  for (const s of sections) {
    out.push(`## ${s}`, '', '| key | type | default | meaning |', '|---|---|---|---|');
    for (const k of ALL_KEYS.filter((x) => x.section === s)) {
      const type = k.type === 'enum' ? k.values!.join(' \\| ') : k.type;
      out.push(`| \`${k.key}\` | ${type} | \`${formatDefault(k).replace(/\|/g, '\\|')}\` | ${k.description.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
