/**
 * The "From " line of traditional UNIX mailboxes, with exactly the grammar UW
 * c-client accepts (formats.md §1.1, verified against UW imapd 2007f):
 *
 *   "From " <anything> SP <date> [" remote from " <host>] EOL
 *   <date> := www SP mmm SP dd SP hh:mm[:ss] [SP zone] SP yyyy
 *           | www SP mmm SP dd SP hh:mm[:ss] SP yyyy SP zone
 *   zone   := 3 letters | ("+"|"-") 4 digits
 *
 * Only the positions of spaces, colons and the sign are checked; day and
 * month names are not validated (a bogus month still splits, with date 1970).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Zone abbreviations c-client knows, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  UT: 0, GMT: 0, UTC: 0, WET: 0, BST: 60, CET: 60, MET: 60, MEZ: 60, CEST: 120, MESZ: 120, EET: 120, EEST: 180,
  MSK: 180, IST: 330, JST: 540, AEST: 600, NZST: 720,
  AST: -240, ADT: -180, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
  AKST: -540, AKDT: -480, HST: -600, YST: -540, YDT: -480, NST: -210, NDT: -150,
};

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

export interface FromLineInfo {
  /** Sender field (may be empty). */
  sender: string;
  /** Internal date, or null when the names did not parse (UW then shows 1-Jan-1970). */
  date: Date | null;
  /** Zone in minutes east of UTC; null when the line had no zone (server local time). */
  zone: number | null;
}

/**
 * Parse a From line (without its LF; a trailing CR is tolerated). Returns
 * undefined when the line is not a valid From line.
 */
export function parseFromLine(raw: string): FromLineInfo | undefined {
  let s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (!s.startsWith('From ') || s.length < 27) return undefined;
  // " remote from host" suffix, recognised only on lines of 41+ characters.
  if (s.length >= 41) {
    const i = s.lastIndexOf(' remote from ');
    if (i > 0) s = s.slice(0, i);
  }
  const b = Buffer.from(s, 'latin1');
  let end = b.length;
  let zone: number | null = null;
  let zoneText = '';
  // Trailing zone after the year: "... yyyy +zzzz" or "... yyyy ZZZ".
  const tailZone = (): boolean => {
    if (end >= 6 && b[end - 6] === 0x20 && (b[end - 5] === 0x2b || b[end - 5] === 0x2d) && isDigit(b[end - 4]) && isDigit(b[end - 3]) && isDigit(b[end - 2]) && isDigit(b[end - 1])) {
      zoneText = s.slice(end - 5, end);
      end -= 6;
      return true;
    }
    if (end >= 4 && b[end - 4] === 0x20 && isAlpha(b[end - 3]) && isAlpha(b[end - 2]) && isAlpha(b[end - 1])) {
      zoneText = s.slice(end - 3, end);
      end -= 4;
      return true;
    }
    return false;
  };
  // Year: 4 digits preceded by a space.
  const yearAt = (e: number) => e >= 5 && b[e - 5] === 0x20 && isDigit(b[e - 4]) && isDigit(b[e - 3]) && isDigit(b[e - 2]) && isDigit(b[e - 1]);
  let trailing = false;
  if (!yearAt(end)) {
    if (!tailZone() || !yearAt(end)) return undefined;
    trailing = true;
  }
  const year = Number(s.slice(end - 4, end));
  end -= 5;
  // Optional zone before the year (only if none after it).
  if (!trailing) {
    const save = end;
    if (tailZone()) {
      // make sure what precedes is a time, else undo
      if (!(end >= 3 && isDigit(b[end - 1]) && isDigit(b[end - 2]))) {
        end = save;
        zoneText = '';
      }
    }
  }
  // Time: hh:mm or hh:mm:ss
  let sec = 0;
  if (end >= 9 && b[end - 9] === 0x20 && isDigit(b[end - 8]) && isDigit(b[end - 7]) && b[end - 6] === 0x3a && isDigit(b[end - 5]) && isDigit(b[end - 4]) && b[end - 3] === 0x3a && isDigit(b[end - 2]) && isDigit(b[end - 1])) {
    sec = Number(s.slice(end - 2, end));
    end -= 3;
  }
  if (!(end >= 6 && b[end - 6] === 0x20 && isDigit(b[end - 5]) && isDigit(b[end - 4]) && b[end - 3] === 0x3a && isDigit(b[end - 2]) && isDigit(b[end - 1]))) return undefined;
  const hour = Number(s.slice(end - 5, end - 3));
  const min = Number(s.slice(end - 2, end));
  end -= 6;
  // Day: " dd" or "  d" (space-padded); preceded by month "mmm" and day-of-week "www".
  if (end < 11) return undefined;
  const d1 = b[end - 2];
  const d2 = b[end - 1];
  if (!isDigit(d2) || !(isDigit(d1) || d1 === 0x20)) return undefined;
  if (b[end - 3] !== 0x20) return undefined;
  const day = Number(s.slice(end - 2, end).trim());
  const monText = s.slice(end - 6, end - 3);
  if (b[end - 7] !== 0x20) return undefined;
  // www, preceded by the space that ends the sender (or the one of "From ").
  if (end - 11 < 4 || b[end - 11] !== 0x20) return undefined;
  const senderEnd = end - 11;
  const sender = senderEnd > 5 ? s.slice(5, senderEnd) : '';
  if (zoneText) {
    if (zoneText[0] === '+' || zoneText[0] === '-') {
      const z = Number(zoneText.slice(1, 3)) * 60 + Number(zoneText.slice(3, 5));
      zone = zoneText[0] === '-' ? -z || 0 : z; // never -0: it is not a small integer to V8
    } else {
      zone = ZONES[zoneText.toUpperCase()] ?? 0;
    }
  }
  const mon = MONTHS.findIndex((m) => m.toLowerCase() === monText.toLowerCase());
  let date: Date | null = null;
  if (mon >= 0 && day >= 1 && day <= 31 && hour < 24 && min < 60 && sec < 62) {
    const utc = Date.UTC(year, mon, day, hour, min, sec);
    if (zone !== null) date = new Date(utc - zone * 60000);
    else {
      // No zone: local time of the server.
      const local = new Date(year, mon, day, hour, min, sec);
      date = local;
    }
  }
  return { sender, date, zone };
}

/** Whether a line (without LF) is a valid From line. */
export function validFromLine(line: string | Buffer): boolean {
  return parseFromLine(typeof line === 'string' ? line : line.toString('latin1')) !== undefined;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * The From line c-client writes: `From user@host Www Mmm dd hh:mm:ss yyyy +zzzz`
 * (day space-padded, numeric zone equal to the zone given). Without a zone:
 * plain ctime() form (the pseudo-message's line).
 */
export function formatFromLine(sender: string, date: Date, zoneMinutes: number | null): string {
  const z = zoneMinutes ?? 0;
  const d = new Date(date.getTime() + z * 60000);
  let s = `From ${sender} ${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  if (zoneMinutes !== null) {
    const a = Math.abs(z);
    s += ` ${z < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
  }
  return s;
}

/** Local zone of this server for a date, minutes east of UTC. */
export function localZone(d: Date): number {
  return -d.getTimezoneOffset() || 0; // never -0
}
