// PLACEHOLDER until the imapd helper lands src/imap: greets, CAPABILITY, LOGOUT, BAD otherwise.
import type { Connection } from '../runtime/connection.js';
import type { ServerContext } from '../runtime/daemon.js';

export async function runImapSession(conn: Connection, ctx: ServerContext): Promise<void> {
  await conn.write(`* OK [CAPABILITY IMAP4REV1] ${ctx.hostname} IMAP4rev1 server ready\r\n`);
  let buf = '';
  await new Promise<void>((resolve) => {
    conn.onEnd(() => resolve());
    conn.onData(async (chunk) => {
      buf += chunk.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const [tag, cmd] = line.split(' ');
        if (cmd?.toUpperCase() === 'LOGOUT') {
          await conn.write(`* BYE ${ctx.hostname} IMAP4rev1 server terminating connection\r\n${tag} OK LOGOUT completed\r\n`);
          return resolve();
        }
        if (cmd?.toUpperCase() === 'CAPABILITY') {
          await conn.write(`* CAPABILITY IMAP4REV1\r\n${tag} OK CAPABILITY completed\r\n`);
        } else await conn.write(`${tag ?? '*'} BAD Command unrecognized\r\n`);
      }
    });
  });
}
