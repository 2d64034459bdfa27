/**
 * IMAP command reader: turns the client's byte stream into commands, with
 * synchronizing literals ({n} + "+ Ready for argument") and LITERAL+ ({n+}),
 * line and literal size caps, and a tokenizer that understands the special
 * syntax of FETCH items (BODY[HEADER.FIELDS (A B)]<0.100>).
 */

export type Token =
  | { type: 'atom'; value: string }
  | { type: 'string'; value: Buffer; literal: boolean }
  | { type: 'list'; items: Token[] }
  | { type: 'nil' };

export class ParseError extends Error {}

export interface ReaderLimits {
  maxLine: number;
  maxLiteral: number;
  maxAppendLiteral: number;
  maxLiterals: number;
}

export type ReaderEvent =
  | { kind: 'command'; line: Buffer; literals: Buffer[] }
  | { kind: 'continue' } // send "+ Ready for argument"
  | { kind: 'error'; tag: string; text: string; untagged?: boolean };

/**
 * Accumulates input. A command is its first line plus, for each literal, the
 * literal bytes and the rest of the line. Literals are replaced in `line` by
 * a marker "\0L<n>" that the tokenizer resolves.
 */
export class CommandReader {
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private literals: Buffer[] = [];
  private needLiteral = -1;
  private discarding = 0; // bytes of an oversized literal to throw away
  private discardLine = false; // throw away until end of line
  private isAppend = false;

  constructor(private readonly limits: ReaderLimits) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
  }
  /** Drop everything buffered (after STARTTLS). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.parts = [];
    this.literals = [];
    this.needLiteral = -1;
  }
  /** Input waiting to be processed (IDLE's DONE line is read by the session). */
  takeLine(): Buffer | undefined {
    const nl = this.buf.indexOf(10);
    if (nl < 0) return undefined;
    const line = this.buf.subarray(0, nl);
    this.buf = this.buf.subarray(nl + 1);
    return line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line;
  }
  get pendingBytes(): number {
    return this.buf.length;
  }

  /** Next event, or undefined when more input is needed. */
  next(): ReaderEvent | undefined {
    for (;;) {
      if (this.discarding > 0) {
        const n = Math.min(this.discarding, this.buf.length);
        this.buf = this.buf.subarray(n);
        this.discarding -= n;
        if (this.discarding > 0) return undefined;
      }
      if (this.discardLine) {
        const nl = this.buf.indexOf(10);
        if (nl < 0) {
          this.buf = Buffer.alloc(0);
          return undefined;
        }
        this.buf = this.buf.subarray(nl + 1);
        this.discardLine = false;
        continue;
      }
      if (this.needLiteral >= 0) {
        if (this.buf.length < this.needLiteral) return undefined;
        this.literals.push(Buffer.from(this.buf.subarray(0, this.needLiteral)));
        this.buf = this.buf.subarray(this.needLiteral);
        this.parts.push(Buffer.from(`\0L${this.literals.length - 1}\0`, 'latin1'));
        this.needLiteral = -1;
      }
      const nl = this.buf.indexOf(10);
      if (nl < 0) {
        const have = this.parts.reduce((a, b) => a + b.length, 0) + this.buf.length;
        if (have > this.limits.maxLine) {
          const tag = this.tagOf();
          this.parts = [];
          this.literals = [];
          this.buf = Buffer.alloc(0);
          this.discardLine = true;
          return { kind: 'error', tag, text: 'Command line too long' };
        }
        return undefined;
      }
      let line = this.buf.subarray(0, nl);
      this.buf = this.buf.subarray(nl + 1);
      if (line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      const total = this.parts.reduce((a, b) => a + b.length, 0) + line.length;
      if (total > this.limits.maxLine) {
        const tag = this.tagOf(line);
        this.parts = [];
        this.literals = [];
        return { kind: 'error', tag, text: 'Command line too long' };
      }
      if (this.parts.length === 0) this.isAppend = /^\S+ +(UID +)?APPEND /i.test(line.subarray(0, 64).toString('latin1'));
      // Literal at the end of the line?
      const m = /\{(\d{1,10})(\+?)\}$/.exec(line.subarray(Math.max(0, line.length - 16)).toString('latin1'));
      if (m) {
        const size = Number(m[1]);
        const nonSync = m[2] === '+';
        this.parts.push(line.subarray(0, line.length - m[0].length));
        const cap = this.isAppend ? this.limits.maxAppendLiteral : this.limits.maxLiteral;
        if (this.literals.length >= this.limits.maxLiterals) {
          const tag = this.tagOf();
          this.parts = [];
          this.literals = [];
          if (nonSync) this.discarding = size;
          this.discardLine = true;
          return { kind: 'error', tag, text: 'Too many literals in command' };
        }
        if (size > cap) {
          const tag = this.tagOf();
          this.parts = [];
          this.literals = [];
          if (nonSync) {
            this.discarding = size;
            this.discardLine = true;
          }
          return this.isAppend ? { kind: 'error', tag, text: 'Excessively large message' } : { kind: 'error', tag, text: 'Absurdly long client literal', untagged: true };
        }
        this.needLiteral = size;
        if (!nonSync) return { kind: 'continue' };
        continue;
      }
      this.parts.push(line);
      const full = Buffer.concat(this.parts);
      const literals = this.literals;
      this.parts = [];
      this.literals = [];
      return { kind: 'command', line: full, literals };
    }
  }

  private tagOf(line?: Buffer): string {
    const first = (this.parts[0] ?? line ?? Buffer.alloc(0)).toString('latin1');
    const t = first.split(' ')[0];
    return t && /^[\x21-\x7e]+$/.test(t) && !t.includes('{') ? t : '*';
  }
}

