/**
 * uwimap-users — manage the virtual users of the sqlite module.
 *   uwimap-users add USER [--uid N] [--gid N] [--mail-root DIR] [--quota BYTES]
 *   uwimap-users passwd USER | remove USER | disable USER | enable USER | list
 * Passwords are read from the terminal (no echo) or from standard input,
 * never from the command line.
 */
import { Command } from 'commander';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { openUserDb } from '../auth/users-db.js';
import { version } from '../runtime/daemon.js';

async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    for await (const c of stdin) data += c;
    const line = data.split(/\r?\n/)[0];
    if (!line) throw new Error('no password on standard input');
    return line;
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  let pw = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      for (const c of b.toString('utf8')) {
        if (c === '\r' || c === '\n') {
          stdin.setRawMode(false);
          stdin.off('data', onData);
          stdin.pause();
          process.stderr.write('\n');
          return pw ? resolve(pw) : reject(new Error('empty password'));
        }
        if (c === '\u0003') {
          stdin.setRawMode(false);
          return reject(new Error('cancelled'));
        }
        if (c === '\u007f') pw = pw.slice(0, -1);
        else pw += c;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

const program = new Command('uwimap-users').description('Manage virtual users (sqlite module)').version(version(), '-V, --version').option('-c, --config <file>', 'configuration file');
const db = () => {
  const cfg = loadConfig({ file: program.opts<{ config?: string }>().config });
  return openUserDb(cfg.str('virtual-users-db') || join(cfg.str('state-directory'), 'users.sqlite'));
};
program
  .command('add <user>')
  .description('add a user (password from the terminal or stdin)')
  .option('--uid <n>', 'uid the user runs as')
  .option('--gid <n>', 'gid the user runs as')
  .option('--mail-root <dir>', 'mailbox root (default from virtual-mail-root)')
  .option('--quota <bytes>', 'quota in bytes')
  .action(async (user: string, o: { uid?: string; gid?: string; mailRoot?: string; quota?: string }) => {
    const password = await readPassword(`Password for ${user}: `);
    const d = db();
    d.addUser({ user, password, uid: o.uid ? Number(o.uid) : undefined, gid: o.gid ? Number(o.gid) : undefined, mailRoot: o.mailRoot, quota: o.quota ? Number(o.quota) : undefined });
    d.close();
    process.stdout.write(`added ${user}\n`);
  });
program.command('passwd <user>').description('set a new password').action(async (user: string) => {
  const password = await readPassword(`New password for ${user}: `);
  const d = db();
  const ok = d.setPassword(user, password);
  d.close();
  if (!ok) {
    process.stderr.write(`no such user: ${user}\n`);
    process.exit(1);
  }
});
for (const [name, fn, what] of [
  ['remove', (d: ReturnType<typeof db>, u: string) => d.removeUser(u), 'remove a user'],
  ['disable', (d: ReturnType<typeof db>, u: string) => d.setEnabled(u, false), 'refuse logins of a user'],
  ['enable', (d: ReturnType<typeof db>, u: string) => d.setEnabled(u, true), 'allow logins again'],
] as const) {
  program.command(`${name} <user>`).description(what).action((user: string) => {
    const d = db();
    const ok = fn(d, user);
    d.close();
    if (!ok) {
      process.stderr.write(`no such user: ${user}\n`);
      process.exit(1);
    }
  });
}
program.command('list').description('list users').action(() => {
  const d = db();
  for (const u of d.listUsers()) process.stdout.write(`${u.user}\t${u.enabled ? 'enabled' : 'disabled'}\tuid=${u.uid ?? '-'}\tgid=${u.gid ?? '-'}\troot=${u.mail_root ?? '-'}\tquota=${u.quota ?? '-'}\n`);
  d.close();
});
await program.parseAsync(process.argv);
