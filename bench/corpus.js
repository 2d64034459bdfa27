// Deterministic mail corpus for benchmarks: a traditional UNIX mbox as an MTA
// would deliver it (From_ lines, LF line ends, no c-client status headers).
// Same seed + count ⇒ the same bytes, on every machine.
//
//   node bench/corpus.js COUNT OUTFILE [SEED]
//
// Mix (by message): 40% plain text (some quoted-printable, some 8-bit UTF-8),
// 25% multipart/alternative (text + HTML), 20% multipart/mixed with a base64
// attachment, 10% forwarded message/rfc822, 5% long plain text. Subjects and
// display names use RFC 2047 encoded words now and then. Average ≈ 6 KB.
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Zoë', 'Søren', 'Jürgen', 'Ana', 'Mårten'];
const LAST = ['Smith', 'Jones', 'Müller', 'García', 'Rossi', 'Dubois', 'Novák', 'Kowalski', 'Johansson', 'Tanaka', 'Okafor', 'Silva', 'Nguyen', 'Ivanova', 'O\'Brien'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.edu', 'lists.example.com'];
const WORDS = ('the quick brown fox jumps over lazy dog meeting report budget quarter invoice project deadline review ' +
  'schedule coffee lunch server mailbox backup release patch kernel network printer holiday travel contract ' +
  'draft summary agenda minutes proposal feedback question answer update status ticket customer support ' +
  'weather garden bicycle concert library museum train airport hotel dinner recipe chocolate').split(' ');
const UWORDS = ['café', 'naïve', 'façade', 'Grüße', 'smörgåsbord', 'jalapeño', 'crème brûlée', 'Ærø', 'Straße', 'déjà vu'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function pick(r, a) {
  return a[Math.floor(r() * a.length)];
}
function int(r, lo, hi) {
  return lo + Math.floor(r() * (hi - lo + 1));
}
function pad2(n) {
  return String(n).padStart(2, '0');
}

function encodedWord(s) {
  return `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}
function qEncodedWord(s) {
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (const c of b) {
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) out += String.fromCharCode(c);
    else if (c === 0x20) out += '_';
    else out += '=' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return `=?UTF-8?Q?${out}?=`;
}
function needs8bit(s) {
  return /[^\x00-\x7f]/.test(s);
}

function person(r) {
  const f = pick(r, FIRST);
  const l = pick(r, LAST);
  const addr = `${f.normalize('NFD').replace(/[^\x00-\x7f]/g, '').toLowerCase()}.${l.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}@${pick(r, DOMAINS)}`;
  const name = `${f} ${l}`;
  const display = needs8bit(name) ? (r() < 0.5 ? encodedWord(name) : qEncodedWord(name)) : name.includes("'") ? `"${name}"` : name;
  return { addr, header: `${display} <${addr}>` };
}

function sentence(r, utf8 = false) {
  const n = int(r, 6, 16);
  const w = [];
  for (let i = 0; i < n; i++) w.push(utf8 && r() < 0.15 ? pick(r, UWORDS) : pick(r, WORDS));
  if (r() < 0.01) w.push('zebra'); // rare word for SEARCH TEXT
  const s = w.join(' ');
  return s[0].toUpperCase() + s.slice(1) + '.';
}
function paragraph(r, utf8) {
  const lines = [];
  let line = '';
  for (let i = int(r, 3, 8); i > 0; i--) {
    for (const word of sentence(r, utf8).split(' ')) {
      if (line.length + word.length + 1 > 72) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
function textBody(r, paragraphs, utf8) {
  const ps = [];
  for (let i = 0; i < paragraphs; i++) ps.push(paragraph(r, utf8));
  return ps.join('\n\n') + '\n';
}
function qp(text) {
  const out = [];
  for (const line of text.split('\n')) {
    let enc = '';
    for (const c of Buffer.from(line, 'utf8')) {
      enc += c === 0x3d || c > 0x7e ? '=' + c.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(c);
    }
    while (enc.length > 76) {
      let cut = 75;
      if (enc[cut - 1] === '=') cut -= 1;
      else if (enc[cut - 2] === '=') cut -= 2;
      out.push(enc.slice(0, cut) + '=');
      enc = enc.slice(cut);
    }
    out.push(enc);
  }
  return out.join('\n');
}
function base64Lines(buf) {
  return buf.toString('base64').replace(/.{76}/g, '$&\n').replace(/\n$/, '') + '\n';
}
function binaryBlob(r, size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function dateOf(t, zoneMin) {
  const d = new Date(t + zoneMin * 60000);
  const sign = zoneMin < 0 ? '-' : '+';
  const z = Math.abs(zoneMin);
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${sign}${pad2(Math.floor(z / 60))}${pad2(z % 60)}`;
}
function ctime(t) {
  const d = new Date(t);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

function subjectLine(r, i) {
  const base = `${pick(r, WORDS)} ${pick(r, WORDS)} ${pick(r, WORDS)}`;
  let s = base[0].toUpperCase() + base.slice(1);
  if (r() < 0.1) s = `Invoice ${1000 + i}`;
  if (r() < 0.2) s = 'Re: ' + s;
  if (r() < 0.05) s = 'Fwd: ' + s;
  if (r() < 0.12) return encodedWord(`${s} — ${pick(r, UWORDS)}`);
  return s;
}

/** One message (header + body, LF line ends, no From_ line). */
export function makeMessage(r, i, t) {
  const from = person(r);
  const to = person(r);
  const zone = pick(r, [0, 60, -300, 120, -480, 330]);
  const msgid = `<${i}.${Math.floor(r() * 1e9).toString(36)}@${pick(r, DOMAINS)}>`;
  const h = [
    `Return-Path: <${from.addr}>`,
    `Received: from mx.${pick(r, DOMAINS)} (mx [192.0.2.${int(r, 1, 254)}])\n\tby mail.example.com with ESMTPS id ${Math.floor(r() * 1e12).toString(36)}\n\tfor <${to.addr}>; ${dateOf(t, 0)}`,
    `Date: ${dateOf(t, zone)}`,
    `From: ${from.header}`,
    `To: ${to.header}`,
  ];
  if (r() < 0.3) h.push(`Cc: ${person(r).header}, ${person(r).header}`);
  h.push(`Subject: ${subjectLine(r, i)}`, `Message-ID: ${msgid}`);
  if (i > 1 && r() < 0.3) h.push(`In-Reply-To: <${int(r, 1, i - 1)}.ref@example.com>`, `References: <${int(r, 1, i - 1)}.ref@example.com>`);
  h.push('MIME-Version: 1.0');
  const kind = r();
  let body;
  if (kind < 0.4) {
    const utf8 = r() < 0.3;
    const text = textBody(r, int(r, 2, 6), utf8);
    if (utf8 && r() < 0.5) {
      h.push('Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: quoted-printable');
      body = qp(text) + '\n';
    } else if (utf8) {
      h.push('Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit');
      body = text;
    } else {
      h.push('Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit');
      body = text;
    }
  } else if (kind < 0.65) {
    const b = `alt-${i}-${Math.floor(r() * 1e9).toString(36)}`;
    const text = textBody(r, int(r, 2, 5), r() < 0.3);
    const html = `<html><body>${text.split('\n\n').map((p) => `<p>${p}</p>`).join('\n')}</body></html>\n`;
    h.push(`Content-Type: multipart/alternative; boundary="${b}"`);
    body = `This is a multi-part message in MIME format.\n\n--${b}\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(text)}\n--${b}\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n${qp(html)}\n--${b}--\n`;
  } else if (kind < 0.85) {
    const b = `mix-${i}-${Math.floor(r() * 1e9).toString(36)}`;
    const text = textBody(r, int(r, 1, 3), false);
    const att = binaryBlob(r, int(r, 1500, 9000));
    const name = `${pick(r, WORDS)}-${i}.${pick(r, ['pdf', 'png', 'zip', 'docx'])}`;
    h.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    body = `--${b}\nContent-Type: text/plain; charset=us-ascii\n\n${text}\n--${b}\nContent-Type: application/octet-stream; name="${name}"\nContent-Disposition: attachment; filename="${name}"\nContent-Transfer-Encoding: base64\n\n${base64Lines(att)}--${b}--\n`;
  } else if (kind < 0.95) {
    const b = `fwd-${i}-${Math.floor(r() * 1e9).toString(36)}`;
    const inner = makeMessage(r, i + 1000000, t - 86400000);
    h.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    body = `--${b}\nContent-Type: text/plain; charset=us-ascii\n\nForwarded message below.\n\n--${b}\nContent-Type: message/rfc822\n\n${inner}\n--${b}--\n`;
  } else {
    h.push('Content-Type: text/plain; charset=us-ascii');
    body = textBody(r, int(r, 20, 40), false);
  }
  // Lines starting with "From " are quoted as an MTA would.
  body = body.replace(/^From /gm, '>From ');
  return `${h.join('\n')}\n\n${body}`;
}

/** Write COUNT messages as an mbox. Resolves to the byte size. */
export async function writeCorpus(count, file, seed = 42) {
  const r = rng(seed);
  const out = createWriteStream(file);
  let size = 0;
  let t = Date.UTC(2023, 0, 1, 8, 0, 0);
  for (let i = 1; i <= count; i++) {
    t += int(r, 60, 3 * 3600) * 1000;
    const msg = `From ${person(r).addr} ${ctime(t)}\n${makeMessage(r, i, t)}\n`;
    size += Buffer.byteLength(msg);
    if (!out.write(msg)) await new Promise((res) => out.once('drain', res));
  }
  await new Promise((res, rej) => out.end((e) => (e ? rej(e) : res())));
  return size;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [count, file, seed] = process.argv.slice(2);
  if (!count || !file) {
    process.stderr.write('usage: node bench/corpus.js COUNT OUTFILE [SEED]\n');
    process.exit(64);
  }
  const size = await writeCorpus(Number(count), file, seed ? Number(seed) : 42);
  process.stdout.write(`${count} messages, ${(size / 1e6).toFixed(1)} MB → ${file}\n`);
}
