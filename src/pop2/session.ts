// PLACEHOLDER until the POP helper lands src/pop2.
import type { Connection } from '../runtime/connection.js';
import type { ServerContext } from '../runtime/daemon.js';

export async function runPop2Session(conn: Connection, ctx: ServerContext): Promise<void> {
  await conn.write(`+ POP2 ${ctx.hostname} server ready\r\n`);
  await new Promise<void>((resolve) => {
    conn.onEnd(() => resolve());
    conn.onData(async (chunk) => {
      if (/^quit/i.test(chunk.toString())) { await conn.write('+ Sayonara\r\n'); resolve(); }
      else { await conn.write('- Bogus or out of sequence command\r\n'); resolve(); }
    });
  });
}
