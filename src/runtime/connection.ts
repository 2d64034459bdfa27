/**
 * The transport under every protocol session: bytes in, bytes out, over
 * stdin+stdout (inetd, xinetd, systemd Accept=yes, ssh), an accepted socket
 * (the built-in listener hands one to a worker), or TLS layered on either
 * (implicit TLS, STARTTLS/STLS). Protocols see only this class.
 */
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import type tls from 'node:tls';
import { tls as loadTls, netModule, streamModule } from './lazy.js';
import { fstatSync, writeSync } from 'node:fs';
import { socketNames } from './posix.js';

export type DataHandler = (chunk: Buffer) => void;

export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export class Connection {
  private current: Duplex | undefined;
  private readonly open: (() => Duplex) | undefined;
  /**
   * A descriptor the first write goes to directly (writeSync), before the
   * stream exists: an inetd-started daemon's greeting leaves before Node's
   * socket and stream modules are loaded and the stream is made.
   */
  private direct: number | undefined;
  private tlsActive = false;
  private dataHandler: DataHandler | undefined;
  private endHandlers: Array<(why: string) => void> = [];
  private ended = false;
  private paused = false;
  /** Bytes written so far (for logs and tests). */
  bytesOut = 0;

  /** `stream`, or a function that makes it when it is first needed (to read, or for any write but a `direct` first one). */
  constructor(
    stream: Duplex | (() => Duplex),
    readonly info: ConnectionInfo,
    private readonly secureContext?: () => tls.SecureContext | undefined,
    direct?: number,
  ) {
    if (typeof stream === 'function') {
      this.open = stream;
      this.direct = direct;
    } else {
      this.current = stream;
      this.attach(stream);
    }
  }

  private get stream(): Duplex {
    if (!this.current) {
      this.direct = undefined;
      this.current = this.open!();
      this.attach(this.current);
    }
    return this.current;
  }

  /** TLS is active (implicit or after STARTTLS). */
  get isTls(): boolean {
    return this.tlsActive;
  }
  get remoteAddress(): string {
    return this.info.remoteAddress;
  }
  /** The client is on this host (loopback or a local pipe). */
  get isLocal(): boolean {
    const a = this.info.remoteAddress;
    return a === '' || a === 'localhost' || a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
  }
  /** A certificate is available for STARTTLS. */
  get canStartTls(): boolean {
    return !this.tlsActive && !!this.secureContext?.();
  }

  private attach(s: Duplex): void {
    s.on('data', (chunk: Buffer) => {
      if (this.dataHandler) this.dataHandler(chunk);
    });
    s.on('end', () => this.finish('end'));
    s.on('close', () => this.finish('close'));
    s.on('error', (e: Error) => this.finish(`error: ${e.message}`));
    if (this.paused) s.pause();
  }

  /** The transport is gone (closed or failed): nothing more can be written. */
  private closed = false;

  private finish(why: string): void {
    if (why !== 'end') this.closed = true;
    if (this.ended) return;
    this.ended = true;
    for (const h of this.endHandlers) h(why);
  }

  /** Receive input. One handler at a time (the session's reader). */
  onData(handler: DataHandler): void {
    this.dataHandler = handler;
    void this.stream; // reading starts with the stream
  }
  /** Called once when the client goes away (EOF, reset, error). */
  onEnd(handler: (why: string) => void): void {
    if (this.ended) handler('end');
    else this.endHandlers.push(handler);
  }
  get isEnded(): boolean {
    return this.ended;
  }

  /** Stop delivering input (backpressure from a busy session). */
  pause(): void {
    this.paused = true;
    this.current?.pause();
  }
  resume(): void {
    this.paused = false;
    this.current?.resume();
  }

  /** Write, waiting for the transport to drain when its buffer is full. */
  async write(data: string | Buffer): Promise<void> {
    // A client that closed only its sending side still gets the answers.
    if (this.closed) return;
    let b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.bytesOut += b.length;
    if (this.direct !== undefined) {
      const fd = this.direct;
      this.direct = undefined; // the first write only: the rest goes through the stream (TCP_NODELAY, backpressure)
      let done = 0;
      try {
        while (done < b.length) done += writeSync(fd, b, done, b.length - done);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
          this.finish(`error: ${(e as Error).message}`); // the client is gone: closed, as a stream's error would say
          return;
        }
        b = b.subarray(done); // a full pipe or socket buffer: the stream waits for it
      }
    }
    if (!this.stream.write(b)) await this.drained();
  }

  /** Until the stream can take more (or is gone); every listener is removed again, whichever event comes. */
  private drained(): Promise<void> {
    const st = this.stream;
    return new Promise<void>((resolve) => {
      const done = () => {
        st.off('drain', done);
        st.off('close', done);
        st.off('error', done);
        resolve();
      };
      st.on('drain', done);
      st.on('close', done);
      st.on('error', done);
    });
  }

  /**
   * Layer TLS on the current stream. Call after the protocol's "go ahead"
   * line was written. Input already buffered in plain text must be discarded
   * by the session (RFC 3501 §6.2.1 / RFC 2595 command injection).
   */
  async startTls(): Promise<void> {
    const ctx = this.secureContext?.();
    if (!ctx) throw new Error('Server certificate not installed');
    if (this.tlsActive) throw new Error('TLS already active');
    const plain = this.stream;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    // Errors on the raw stream surface through the TLS socket.
    plain.on('error', () => undefined);
    const secure = new (loadTls().TLSSocket)(plain as net.Socket, { isServer: true, secureContext: ctx });
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      secure.once('secure', () => {
        secure.off('error', onErr);
        resolve();
      });
      secure.once('error', onErr);
    });
    this.current = secure;
    this.tlsActive = true;
    this.attach(secure);
  }

  /** Flush and close the connection. */
  async close(): Promise<void> {
    if (this.closed || !this.current) return; // without a stream every write was synchronous: nothing to flush
    await new Promise<void>((resolve) => {
      this.stream.end(() => resolve());
      setTimeout(resolve, 2000).unref();
    });
    this.stream.destroy();
  }
}