/** Characters that end an atom. */
const ATOM_END = new Set([0x20, 0x28, 0x29, 0x7b, 0x22, 0x00]);

/** Tokenize a command line (literal markers resolved from `literals`). */
export function tokenize(line: Buffer, literals: Buffer[]): Token[] {
  let i = 0;
  const n = line.length;
  const parseList = (closer: number): Token[] => {
    const items: Token[] = [];
    for (;;) {
      while (i < n && line[i] === 0x20) i++;
      if (i >= n) {
        if (closer > 0) throw new ParseError("Missing ) in list");
        return items;
      }
      const c = line[i];
      if (c === closer) {
        i++;
        return items;
      }
      if (c === 0x29) throw new ParseError('Unexpected )');
      if (c === 0x28) {
        i++;
        items.push({ type: 'list', items: parseList(0x29) });
      } else if (c === 0x22) {
        i++;
        const out: number[] = [];
        for (;;) {
          if (i >= n) throw new ParseError('Unterminated quoted string');
          const d = line[i++];
          if (d === 0x22) break;
          if (d === 0x5c) {
            const e = line[i++];
            if (e !== 0x22 && e !== 0x5c) throw new ParseError('Invalid escape in quoted string');
            out.push(e);
          } else if (d === 0x0d || d === 0x0a) throw new ParseError('CR or LF in quoted string');
          else out.push(d);
        }
        items.push({ type: 'string', value: Buffer.from(out), literal: false });
      } else if (c === 0x00 && line[i + 1] === 0x4c) {
        const end = line.indexOf(0, i + 2);
        const idx = Number(line.toString('latin1', i + 2, end));
        items.push({ type: 'string', value: literals[idx] ?? Buffer.alloc(0), literal: true });
        i = end + 1;
      } else {
        // Atom, possibly with [ ... ] (which may contain spaces and parentheses) and <...>.
        const start = i;
        while (i < n && !ATOM_END.has(line[i]) && line[i] !== closer) {
          if (line[i] === 0x5b) {
            let depth = 0;
            while (i < n) {
              if (line[i] === 0x5b) depth++;
              else if (line[i] === 0x5d) {
                depth--;
                if (depth === 0) {
                  i++;
                  break;
                }
              }
              i++;
            }
            continue;
          }
          i++;
        }
        const v = line.toString('latin1', start, i);
        if (!v) throw new ParseError(`Unexpected character ${String.fromCharCode(line[i])}`);
        items.push(v.toUpperCase() === 'NIL' ? { type: 'nil' } : { type: 'atom', value: v });
      }
    }
  };
  return parseList(-1);
}

/** A string value of an astring/string token. */
export function astring(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.type === 'atom') return t.value;
  if (t.type === 'string') return t.value.toString('utf8');
  return undefined;
}
export function astringBytes(t: Token | undefined): Buffer | undefined {
  if (!t) return undefined;
  if (t.type === 'atom') return Buffer.from(t.value, 'latin1');
  if (t.type === 'string') return t.value;
  return undefined;
}
/** Mailbox names are octets (modified UTF-7): latin1 keeps them byte for byte. */
export function mailboxName(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.type === 'atom') return t.value;
  if (t.type === 'string') return t.value.toString('latin1');
  return undefined;
}
