import { bad } from '../session.js';
import type { ImapSession } from '../session.js';
import type { Token } from '../parser.js';
import { SELECTED, type Command } from './types.js';
import { octets, valueText } from '../encoder.js';
import { parseMessage, headerOf, envelopeFields, bodyStructure, parseSectionSpec, fetchSection, fetchBinary, formatInternalDate, type ParsedMessage, type SectionSpec } from '../../mail/index.js';

interface Item {
  kind: 'flags' | 'uid' | 'internaldate' | 'size' | 'envelope' | 'body' | 'bodystructure' | 'section' | 'binary' | 'binarysize' | 'rfc822' | 'rfc822.header' | 'rfc822.text';
  /** Response name, e.g. "BODY[HEADER.FIELDS (FROM)]". */
  label?: string;
  spec?: SectionSpec;
  part?: number[];
  partial?: [number, number];
  peek?: boolean;
}

function parseItem(text: string): Item {
  const up = text.toUpperCase();
  switch (up) {
    case 'FLAGS':
      return { kind: 'flags' };
    case 'UID':
      return { kind: 'uid' };
    case 'INTERNALDATE':
      return { kind: 'internaldate' };
    case 'RFC822.SIZE':
      return { kind: 'size' };
    case 'ENVELOPE':
      return { kind: 'envelope' };
    case 'BODY':
      return { kind: 'body' };
    case 'BODYSTRUCTURE':
      return { kind: 'bodystructure' };
    case 'RFC822':
      return { kind: 'rfc822' };
    case 'RFC822.HEADER':
      return { kind: 'rfc822.header' };
    case 'RFC822.TEXT':
      return { kind: 'rfc822.text' };
  }
  const m = /^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$/i.exec(text);
  if (!m) throw bad(`Invalid fetch attribute: ${text}`);
  const what = m[1].toUpperCase();
  const partial: [number, number] | undefined = m[3] !== undefined ? [Number(m[3]), Number(m[4])] : undefined;
  if (partial && partial[1] === 0) throw bad('Invalid partial length');
  if (what.startsWith('BINARY')) {
    const t = m[2].trim();
    if (t !== '' && !/^[1-9]\d*(\.[1-9]\d*)*$/.test(t)) throw bad(`Invalid BINARY section: ${t}`);
    const part = t ? t.split('.').map(Number) : [];
    if (what === 'BINARY.SIZE') {
      if (partial) throw bad('BINARY.SIZE takes no partial');
      return { kind: 'binarysize', part, label: `BINARY.SIZE[${t}]` };
    }
    return { kind: 'binary', part, partial, peek: what === 'BINARY.PEEK', label: `BINARY[${t}]` };
  }
  const spec = parseSectionSpec(m[2]);
  if (!spec) throw bad(`Invalid body section: ${m[2]}`);
  return { kind: 'section', spec, partial, peek: what === 'BODY.PEEK', label: `BODY[${m[2].toUpperCase().replace(/\s+/g, ' ')}]` };
}

export function parseItems(t: Token[]): Item[] {
  if (t.length !== 1) throw bad('Missing or invalid fetch attributes');
  const a = t[0];
  if (a.type === 'atom') {
    const up = a.value.toUpperCase();
    if (up === 'ALL') return ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'].map(parseItem);
    if (up === 'FAST') return ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'].map(parseItem);
    if (up === 'FULL') return ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'].map(parseItem);
    return [parseItem(a.value)];
  }
  if (a.type === 'list' && a.items.length) {
    return a.items.map((x) => {
      if (x.type !== 'atom') throw bad('Invalid fetch attribute');
      return parseItem(x.value);
    });
  }
  throw bad('Missing or invalid fetch attributes');
}

function sliceFor(buf: Buffer, partial?: [number, number]): Buffer {
  if (!partial) return buf;
  const [o, n] = partial;
  return buf.subarray(Math.min(o, buf.length), Math.min(o + n, buf.length));
}