/** Remote address under inetd when fd 0 is not a socket: environment set by tcpserver, sshd, xinetd … */
export function remoteFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const cand = env.TCPREMOTEIP ?? env.REMOTE_ADDR ?? env.REMOTE_HOST ?? env.SSH_CLIENT?.split(' ')[0] ?? env.SSH_CONNECTION?.split(' ')[0];
  return cand ?? '';
}

/**
 * The connection inetd, xinetd or systemd gave us: fd 0 is the client's
 * socket (wrapped for socket semantics), or stdin/stdout are pipes (ssh,
 * socat with pipes, a test harness) — made so that the greeting can leave
 * before the stream exists (Connection's `direct` first write). The
 * addresses of an inetd socket come from the addon (getpeername,
 * getsockname), a pipe's from the environment, and the stream (with Node's
 * net and stream modules) is made when the session starts reading. Where
 * the addon is not built, the socket is wrapped at once for its addresses.
 */
export function stdioConnection(): { open: () => Duplex; info: ConnectionInfo; direct?: number } {
  if (!stdioIsSocket()) return { open: stdioPipes, info: pipeInfo(), direct: 1 };
  const names = socketNames(0);
  if (names === undefined) {
    const sock = stdioSocket();
    return { open: () => sock, info: sock.remoteAddress === undefined ? pipeInfo() : socketInfo(sock) };
  }
  return { open: stdioSocket, info: names ? socketInfo(names) : pipeInfo(), direct: 1 };
}

/** inetd, xinetd and systemd (Accept=yes) put the same socket on fd 0 and 1; Node's child-process pipes are socketpairs too, but two different ones. */
function stdioIsSocket(): boolean {
  try {
    const s0 = fstatSync(0);
    const s1 = fstatSync(1);
    return s0.isSocket() && s0.ino === s1.ino && s0.dev === s1.dev;
  } catch {
    return false;
  }
}
function stdioSocket(): net.Socket {
  const sock = new (netModule().Socket)({ fd: 0, readable: true, writable: true });
  sock.setNoDelay(true);
  return sock;
}
/** stdin and stdout used separately, as one duplex stream. */
function stdioPipes(): Duplex {
  return streamModule().Duplex.from({ readable: process.stdin, writable: process.stdout });
}
/** No socket addresses: the client's from the environment. */
function pipeInfo(): ConnectionInfo {
  return { remoteAddress: remoteFromEnv(), remotePort: 0, localAddress: '', localPort: 0 };
}

/** The addresses of a socket (Node's, or the addon's socketNames). */
export function socketInfo(sock: Pick<net.Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>): ConnectionInfo {
  return {
    remoteAddress: normaliseAddress(sock.remoteAddress ?? ''),
    remotePort: sock.remotePort ?? 0,
    localAddress: normaliseAddress(sock.localAddress ?? ''),
    localPort: sock.localPort ?? 0,
  };
}

/** "::ffff:192.0.2.1" → "192.0.2.1". */
export function normaliseAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** "host [addr]" as UW logs it; we log the address (no reverse DNS by default). */
export function hostForLog(info: ConnectionInfo): string {
  return info.remoteAddress ? `[${info.remoteAddress}]` : 'UNKNOWN';
}
