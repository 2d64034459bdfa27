/**
 * Connection's first write straight to a descriptor (the greeting of a
 * daemon started by inetd, before its stream exists): what the descriptor
 * does not take at once follows through the stream, in order; a descriptor
 * that fails ends the connection as a stream error would.
 */
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import { openSync, closeSync } from 'node:fs';
import { Connection } from '../../../src/runtime/connection.js';

const info = { remoteAddress: '127.0.0.1', remotePort: 0, localAddress: '127.0.0.1', localPort: 0 };

async function socketPair(): Promise<{ server: net.Server; ours: net.Socket; peer: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const peer = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const ours = await new Promise<net.Socket>((res) => server.once('connection', res));
  return { server, ours, peer };
}

describe('Connection with a direct first write', () => {
  it('writes what the socket takes at once directly and the rest through the stream, in order (EAGAIN)', async () => {
    const { server, ours, peer } = await socketPair();
    peer.pause(); // nothing is read yet: the socket's buffers fill
    const fd = (ours as unknown as { _handle: { fd: number } })._handle.fd;
    let made = 0;
    const conn = new Connection(() => (made++, ours), info, undefined, fd);
    const big = Buffer.alloc(16 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
    const written = conn.write(big);
    const got: Buffer[] = [];
    let n = 0;
    peer.on('data', (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= big.length + 5) peer.end();
    });
    peer.resume();
    await written;
    expect(made).toBe(1); // the stream was needed for the rest
    await conn.write('after'); // later writes go through the stream
    await new Promise((res) => peer.on('end', res));
    expect(Buffer.concat(got).equals(Buffer.concat([big, Buffer.from('after')]))).toBe(true);
    await conn.close();
    server.close();
  });

  it('makes no stream for a first write the descriptor takes whole', async () => {
    const { server, ours, peer } = await socketPair();
    const fd = (ours as unknown as { _handle: { fd: number } })._handle.fd;
    let made = 0;
    const conn = new Connection(() => (made++, ours), info, undefined, fd);
    await conn.write('* OK greeting\r\n');
    expect(made).toBe(0);
    const first = await new Promise<string>((res) => peer.once('data', (d) => res(d.toString())));
    expect(first).toBe('* OK greeting\r\n');
    conn.onData(() => undefined); // reading starts with the stream
    expect(made).toBe(1);
    peer.destroy();
    ours.destroy();
    server.close();
  });

  it('ends the connection when the descriptor fails, as a stream error would', async () => {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd); // now a bad descriptor: EBADF
    const conn = new Connection(() => {
      throw new Error('no stream should be made');
    }, info, undefined, fd);
    const ends: string[] = [];
    conn.onEnd((why) => ends.push(why));
    await conn.write('* OK greeting\r\n');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatch(/^error: EBADF/);
    expect(conn.isEnded).toBe(true);
    await conn.write('nothing more'); // a no-op, no stream made
    await conn.close();
  });
});
