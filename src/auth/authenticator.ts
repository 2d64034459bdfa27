/**
 * The Authenticator the protocols use: plaintext policy (UW SSLTYPE=nopwd by
 * default), the module chain, SASL, APOP, throttling of password guessing
 * shared between processes, and UW's log lines (never a password).
 */
import { sharedNamespaceDir } from '../store/user-dirs.js';
import { PamModule } from './pam.js';
import { join } from 'node:path';
import { nodeCrypto } from '../runtime/lazy.js';
import { existsSync, readFileSync } from 'node:fs';
import type { AuthContext, Authenticator, CheckpwModule, Identity, SaslExchange } from './types.js';
import { AuthError } from './types.js';
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';
import { PasswdModule, SqliteModule, CramMd5Module, ExternalModule, NulModule } from './modules.js';
import { plain, login as saslLogin, cramMd5, anonymous, scramSha256, type SaslBackend } from './sasl.js';
import { Throttle } from './throttle.js';
import { getpwnam } from '../runtime/posix.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ModuleAuthenticator implements Authenticator {
  private readonly modules: CheckpwModule[];
  private readonly passwd: PasswdModule;
  private readonly cram: CramMd5Module;
  private readonly sqlite: SqliteModule;
  private readonly throttle: Throttle;
  private failures = 0;

  constructor(
    private readonly cfg: Config,
    private readonly log: Log,
    readonly service: 'imap' | 'pop',
  ) {
    this.passwd = new PasswdModule(cfg);
    this.cram = new CramMd5Module(cfg, log, this.passwd);
    this.sqlite = new SqliteModule(cfg);
    this.throttle = new Throttle(cfg, log);
    this.modules = cfg.list('auth-modules').map((name) => {
      switch (name) {
        case 'passwd':
          return this.passwd;
        case 'sqlite':
          return this.sqlite;
        case 'cram-md5':
          return this.cram;
        case 'external':
          return new ExternalModule(cfg, this.passwd);
        case 'nul':
          return new NulModule();
        case 'pam':
          return new PamModule(cfg);
        default:
          throw new Error(`unknown auth module ${name}`);
      }
    });
  }

  plaintextAllowed(ctx: AuthContext): boolean {
    if (this.modules.some((m) => m.forbidsPlaintext)) return false;
    const p = this.cfg.str('plaintext');
    if (p === 'always') return true;
    if (p === 'never') return false;
    return ctx.tls || ctx.local;
  }

  mechanisms(ctx: AuthContext): string[] {
    const out: string[] = [];
    if (this.cram.available() || this.cfg.list('auth-modules').includes('cram-md5')) if (this.cram.available()) out.push('CRAM-MD5');
    if (this.cfg.list('auth-modules').includes('sqlite')) out.push('SCRAM-SHA-256');
    if (this.plaintextAllowed(ctx)) out.push('PLAIN', 'LOGIN');
    if (this.anonymousAllowed()) out.push('ANONYMOUS');
    return out;
  }

  anonymousAllowed(): boolean {
    return existsSync(this.cfg.str('anonymous-file'));
  }

  apopAvailable(): boolean {
    return this.cram.available() || this.cfg.list('auth-modules').includes('sqlite');
  }

  async lookup(user: string): Promise<Identity | undefined> {
    for (const m of this.modules) {
      const id = await m.lookup?.(user);
      if (id) return id;
    }
    return undefined;
  }

  private async failed(user: string, ctx: AuthContext, reason: string): Promise<never> {
    this.failures++;
    this.log.notice(`Login failed user=${user} auth=${user} host=[${ctx.remoteAddress}]`, { reason });
    const delay = this.throttle.recordFailure(user, ctx.remoteAddress);
    await sleep(delay);
    throw new AuthError('Authentication failed', reason);
  }

  private async precheck(user: string, ctx: AuthContext): Promise<void> {
    if (user.length >= 65) {
      this.log.alert(`SYSTEM BREAK-IN ATTEMPT, host=[${ctx.remoteAddress}]`);
      this.failures = Number.MAX_SAFE_INTEGER;
    }
    if (this.failures >= this.cfg.int('allowed-login-attempts')) {
      this.log.notice(`Login failed user=${user} auth=${user} host=[${ctx.remoteAddress}]`, { reason: 'excessive login failures' });
      throw new AuthError('Authentication failed', 'excessive login failures');
    }
    const wait = this.throttle.pendingDelay(user, ctx.remoteAddress);
    if (wait > 0) await sleep(wait);
  }

  private finishOk(id: Identity, ctx: AuthContext): Identity {
    if (id.uid === 0) {
      this.log.notice(`Login failed user=${id.user} auth=${id.user} host=[${ctx.remoteAddress}]`, { reason: 'root login refused' });
      throw new AuthError('Authentication failed', 'root login refused');
    }
    const limited = this.throttle.recordSuccess(id.user, ctx.remoteAddress);
    if (limited) throw new AuthError(`Too many logins for ${id.user} this hour; try again later`, 'session limit', 'UNAVAILABLE');
    return id;
  }

  /**
   * The identity of an anonymous session (UW: /etc/anonymous.newsgroups
   * exists): the unprivileged "nobody" account, confined, its names relative
   * to the #ftp/ directory, no INBOX of its own.
   */
  anonymousIdentity(trace: string, ctx: AuthContext): Identity {
    const pw = getpwnam('nobody');
    if (!pw) throw new AuthError('Anonymous login not available', 'no nobody user');
    const home = sharedNamespaceDir(this.cfg, 'ftp') ?? '/var/empty';
    this.log.info(`Login anonymous=${trace.replace(/[\r\n]/g, ' ').slice(0, 200)} host=[${ctx.remoteAddress}]`);
    return { user: 'anonymous', uid: pw.uid, gid: pw.gid, groups: [pw.gid], home, mailRoot: undefined, inbox: join(home, 'INBOX'), restrict: true, virtual: false, anonymous: true, module: 'anonymous' };
  }

  async login(user: string, password: string, ctx: AuthContext): Promise<Identity> {
    // UW: LOGIN anonymous (any password, logged as the trace) when anonymous access is enabled.
    if (user.toLowerCase() === 'anonymous' && this.anonymousAllowed()) return this.anonymousIdentity(password, ctx);
    await this.precheck(user, ctx);
    // UW: user*admin = authorise as user, authenticating as admin (who must be in group mailadm).
    let authz: string | undefined;
    let authc = user;
    const star = user.indexOf('*');
    if (star > 0) {
      authz = user.slice(0, star);
      authc = user.slice(star + 1);
    }
    for (const pw of password.startsWith(' ') ? [password, password.slice(1)] : [password]) {
      for (const m of this.modules) {
        const r = await m.checkPassword(authc, pw, ctx);
        if (r.status === 'unknown') continue;
        if (r.status === 'fail') break;
        if (authz && authz !== authc) return this.finishOk(await this.authorize(authz, r.identity, ctx), ctx);
        return this.finishOk(r.identity, ctx);
      }
    }
    return this.failed(user, ctx, 'wrong user name or password');
  }

  private async authorize(authz: string, admin: Identity, ctx: AuthContext): Promise<Identity> {
    const mailadm = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('mailadm:'));
    const members = mailadm?.split(':')[3]?.split(',') ?? [];
    const gid = mailadm ? Number(mailadm.split(':')[2]) : -1;
    if (!members.includes(admin.user) && !admin.groups.includes(gid)) return this.failed(authz, ctx, `${admin.user} is not a mail administrator`);
    const target = await this.lookup(authz);
    if (!target) return this.failed(authz, ctx, 'no such user');
    this.log.notice(`Admin ${admin.user} override of user=${authz} host=[${ctx.remoteAddress}]`);
    return target;
  }

  async apop(user: string, challenge: string, digest: string, ctx: AuthContext): Promise<Identity> {
    await this.precheck(user, ctx);
    const s = (await this.cram.getSecret(user)) ?? undefined;
    if (s) {
      const want = nodeCrypto().createHash('md5').update(challenge + s.secret).digest('hex');
      if (want.length === digest.length && nodeCrypto().timingSafeEqual(Buffer.from(want), Buffer.from(digest.toLowerCase()))) return this.finishOk(s.identity, ctx);
    }
    return this.failed(user, ctx, 'bad APOP digest');
  }

  startSasl(mechanism: string, ctx: AuthContext): SaslExchange | undefined {
    const backend: SaslBackend = {
      host: this.cfg.str('hostname'),
      login: async (u, p, authz) => this.login(authz && authz !== u ? `${authz}*${u}` : u, p, ctx),
      secret: async (u) => this.cram.getSecret(u),
      scram: async (u) => this.sqlite.getScram(u),
      anonymous: async (trace) => this.anonymousIdentity(trace, ctx),
    };
    const mech = mechanism.toUpperCase();
    const offered = this.mechanisms(ctx);
    switch (mech) {
      case 'PLAIN':
        return this.plaintextAllowed(ctx) ? plain(backend) : undefined;
      case 'LOGIN':
        return this.plaintextAllowed(ctx) ? saslLogin(backend) : undefined;
      case 'CRAM-MD5':
        return offered.includes('CRAM-MD5') ? cramMd5(backend) : undefined;
      case 'SCRAM-SHA-256':
        return offered.includes('SCRAM-SHA-256') ? scramSha256(backend) : undefined;
      case 'ANONYMOUS':
        return this.anonymousAllowed() ? anonymous(backend) : undefined;
      default:
        return undefined;
    }
  }
}
