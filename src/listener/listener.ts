/**
 * The built-in listener: what inetd would do, plus a warm pool. Each accepted
 * connection is handed (IPC handle passing) to a worker process started
 * ahead of time — the same daemon entry as under inetd, in --worker mode — so
 * the client does not wait for Node to start, and every session still runs in
 * its own process that drops to its user after login.
 */
import net from 'node:net';
import { setPriority } from 'node:os';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import type { Log } from '../runtime/log.js';

export type Service = 'imap' | 'imaps' | 'pop3' | 'pop3s' | 'pop2';
const PROGRAM: Record<Service, 'imapd' | 'ipop3d' | 'ipop2d'> = { imap: 'imapd', imaps: 'imapd', pop3: 'ipop3d', pop3s: 'ipop3d', pop2: 'ipop2d' };
const REFUSE: Record<'imapd' | 'ipop3d' | 'ipop2d', (t: string) => string> = {
  imapd: (t) => `* BYE ${t}\r\n`,
  ipop3d: (t) => `-ERR [SYS/TEMP] ${t}\r\n`,
  ipop2d: (t) => `- ${t}\r\n`,
};

interface Worker {
  child: ChildProcess;
  ready: boolean;
  /** Running at POOL_NICE until it is handed a connection. */
  niced: boolean;
}

export interface ListenerOptions {
  config: Config;
  configFile?: string;
  log: Log;
  /** Extra arguments for workers (tests). */
  workerArgs?: string[];
}

/** "[::1]:143" / "127.0.0.1:143" / "143" → host, port. */
export function parseAddress(a: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(a) ?? /^()()(\d+)$/.exec(a);
  if (!m) throw new Error(`bad listen address: ${a}`);
  return { host: m[1] || m[2] || '0.0.0.0', port: Number(m[3]) };
}

/**
 * Nice value of a worker while it starts and waits in the pool. Refilling
 * the pool starts a Node process (tens of milliseconds of CPU) just when
 * another client is being served; at a lower priority it no longer slows
 * that client's greeting (2-core machine, a connection every 60 ms: 17-18 ms
 * to the greeting at the same priority, 7 ms with nothing starting). The
 * worker gets the normal priority back when it is handed a connection —
 * which only root may do, so only a listener running as root nices them.
 */
const POOL_NICE = 10;

function blockList(cidrs: string[]): net.BlockList | undefined {
  if (!cidrs.length) return undefined;
  const bl = new net.BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const type = addr.includes(':') ? 'ipv6' : 'ipv4';
    if (bits === undefined) bl.addAddress(addr, type);
    else bl.addSubnet(addr, Number(bits), type);
  }
  return bl;
}

function matches(bl: net.BlockList, address: string): boolean {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return bl.check(a, a.includes(':') ? 'ipv6' : 'ipv4');
}

export class Listener {
  private servers: net.Server[] = [];
  private pools = new Map<Service, Worker[]>();
  private active = 0;
  private perIp = new Map<string, number>();
  private rate = new Map<string, number[]>();
  private stopping = false;
  private readonly allow?: net.BlockList;
  private readonly deny?: net.BlockList;
  private readonly waiting = new Map<Service, Array<(w: Worker) => void>>();
  /** The port of the loopback server whose connections warm new workers up (warmUp): not asked for until needed; undefined when it cannot listen. */
  private warmServer: Promise<number | undefined> | undefined;

  constructor(private readonly o: ListenerOptions) {
    this.allow = blockList(o.config.list('allow-networks'));
    this.deny = blockList(o.config.list('deny-networks'));
  }

  get sessions(): number {
    return this.active;
  }

