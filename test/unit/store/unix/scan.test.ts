import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { scanMailbox, scanTable } from '../../../../src/store/drivers/unix/scan.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** RFC822.SIZE computed the plain way: the text between From line and separator, each LF counted as CRLF, CRs not counted. */
function sizeOf(text: string): number {
  return text.replace(/\r/g, '').length + (text.match(/\n/g)?.length ?? 0);
}

describe('scanning a traditional mailbox in chunks', () => {
  it('finds every message and its size when lines cross the 1 MB chunks, one line is longer than a chunk, and the file ends without LF', () => {
    dir = mkdtempSync(join(tmpdir(), 'unix-scan-'));
    const path = join(dir, 'box');
    const bodies = [
      'short body\n',
      `${'x'.repeat(2_500_000)}\nafter the long line\n`, // one line of 2.5 MB
      `${Array.from({ length: 40_000 }, (_, i) => `line ${i} ${'y'.repeat(i % 70)}\r`).join('\n')}\n`, // CRLF lines across chunk ends
      'From inside the body is not a From line\n>From quoted\n',
    ];
    const texts = bodies.map((b, i) => `Subject: m${i}\nStatus: RO\nX-UID: ${i + 1}\n\n${b}`);
    const last = 'Subject: last\n\nno final newline';
    const file = texts.map((t, i) => `From a${i}@example.com Mon Jan  2 03:04:05 2023\n${t}\n`).join('') + `From z@example.com Tue Jan  3 03:04:05 2023\n${last}`;
    writeFileSync(path, file, 'latin1');
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const { messages } = scanMailbox(fd, 0, size);
      expect(messages.length).toBe(5);
      // Private headers (Status, X-UID) do not count.
      texts.forEach((t, i) => expect(messages[i].size).toBe(sizeOf(t) - sizeOf(`Status: RO\nX-UID: ${i + 1}\n`)));
      expect(messages[4].size).toBe(sizeOf(last));
      expect(messages[1].status).toBe('RO');
      expect(messages.map((m) => m.xuid)).toEqual(['1', '2', '3', '4', undefined]);
      expect(messages[4].next).toBe(size);
      // The table holds the same.
      const { table } = scanTable(fd, 0, size);
      expect(Array.from({ length: table.length }, (_, i) => table.size[i])).toEqual(messages.map((m) => m.size));
      expect(Array.from({ length: table.length }, (_, i) => table.start[i])).toEqual(messages.map((m) => m.start));
    } finally {
      closeSync(fd);
    }
  });
});
