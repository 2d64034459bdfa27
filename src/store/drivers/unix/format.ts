/**
 * What c-client writes into traditional UNIX mailboxes: the pseudo-message
 * ("FOLDER INTERNAL DATA"), status blocks (padded in rewrites so later flag
 * changes fit in place), and the raw append layout (formats.md §1.2–1.4).
 */
import { formatFromLine } from './fromline.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');
export const pad10 = (n: number) => String(n).padStart(10, '0');

export interface PseudoOptions {
  hostname: string;
  uidValidity: number;
  uidLast: number;
  keywords: string[];
  /** Rewrites include a Message-ID; a freshly created mailbox has none. */
  messageId: boolean;
  date: Date;
}

/** The pseudo-message, byte for byte as c-client writes it. */
export function pseudoMessage(o: PseudoOptions): string {
  const d = o.date;
  const fromLine = formatFromLine('MAILER-DAEMON', d, null);
  const date = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
  return (
    `${fromLine}\n` +
    `Date: ${date}\n` +
    `From: Mail System Internal Data <MAILER-DAEMON@${o.hostname}>\n` +
    `Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n` +
    (o.messageId ? `Message-ID: <${o.uidValidity}@${o.hostname}>\n` : '') +
    `X-IMAP: ${pad10(o.uidValidity)} ${pad10(o.uidLast)}${o.keywords.map((k) => ' ' + k).join('')}\n` +
    `Status: RO\n` +
    `\n` +
    `This text is part of the internal format of your mail folder, and is not\n` +
    `a real message.  It is created automatically by the mail system software.\n` +
    `If deleted, important folder data will be lost, and it will be re-created\n` +
    `with the data reset to initial values.\n` +
    `\n`
  );
}

export interface StatusFlags {
  seen: boolean;
  old: boolean;
  deleted: boolean;
  flagged: boolean;
  answered: boolean;
  draft: boolean;
  keywords: string[];
}

export function statusLetters(f: StatusFlags): string {
  return (f.seen ? 'R' : '') + (f.old ? 'O' : '');
}
export function xstatusLetters(f: StatusFlags): string {
  return (f.deleted ? 'D' : '') + (f.flagged ? 'F' : '') + (f.answered ? 'A' : '') + (f.draft ? 'T' : '');
}

/**
 * The rewritten status block: [X-IMAPbase] Status X-Status X-Keywords X-UID,
 * with X-Keywords padded so that the block from its first line to the end of
 * the X-Keywords line is at least 50 bytes (80 with X-IMAPbase). `exactLength`
 * pads further to fill an existing block in place (undefined if it cannot fit).
 */
export function statusBlock(f: StatusFlags, uid: number | null, imapbase?: string, exactLength?: number): string | undefined {
  const head = (imapbase !== undefined ? `X-IMAPbase: ${imapbase}\n` : '') + `Status: ${statusLetters(f)}\nX-Status: ${xstatusLetters(f)}\nX-Keywords:${f.keywords.map((k) => ' ' + k).join('')}`;
  const min = imapbase !== undefined ? 80 : 50;
  const tail = uid !== null ? `\nX-UID: ${uid}\n` : '\n';
  let padded = head + ' '.repeat(Math.max(0, min - head.length));
  if (exactLength !== undefined) {
    const need = exactLength - (padded.length + tail.length);
    if (need < 0) {
      // Try without the minimum padding.
      const bare = head.length + tail.length;
      if (bare > exactLength) return undefined;
      padded = head + ' '.repeat(exactLength - bare);
    } else padded += ' '.repeat(need);
  }
  return padded + tail;
}

/** The raw append layout's status block (unpadded, written first in the header). */
export function appendBlock(f: StatusFlags, uid: number | null): string {
  return `Status: ${f.seen ? 'R' : ''}\nX-Status: ${xstatusLetters(f)}\nX-Keywords:${f.keywords.map((k) => ' ' + k).join('')}\n` + (uid !== null ? `X-UID: ${uid}\n` : '');
}
