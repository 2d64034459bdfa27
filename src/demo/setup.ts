/**
 * The embedded default for newcomers (`npm start`): a state directory
 * (./var) with a configuration, a self-signed certificate, a demo virtual
 * user with a random password and an INBOX holding a welcome message.
 */
import { mkdirSync, existsSync, writeFileSync, readFileSync, chmodSync, chownSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { openUserDb } from '../auth/users-db.js';
import { loadConfig } from '../config/index.js';
import { createStore } from '../store/index.js';
import type { Log } from '../runtime/log.js';

export interface Demo {
  stateDir: string;
  configFile: string;
  user: string;
  password: string;
  ports: Record<string, number>;
}

export const DEMO_PORTS = { imap: 1143, imaps: 1993, pop3: 1110, pop3s: 1995, pop2: 1109 };

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), uid, gid);
}

const WELCOME = (user: string, host: string) =>
  [
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `From: uw-imapd-ts <postmaster@${host}>`,
    `To: ${user}@${host}`,
    'Subject: Welcome to your mailbox',
    `Message-ID: <welcome.${Date.now()}@${host}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'This message is in your INBOX, a traditional UNIX mailbox file kept the way',
    'UW imapd kept it, so mutt, Alpine and the UW tools can read it too.',
    '',
    'Try FETCH, STORE, SEARCH, COPY and IDLE, or collect it over POP3.',
    '',
  ].join('\r\n');

export async function setupDemo(log: Log, base = process.cwd()): Promise<Demo> {
  const stateDir = resolve(base, 'var');
  for (const d of ['', 'log', 'tls', 'mail']) mkdirSync(join(stateDir, d), { recursive: true, mode: 0o755 });
  mkdirSync(join(stateDir, 'spool'), { recursive: true });
  chmodSync(join(stateDir, 'spool'), 0o1777);
  const isRoot = process.getuid?.() === 0;
  const uid = isRoot ? 65534 : process.getuid!();
  const gid = isRoot ? 65534 : process.getgid!();
  const cert = join(stateDir, 'tls', 'cert.pem');
  const key = join(stateDir, 'tls', 'key.pem');
  if (!existsSync(cert)) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    if (r.status !== 0) log.warning('openssl could not make a self-signed certificate: TLS ports will refuse service');
    else chmodSync(key, 0o600);
  }
  const configFile = join(stateDir, 'uwimap.conf');
  const lines = [
    '# Demo configuration written by `npm start` (mailserverd --demo). See docs/configuration.md.',
    `hostname = ${hostname()}`,
    `state-directory = ${stateDir}`,
    'log-target = file',
    `log-file = ${join(stateDir, 'log', 'mail.log')}`,
    'auth-modules = sqlite',
    'plaintext = always',
    `virtual-users-db = ${join(stateDir, 'users.sqlite')}`,
    `virtual-uid = ${uid}`,
    `virtual-gid = ${gid}`,
    `virtual-mail-root = ${join(stateDir, 'mail')}/%u`,
    `spool-directory = ${join(stateDir, 'spool')}`,
    `tls-cert = ${cert}`,
    `tls-key = ${key}`,
    `listen-imap = 127.0.0.1:${DEMO_PORTS.imap}`,
    `listen-imaps = 127.0.0.1:${DEMO_PORTS.imaps}`,
    `listen-pop3 = 127.0.0.1:${DEMO_PORTS.pop3}`,
    `listen-pop3s = 127.0.0.1:${DEMO_PORTS.pop3s}`,
    `listen-pop2 = 127.0.0.1:${DEMO_PORTS.pop2}`,
    'preauth = never',
    'login-failure-delay = 1',
    '',
  ];
  writeFileSync(configFile, lines.join('\n'));
  const user = 'demo';
  const pwFile = join(stateDir, 'demo-password');
  const db = openUserDb(join(stateDir, 'users.sqlite'));
  let password: string;
  if (db.get(user) && existsSync(pwFile)) password = readFileSync(pwFile, 'utf8').trim();
  else {
    password = randomBytes(9).toString('base64url');
    if (db.get(user)) db.setPassword(user, password);
    else db.addUser({ user, password });
    writeFileSync(pwFile, password + '\n', { mode: 0o600 });
  }
  db.close();
  const root = join(stateDir, 'mail', user);
  if (!existsSync(join(root, 'INBOX'))) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const config = loadConfig({ file: configFile });
    const store = createStore({ user, uid, gid, groups: [gid], home: root, mailRoot: root, inbox: join(root, 'INBOX'), restrict: true, virtual: true, module: 'sqlite' }, config, log, hostname());
    await store.append('INBOX', [{ data: Buffer.from(WELCOME(user, hostname())) }]);
    await store.close();
  }
  if (isRoot) chownTree(root, uid, gid);
  return { stateDir, configFile, user, password, ports: DEMO_PORTS };
}
