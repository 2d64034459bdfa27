// Message-engine benchmark (src/mail, no protocol, no store): ENVELOPE +
// BODYSTRUCTURE per message over a generated corpus, and SEARCH TEXT over
// the same bytes, in messages/second and MB/second.
//
//   node bench/engine.js [--count 10000]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './corpus.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const mail = await import(join(HERE, '..', 'dist', 'mail', 'index.js'));
const { value } = await import(join(HERE, '..', 'dist', 'imap', 'encoder.js'));
const argv = process.argv.slice(2);
const COUNT = Number(argv.includes('--count') ? argv[argv.indexOf('--count') + 1] : 10000);

const work = mkdtempSync(join(tmpdir(), 'uwimap-engine-'));
const file = join(work, 'corpus.mbox');
await writeCorpus(COUNT, file);
// Split the mbox into CRLF messages (the form the engine sees).
const text = readFileSync(file, 'latin1');
rmSync(work, { recursive: true, force: true });
const msgs = [];
for (const chunk of text.split(/\n(?=From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n)/)) {
  const body = chunk.slice(chunk.indexOf('\n') + 1).replace(/\n/g, '\r\n');
  msgs.push(Buffer.from(body, 'latin1'));
}
const bytes = msgs.reduce((a, b) => a + b.length, 0);

function time(f) {
  const t = process.hrtime.bigint();
  const r = f();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}
// ENVELOPE + BODYSTRUCTURE, encoded as IMAP sends them.
const [structMs, outBytes] = time(() => {
  let n = 0;
  for (const m of msgs) {
    const p = mail.parseMessage(m);
    n += value(mail.envelope(p)).length + value(mail.bodyStructure(p, true)).length;
  }
  return n;
});
// SEARCH TEXT (decoded, case-insensitive), a word that is rare.
const key = { type: 'text', value: 'zebra' };
const pred = mail.compileSearch(key, { charset: 'UTF-8', maxSeq: msgs.length, maxUid: msgs.length, now: new Date() });
const t0 = process.hrtime.bigint();
let hits = 0;
for (let i = 0; i < msgs.length; i++) {
  const m = msgs[i];
  if (await pred({ seq: i + 1, uid: i + 1, flags: new Set(), internalDate: new Date(0), size: m.length, load: async () => m })) hits++;
}
const searchMs = Number(process.hrtime.bigint() - t0) / 1e6;
const mb = bytes / 1048576;
const md = [
  `Message engine, ${msgs.length} generated messages (${mb.toFixed(1)} MB), one run:`,
  '',
  '| work | time | rate |',
  '|---|---|---|',
  `| ENVELOPE + BODYSTRUCTURE (parsed and encoded) | ${structMs.toFixed(0)} ms | ${Math.round(msgs.length / (structMs / 1000))} messages/s (${(mb / (structMs / 1000)).toFixed(1)} MB/s) |`,
  `| SEARCH TEXT "zebra" (${hits} hits) | ${searchMs.toFixed(0)} ms | ${(mb / (searchMs / 1000)).toFixed(1)} MB/s (${Math.round(msgs.length / (searchMs / 1000))} messages/s) |`,
  '',
];
console.log(md.join('\n'));
void outBytes;
