/**
 * The transport under every protocol session: bytes in, bytes out, over
 * stdin+stdout (inetd, xinetd, systemd Accept=yes, ssh), an accepted socket
 * (the built-in listener hands one to a worker), or TLS layered on either
 * (implicit TLS, STARTTLS/STLS). Protocols see only this class.
 */
import { Duplex } from 'node:stream';
import net from 'node:net';
import type tls from 'node:tls';
import { tls as loadTls } from './lazy.js';
import { fstatSync } from 'node:fs';

export type DataHandler = (chunk: Buffer) => void;

export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export class Connection {
  private stream: Duplex;
  private tlsActive = false;
  private dataHandler: DataHandler | undefined;
  private endHandlers: Array<(why: string) => void> = [];
  private ended = false;
  private paused = false;
  /** Bytes written so far (for logs and tests). */
  bytesOut = 0;

  constructor(
    stream: Duplex,
    readonly info: ConnectionInfo,
    private readonly secureContext?: () => tls.SecureContext | undefined,
  ) {
    this.stream = stream;
    this.attach(stream);
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
    this.stream.pause();
  }
  resume(): void {
    this.paused = false;
    this.stream.resume();
  }

  /** Write, waiting for the transport to drain when its buffer is full. */
  async write(data: string | Buffer): Promise<void> {
    // A client that closed only its sending side still gets the answers.
    if (this.closed) return;
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.bytesOut += b.length;
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
    this.stream = secure;
    this.tlsActive = true;
    this.attach(secure);
  }

  /** Flush and close the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
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
 * socket (wrap it for peer addresses and socket semantics), or stdin/stdout
 * are pipes (ssh, socat with pipes, a test harness).
 */
export function stdioStream(): { stream: Duplex; info: ConnectionInfo; socket: boolean } {
  // inetd, xinetd and systemd (Accept=yes) put the same socket on fd 0 and 1.
  // Node's child-process pipes are socketpairs too, but two different ones:
  // then stdin and stdout must be used separately.
  let isSocket = false;
  try {
    const s0 = fstatSync(0);
    const s1 = fstatSync(1);
    isSocket = s0.isSocket() && s0.ino === s1.ino && s0.dev === s1.dev;
  } catch {
    isSocket = false;
  }
  if (isSocket) {
    const sock = new net.Socket({ fd: 0, readable: true, writable: true });
    sock.setNoDelay(true);
    return {
      stream: sock,
      socket: true,
      info: {
        remoteAddress: normaliseAddress(sock.remoteAddress ?? remoteFromEnv()),
        remotePort: sock.remotePort ?? 0,
        localAddress: normaliseAddress(sock.localAddress ?? ''),
        localPort: sock.localPort ?? 0,
      },
    };
  }
  const stream = Duplex.from({ readable: process.stdin, writable: process.stdout });
  return {
    stream,
    socket: false,
    info: { remoteAddress: remoteFromEnv(), remotePort: 0, localAddress: '', localPort: 0 },
  };
}

export function socketInfo(sock: net.Socket): ConnectionInfo {
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
