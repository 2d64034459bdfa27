import type { KeyDef } from '../schema.js';

/** ipop3d and ipop2d (src/pop3, src/pop2). */
export const popKeys: KeyDef[] = [];
