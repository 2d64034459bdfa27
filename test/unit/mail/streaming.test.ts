import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fc from 'fast-check';
import { parseMessage, fetchBinary, fetchSection, parseSectionSpec } from '../../../src/mail/index.js';

/** A quoted-printable encoder for arbitrary bytes (RFC 2045 §6.7), with soft line breaks. */
function qp(data: Uint8Array): string {
  let out = '';
  let line = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    const isEol = c === 13 && data[i + 1] === 10;
    let piece: string;
    if (isEol) {
      // A real line break: trailing white space before it must be encoded.
      out += line + '\r\n';
      line = '';
      i++;
      continue;
    }
    if ((c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !(data[i + 1] === 13 && data[i + 2] === 10) && i + 1 < data.length)) piece = String.fromCharCode(c);
    else piece = '=' + c.toString(16).toUpperCase().padStart(2, '0');
    if (line.length + piece.length > 75) {
      out += line + '=\r\n';
      line = '';
    }
    line += piece;
  }
  return out + line;
}

describe('BINARY decodes what was encoded (property)', () => {
  it('base64 and quoted-printable parts of any bytes give back exactly those bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const b64 = Buffer.from(a).toString('base64').replace(/.{1,76}/g, '$&\r\n');
        const msg = Buffer.from(
          `Subject: p\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="=_b"\r\n\r\n--=_b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--=_b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp(b)}\r\n--=_b--\r\n`,
          'latin1',
        );
        const p = parseMessage(msg);
        expect(fetchBinary(p, [1])).toEqual(Buffer.from(a));
        expect(fetchBinary(p, [2])).toEqual(Buffer.from(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('streaming: the structure of a 50 MB message', () => {
  it('costs memory in proportion to its headers, not its size', () => {
    // In a fresh process with --expose-gc, so that nothing else is on the heap.
    const mod = new URL('../../../dist/mail/index.js', import.meta.url).pathname;
    const script = `
      const mail = await import(${JSON.stringify(mod)});
      const enc = await import(${JSON.stringify(new URL('../../../dist/imap/encoder.js', import.meta.url).pathname)});
      const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\\r\\n';
      const head = 'From: a@example.com\\r\\nSubject: big\\r\\nMIME-Version: 1.0\\r\\nContent-Type: multipart/mixed; boundary=b\\r\\n\\r\\n--b\\r\\nContent-Type: text/plain\\r\\n\\r\\nsee attachment\\r\\n--b\\r\\nContent-Type: application/octet-stream; name=big.bin\\r\\nContent-Transfer-Encoding: base64\\r\\n\\r\\n';
      const big = Buffer.alloc(50 * 1024 * 1024);
      let o = big.write(head, 0, 'latin1');
      while (o + line.length + 20 < big.length) o += big.write(line, o, 'latin1');
      o += big.write('\\r\\n--b--\\r\\n', o, 'latin1');
      const msg = big.subarray(0, o);
      global.gc(); global.gc();
      const m0 = process.memoryUsage();
      const p = mail.parseMessage(msg);
      const out = enc.value(mail.bodyStructure(p, true)).length + enc.value(mail.envelope(p)).length;
      const sec = mail.fetchSection(p, mail.parseSectionSpec('2.MIME')).length;
      global.gc(); global.gc();
      const m1 = process.memoryUsage();
      process.stdout.write(JSON.stringify({ heap: m1.heapUsed - m0.heapUsed, buffers: m1.arrayBuffers - m0.arrayBuffers, out, sec, keep: !!p }));
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.out).toBeGreaterThan(100);
    expect(m.sec).toBeGreaterThan(50);
    // Beyond the 50 MB message itself: well under 1 MB of heap and no copy of the bytes.
    expect(m.heap).toBeLessThan(1024 * 1024);
    expect(m.buffers).toBeLessThan(1024 * 1024);
  });
});

void fetchSection;
void parseSectionSpec;
