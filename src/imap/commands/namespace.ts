import { AUTHED, type Command } from './types.js';
import type { Namespace } from '../../store/types.js';

function ns(list: Namespace[]): string {
  if (!list.length) return 'NIL';
  return `(${list.map((n) => `("${n.prefix}" ${n.delimiter === null ? 'NIL' : `"${n.delimiter}"`})`).join('')})`;
}

export const namespace: Command = {
  states: AUTHED,
  expungeOk: true,
  async run(s) {
    const n = s.store!.namespaces;
    await s.untagged(`NAMESPACE ${ns(n.personal)} ${ns(n.otherUsers)} ${ns(n.shared)}`);
    return undefined;
  },
};
