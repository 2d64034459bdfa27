// Compile the Node-API addon of the POSIX calls every session makes
// (src/native/posixcalls.c -> build/posixcalls.node) when a C compiler is
// available. It is optional: without it src/runtime/posix.ts makes the same
// calls through koffi, only paying koffi's load (about 4 ms) in every
// process that locks a mailbox or logs to syslog.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const out = 'build/posixcalls.node';
mkdirSync('build', { recursive: true });
rmSync(out, { force: true });

/** Node-API headers: the node-api-headers package, else Node's own. */
function includeDir() {
  try {
    return require('node-api-headers').include_dir;
  } catch {
    const own = join(dirname(process.execPath), '..', 'include', 'node');
    return existsSync(join(own, 'node_api.h')) ? own : undefined;
  }
}

const inc = includeDir();
const cc = process.env.CC || 'cc';
const r = inc
  ? spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-I', inc, '-o', out, 'src/native/posixcalls.c'], { stdio: 'inherit' })
  : { error: new Error('no Node-API headers'), status: null };
if (r.error || r.status !== 0) {
  rmSync(out, { force: true });
  process.stderr.write(`note: ${out} not built (${r.error ? r.error.message : 'compiler failed'}); the daemons make these calls through koffi\n`);
}
