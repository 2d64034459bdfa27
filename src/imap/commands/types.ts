import type { ImapSession, State } from '../session.js';
import type { Token } from '../parser.js';

/** One IMAP command. `run` returns the OK text (undefined = "<CMD> completed", null = it answered itself). */
export interface Command {
  states: State[];
  /** After the command, report mailbox changes; true = EXPUNGE responses allowed. */
  expungeOk?: boolean;
  run(s: ImapSession, tag: string, args: Token[], uid: boolean): Promise<string | undefined | null>;
}

export const ANY: State[] = ['notauth', 'auth', 'selected'];
export const AUTHED: State[] = ['auth', 'selected'];
export const SELECTED: State[] = ['selected'];
