'use strict';
// Start a program from its bundle (dist/bundle/<name>.cjs, see
// scripts/bundle.js) with V8's code cache, so that a process started by inetd
// for one connection compiles almost nothing; fall back to the ES modules in
// dist/cli when there is no bundle. Kept to Node built-ins and CommonJS: the
// ES module loader is never started on this path.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

module.exports = function boot(name) {
  const dir = path.join(__dirname, '..', 'dist', 'bundle');
  const file = path.join(dir, `${name}.cjs`);
  let source;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    return import(`../dist/cli/${name}.js`);
  }
  const cacheFile = path.join(dir, `${name}.cache`);
  const writeTo = process.env.UWIMAP_CODE_CACHE_WRITE;
  delete process.env.UWIMAP_CODE_CACHE_WRITE;
  let cachedData;
  if (!writeTo) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (writeTo) process.once('exit', () => fs.writeFileSync(writeTo, script.createCachedData()));
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dir);
  mod.loaded = true;
  const fn = script.runInThisContext({ displayErrors: true });
  fn.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dir);
};
