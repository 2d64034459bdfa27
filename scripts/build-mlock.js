// Compile the setgid dot-lock helper (src/mlock/mlock.c → build/mlock) when a
// C compiler is available. It is optional: without it the daemons fall back
// to flock-only locking in spools that are not mode 1777 (with UW's warning).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const cc = process.env.CC || 'cc';
mkdirSync('build', { recursive: true });
const r = spawnSync(cc, ['-O2', '-Wall', '-o', 'build/mlock', 'src/mlock/mlock.c'], { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  process.stderr.write('note: build/mlock not built (no C compiler?); spools that are not 1777 will lack dot-locks\n');
}
