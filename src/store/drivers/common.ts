/** Driver operations that are the same for every format. */
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import type { AppendMessage, AppendResult, Mailbox, StatusInfo } from '../types.js';
import { StoreError } from '../types.js';
import { mapErr } from './base.js';

/** STATUS from an open mailbox; `recent` is the driver's count of messages no session has claimed. */
export function statusOf(mb: Mailbox, recent: number): StatusInfo {
  let size = 0;
  let unseen = 0;
  const msgs = mb.messages();
  for (const m of msgs) {
    size += m.size;
    if (!m.flags.has('\\Seen')) unseen++;
  }
  return { messages: msgs.length, recent, unseen, uidNext: mb.uidNext, uidValidity: mb.uidValidity, size };
}

/** Delete a single-file mailbox (unix, mbx). */
export function deleteFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    throw mapErr(e, path);
  }
}

/** Rename a mailbox file or directory; the destination must not exist. */
export function renameMailbox(from: string, to: string): void {
  if (existsSync(to)) throw new StoreError(`Can't rename to mailbox ${to}: mailbox already exists`, 'ALREADYEXISTS');
  try {
    renameSync(from, to);
  } catch (e) {
    throw mapErr(e, from);
  }
}

/**
 * APPEND to a mailbox nobody has selected here: it was opened silently just
 * for this, appends without creating keywords (UW: "Unknown flag"), and is closed.
 */
export async function appendAndClose(mb: Mailbox & { appendClosed(m: AppendMessage[]): Promise<AppendResult> }, path: string, messages: AppendMessage[]): Promise<AppendResult> {
  try {
    if (mb.readOnly) throw new StoreError(`Can't append to ${path}: ${mb.readOnlyReason}`, 'NOPERM');
    return await mb.appendClosed(messages);
  } finally {
    await mb.close();
  }
}
