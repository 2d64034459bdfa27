/**
 * mailserverd — the built-in listener: IMAP, IMAPS, POP3, POP3S and POP2
 * without inetd, each connection served by its own pre-started worker
 * process. `--demo` sets up and runs the embedded default on 127.0.0.1.
 */
import { Command } from 'commander';
import { loadConfig, ConfigError } from '../config/index.js';
import { initLog, log } from '../runtime/log.js';
import { version } from '../runtime/daemon.js';
import { addConfigFlags, configOverrides } from '../runtime/flags.js';
import { Listener } from '../listener/listener.js';
import { setupDemo } from '../demo/setup.js';

const program = new Command('mailserverd')
  .description('Built-in listener for imapd, ipop3d and ipop2d (no inetd needed)')
  .version(version(), '-V, --version')
  .option('--demo', 'set up ./var with a demo user and listen on 127.0.0.1 (ports 1143, 1993, 1110, 1995, 1109)');
addConfigFlags(program);
program.parse(process.argv);
const opts = program.opts<Record<string, unknown>>();

let configFile = opts.config as string | undefined;
let banner: string[] = [];
if (opts.demo) {
  initLog({ ident: 'mailserverd', target: 'none' });
  const demo = await setupDemo(log());
  configFile = demo.configFile;
  banner = [
    'uw-imapd-ts demo listener (state in ./var, log in ./var/log/mail.log)',
    `  IMAP  127.0.0.1:${demo.ports.imap} (STARTTLS)   IMAPS 127.0.0.1:${demo.ports.imaps}`,
    `  POP3  127.0.0.1:${demo.ports.pop3} (STLS)       POP3S 127.0.0.1:${demo.ports.pop3s}   POP2 127.0.0.1:${demo.ports.pop2}`,
    `  user: ${demo.user}   password: ${demo.password}`,
    '',
    `Try:  telnet 127.0.0.1 ${demo.ports.imap}`,
    `      a login ${demo.user} ${demo.password}`,
    '      b select inbox',
    '      c fetch 1 body[]',
    '      d logout',
    '',
  ];
}
let config;
try {
  config = loadConfig({ file: configFile, overrides: configOverrides(opts) });
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`mailserverd: ${e.message}\n`);
    process.exit(78);
  }
  throw e;
}
initLog({ ident: 'mailserverd', target: config.str('log-target') as 'syslog', file: config.str('log-file'), facility: config.str('syslog-facility'), level: config.str('log-level') as 'info' });
const listener = new Listener({ config, configFile, log: log() });
const bound = await listener.start();
for (const b of bound) log().info(`${b.service} listening on ${b.address}:${b.port}`);
process.stdout.write(banner.length ? banner.join('\n') + '\n' : `mailserverd listening: ${bound.map((b) => `${b.service} ${b.address}:${b.port}`).join(', ')}\n`);
const stop = async () => {
  await listener.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
