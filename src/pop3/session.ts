// PLACEHOLDER until the POP helper lands src/pop3.
import type { Connection } from '../runtime/connection.js';
import type { ServerContext } from '../runtime/daemon.js';

export async function runPop3Session(conn: Connection, ctx: ServerContext): Promise<void> {
  await conn.write(`+OK POP3 ${ctx.hostname} server ready\r\n`);
  await new Promise<void>((resolve) => {
    conn.onEnd(() => resolve());
    conn.onData(async (chunk) => {
      if (/^quit/i.test(chunk.toString())) { await conn.write('+OK Sayonara\r\n'); resolve(); }
      else await conn.write('-ERR Unknown AUTHORIZATION state command\r\n');
    });
  });
}
