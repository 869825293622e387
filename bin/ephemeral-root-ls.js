#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1536
'use strict';
// The flags on the first line keep V8's young generation small and give it a heap size to aim for: a language
// server stays up for days, and with them its RSS stays flat over thousands of edits instead of climbing. The old
// generation may grow to 1.5 GB (docs/security.md): a 20,000-line host holds some 400 MB while an
// edit is analysed, and at 512 MB the collector ran so often that an edit took twice as long.
// The `ephemeral-root-ls` command: the bundled language server. Use `ephemeral-root-ls --stdio` from any editor.
const args = process.argv.slice(2);
if (!args.some((arg) => arg === '--stdio' || arg === '--node-ipc' || arg.startsWith('--socket') || arg.startsWith('--pipe') || arg === '--version' || arg === '--help')) {
  process.argv.push('--stdio');
}
const server = require('node:path').join(__dirname, '..', 'dist', 'server.js');
if (!require('node:fs').existsSync(server)) {
  process.stderr.write('ephemeral-root-ls: the server is not built; run: npm run build\n');
  process.exit(2);
}
loadWithCodeCache(server);

/**
 * Loads the bundle like `require`, through V8's code cache when one is kept: a new server then skips compiling the
 * bundle and every function its first analysis ran (Node 20 has no module.enableCompileCache). The cache lives in a
 * folder of the user's only (EPHEMERAL_ROOT_CACHE_DIR, which the VS Code client sets to the extension's global
 * storage, else $XDG_CACHE_HOME or ~/.cache), never in a shared temporary folder: cached code is run as it is. V8
 * refuses a cache made for another source or another V8, and the file name carries the bundle's size and time.
 * EPHEMERAL_ROOT_CODE_CACHE=off loads the bundle with plain `require`.
 */
function loadWithCodeCache(file) {
  const fs = require('node:fs');
  const path = require('node:path');
  const os = require('node:os');
  if (process.env.EPHEMERAL_ROOT_CODE_CACHE === 'off') return require(file);
  let cacheFile;
  let source;
  try {
    const stats = fs.statSync(file);
    const folder = process.env.EPHEMERAL_ROOT_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'ephemeral-root');
    cacheFile = path.join(folder, `server-${stats.size}-${Math.round(stats.mtimeMs)}-${process.version}-${process.arch}.v8cache`);
    source = fs.readFileSync(file, 'utf8');
  } catch {
    return require(file);
  }
  const Module = require('node:module');
  const vm = require('node:vm');
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // `import()` inside the bundle resolves as it does under `require` (web-tree-sitter loads its runtime with it).
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  require.cache[file] = mod;
  // A missing or refused cache is written once the first analyses have compiled what they run: after a while, or
  // when the server exits before that.
  if (cachedData === undefined || script.cachedDataRejected) {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      try {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
        const temporary = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temporary, cacheFile);
      } catch {
        // No cache: the next start compiles again.
      }
    };
    setTimeout(write, 10_000).unref();
    process.on('exit', write);
  }
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}