  private spawnWorker(svc: Service): Worker {
    const program = PROGRAM[svc];
    // bin/<program>: the bundle with its code cache when built (bin/boot.cjs), else dist/cli.
    const entry = fileURLToPath(new URL(`../../bin/${program}`, import.meta.url));
    const args = ['--worker', '--preauth', 'never', ...(this.o.configFile ? ['--config', this.o.configFile] : []), ...(svc.endsWith('s') ? ['--implicit-tls', 'yes'] : []), ...(this.o.workerArgs ?? [])];
    const child = fork(entry, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [] });
    const w: Worker = { child, ready: false, niced: false };
    if (process.getuid?.() === 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, POOL_NICE);
        w.niced = true;
      } catch {
        /* not ours to renice: leave it */
      }
    }
    child.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') {
        w.ready = true;
        const q = this.waiting.get(svc);
        const waiter = q?.shift();
        if (waiter) {
          this.removeFromPool(svc, w);
          waiter(w);
        } else void this.warmUp(svc, w);
      } else if (m?.type === 'warm') this.o.log.debug(`${svc} worker [${child.pid}] warmed up`);
    });
    child.on('exit', () => {
      this.removeFromPool(svc, w);
      if (!this.stopping) this.fillPool(svc);
    });
    child.on('error', (e) => this.o.log.error(`worker for ${svc} failed: ${e.message}`));
    return w;
  }

  /**
   * Hand a new pool worker one throw-away loopback connection, which it
   * writes a line to and closes. The first socket a Node process receives
   * over IPC, and the first it writes to, run code that is compiled and
   * tuned on that first use: about 3 ms that a client would otherwise wait
   * for its greeting. Best effort: a worker that gets none still serves.
   */
  private async warmUp(svc: Service, w: Worker): Promise<void> {
    const port = await (this.warmServer ??= this.startWarmServer());
    if (port === undefined || this.stopping || !w.child.connected) return;
    const c = net.connect({ port, host: '127.0.0.1' });
    c.on('error', () => c.destroy());
    c.once('connect', () => {
      // Only while the worker still waits in the pool: one handed a client
      // meanwhile is serving it and takes no more sockets.
      if (!w.child.connected || !this.pools.get(svc)?.includes(w)) return c.destroy();
      w.child.send({ type: 'warmup' }, c, { keepOpen: false }, () => undefined);
    });
  }
  private startWarmServer(): Promise<number | undefined> {
    return new Promise((resolve) => {
      const server = net.createServer((s) => {
        // Read what the worker writes and close when it does (or after 5 s).
        s.on('error', () => s.destroy());
        s.setTimeout(5000, () => s.destroy());
        s.on('end', () => s.destroy());
        s.resume();
      });
      server.maxConnections = 16;
      server.once('error', () => resolve(undefined));
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.unref();
        this.servers.push(server);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private removeFromPool(svc: Service, w: Worker): void {
    const p = this.pools.get(svc);
    if (!p) return;
    const i = p.indexOf(w);
    if (i >= 0) p.splice(i, 1);
  }

  private fillPool(svc: Service): void {
    const want = this.o.config.int('warm-pool');
    const p = this.pools.get(svc) ?? [];
    this.pools.set(svc, p);
    while (p.length < want && !this.stopping) p.push(this.spawnWorker(svc));
  }

  /** A ready worker, taken out of the pool (the pool is refilled at once). */
  private takeWorker(svc: Service): Promise<Worker> {
    const p = this.pools.get(svc) ?? [];
    const w = p.find((x) => x.ready && x.child.connected);
    if (w) {
      this.removeFromPool(svc, w);
      // Refill after the connection has been handed over: starting a process
      // (fork) takes milliseconds that the waiting client would otherwise see.
      setImmediate(() => this.fillPool(svc));
      return Promise.resolve(w);
    }
    // None warm: start one and wait for it.
    return new Promise((resolve) => {
      const q = this.waiting.get(svc) ?? [];
      this.waiting.set(svc, q);
      q.push(resolve);
      // (Niced like the others: the waiter may get another that is ready first.)
      const fresh = this.spawnWorker(svc);
      p.push(fresh);
    });
  }

  private refuse(sock: net.Socket, svc: Service, text: string, why: string): void {
    this.o.log.notice(`Refused ${svc} connection from [${sock.remoteAddress}]: ${why}`);
    sock.resume();
    sock.end(REFUSE[PROGRAM[svc]](text));
    setTimeout(() => sock.destroy(), 2000).unref();
  }

  private async onConnection(svc: Service, sock: net.Socket): Promise<void> {
    const ip = sock.remoteAddress ?? '';
    sock.on('error', () => undefined);
    if (this.deny && matches(this.deny, ip)) return this.refuse(sock, svc, 'Access denied', 'denied network');
    if (this.allow && !matches(this.allow, ip)) return this.refuse(sock, svc, 'Access denied', 'not in allowed networks');
    const cfg = this.o.config;
    if (this.active >= cfg.int('max-sessions')) return this.refuse(sock, svc, 'Too many sessions on this server, try again later', 'max-sessions reached');
    if ((this.perIp.get(ip) ?? 0) >= cfg.int('max-sessions-per-ip')) return this.refuse(sock, svc, 'Too many sessions from your address, try again later', 'max-sessions-per-ip reached');
    const now = Date.now();
    const times = (this.rate.get(ip) ?? []).filter((t) => now - t < 60_000);
    if (times.length >= cfg.int('max-connect-rate')) {
      this.rate.set(ip, times);
      return this.refuse(sock, svc, 'Too many connections from your address, try again later', 'max-connect-rate reached');
    }
    times.push(now);
    this.rate.set(ip, times);
    this.active++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    const w = await this.takeWorker(svc);
    const release = () => {
      this.active--;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
    };
    w.child.once('exit', release);
    if (w.niced && w.child.pid !== undefined) {
      try {
        setPriority(w.child.pid, 0);
        w.niced = false;
      } catch (e) {
        this.o.log.warning(`could not give the ${svc} worker its priority back: ${(e as Error).message}`);
      }
    }
    w.child.send({ type: 'connection' }, sock, { keepOpen: false }, (err) => {
      if (err) {
        this.o.log.error(`could not hand the ${svc} connection to a worker: ${err.message}`);
        sock.destroy();
        w.child.kill();
      }
    });
  }

  async start(): Promise<Array<{ service: Service; address: string; port: number }>> {
    const bound: Array<{ service: Service; address: string; port: number }> = [];
    const keys: Array<[Service, string]> = [
      ['imap', 'listen-imap'],
      ['imaps', 'listen-imaps'],
      ['pop3', 'listen-pop3'],
      ['pop3s', 'listen-pop3s'],
      ['pop2', 'listen-pop2'],
    ];
    for (const [svc, key] of keys) {
      const addrs = this.o.config.list(key);
      if (!addrs.length) continue;
      for (const a of addrs) {
        const { host, port } = parseAddress(a);
        const server = net.createServer({ pauseOnConnect: true }, (sock) => void this.onConnection(svc, sock));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const ad = server.address() as net.AddressInfo;
        bound.push({ service: svc, address: ad.address, port: ad.port });
        this.o.log.info(`Listening for ${svc} on ${ad.address}:${ad.port}`);
        this.servers.push(server);
      }
      this.fillPool(svc);
    }
    return bound;
  }

  /** Stop accepting; idle workers end now, running sessions finish on their own. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.pools.values()) for (const w of p) w.child.kill();
    await Promise.race([Promise.all(this.servers.map((s) => new Promise((r) => s.close(() => r(undefined))))), new Promise((r) => setTimeout(r, 1000))]);
  }
}