export async function doFetch(s: ImapSession, setText: string, itemTokens: Token[], uid: boolean): Promise<void> {
  const mb = s.requireMailbox();
  const uids = s.resolveSet(setText, uid);
  const items = parseItems(itemTokens);
  if (uid && !items.some((i) => i.kind === 'uid')) items.unshift({ kind: 'uid' });
  const needFull = items.some((i) => ['body', 'bodystructure', 'rfc822', 'rfc822.text', 'binary', 'binarysize'].includes(i.kind) || (i.kind === 'section' && !(i.spec!.part.length === 0 && i.spec!.kind.startsWith('header'))));
  const needHeader = !needFull && items.some((i) => i.kind === 'envelope' || i.kind === 'rfc822.header' || i.kind === 'section');
  // Only structure is wanted (no message bytes go out): the driver may read into a buffer it reuses.
  const transient = !items.some((i) => ['rfc822', 'rfc822.header', 'rfc822.text', 'section', 'binary'].includes(i.kind));
  const setsSeen = items.some((i) => (i.kind === 'section' || i.kind === 'binary') && !i.peek) || items.some((i) => i.kind === 'rfc822' || i.kind === 'rfc822.text');
  // \Seen for non-PEEK body fetches in a read-write mailbox: one store for the whole set.
  let seenNow = new Set<number>();
  if (setsSeen && !mb.readOnly) {
    const unseen = uids.filter((u) => mb.get(u) && !mb.get(u)!.flags.has('\\Seen'));
    if (unseen.length) seenNow = new Set(await mb.store(unseen, 'add', ['\\Seen']));
  }
  // Per-message state and the helpers that use it, made once for the whole
  // FETCH (closures and an options object per message were most of the
  // garbage of FETCH 1:* FLAGS).
  const readOpts = { transient };
  let bytes: Buffer | null = null;
  // Parsed only when an item needs the structure (BODY[] and RFC822 do not).
  let parsedMsg: ParsedMessage | undefined;
  const msgOf = (): ParsedMessage => (parsedMsg ??= parseMessage(bytes!));
  // ENVELOPE needs the message's own header fields only, not its MIME tree.
  const fieldsOf = () => (parsedMsg ? parsedMsg.root.fields : headerOf(bytes!).fields);
  // The response line is built as an octet string (encoder.ts); message
  // data goes out as the Buffers it was read into, not copied again.
  const out: Buffer[] = [];
  let line = '';
  let first = true;
  const add = (label: string, text: string) => {
    line += first ? `${label} ${text}` : ` ${label} ${text}`;
    first = false;
  };
  const addLiteral = (label: string, b: Buffer, prefix = '') => {
    add(label, `${prefix}{${b.length}}\r\n`);
    out.push(Buffer.from(line, 'latin1'), b);
    line = '';
  };
  // resolveSet gives UIDs in ascending order, as the view holds them: each
  // one's sequence number is found by walking the view once, not by a
  // search per message.
  const view = s.view;
  let vi = 0;
  for (const u of uids) {
    const info = mb.get(u);
    if (!info) continue; // expunged by another session; reported later
    bytes = null;
    parsedMsg = undefined;
    if (needFull) {
      bytes = await mb.read(u, readOpts);
      if (!bytes) continue;
    } else if (needHeader) {
      bytes = await mb.readHeader(u, readOpts);
      if (!bytes) continue;
    }
    out.length = 0;
    while (vi < view.length && view[vi] < u) vi++;
    line = `* ${vi < view.length && view[vi] === u ? vi + 1 : s.seqOf(u)} FETCH (`;
    first = true;
    let flagsSent = false;
    for (const it of items) {
      switch (it.kind) {
        case 'flags':
          add('FLAGS', octets(s.flagsText(info)));
          flagsSent = true;
          break;
        case 'uid':
          add('UID', String(u));
          break;
        case 'internaldate':
          add('INTERNALDATE', `"${formatInternalDate(info.internalTime ?? info.internalDate, info.internalDateZone)}"`);
          break;
        case 'size':
          add('RFC822.SIZE', String(info.size));
          break;
        case 'envelope':
          add('ENVELOPE', valueText(envelopeFields(bytes!, fieldsOf())));
          break;
        case 'body':
          add('BODY', valueText(bodyStructure(msgOf(), false)));
          break;
        case 'bodystructure':
          add('BODYSTRUCTURE', valueText(bodyStructure(msgOf(), true)));
          break;
        case 'rfc822':
          addLiteral('RFC822', bytes!);
          break;
        case 'rfc822.header':
          addLiteral('RFC822.HEADER', fetchSection(msgOf(), { part: [], kind: 'header' }));
          break;
        case 'rfc822.text':
          addLiteral('RFC822.TEXT', fetchSection(msgOf(), { part: [], kind: 'text' }));
          break;
        case 'section': {
          const b = it.spec!.part.length === 0 && it.spec!.kind === 'all' && needFull ? bytes! : fetchSection(msgOf(), it.spec!);
          const label = it.partial ? `${it.label}<${it.partial[0]}>` : it.label!;
          addLiteral(label, sliceFor(b, it.partial));
          break;
        }
        case 'binary': {
          const b = fetchBinary(msgOf(), it.part!);
          if (!Buffer.isBuffer(b)) throw { unknownCte: true };
          const label = it.partial ? `${it.label}<${it.partial[0]}>` : it.label!;
          const v = sliceFor(b, it.partial);
          // Binary data goes as a literal8 when it holds NUL.
          addLiteral(label, v, v.includes(0) ? '~' : '');
          break;
        }
        case 'binarysize': {
          const b = fetchBinary(msgOf(), it.part!);
          if (!Buffer.isBuffer(b)) throw { unknownCte: true };
          add(it.label!, String(b.length));
          break;
        }
      }
    }
    if (seenNow.has(u) && !flagsSent) add('FLAGS', octets(s.flagsOf(u)));
    if (!out.length) {
      // No message bytes: the whole line is text, gathered with its neighbours.
      const flushing = s.sendOctets(line + ')\r\n');
      if (flushing) await flushing;
      continue;
    }
    out.push(Buffer.from(line + ')\r\n', 'latin1'));
    for (const b of out) await s.send(b);
  }
}

export const fetch: Command = {
  states: SELECTED,
  expungeOk: false,
  async run(s, _tag, args, uid) {
    const set = args[0];
    if (!set || set.type !== 'atom' || args.length < 2) throw bad('Missing or invalid argument to FETCH');
    try {
      await doFetch(s, set.value, args.slice(1), uid);
    } catch (e) {
      if ((e as { unknownCte?: boolean }).unknownCte) {
        const { no } = await import('../session.js');
        throw no('Unknown Content-Transfer-Encoding', 'UNKNOWN-CTE');
      }
      throw e;
    }
    return undefined;
  },
};
