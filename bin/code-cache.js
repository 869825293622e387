'use strict';
// Shared by the two commands (bin/ephemeral-root.js, bin/ephemeral-root-ls.js): loading a bundle through V8's code cache.

/**
 * Loads a bundle like `require`, through V8's code cache when one is kept: the process then skips compiling the bundle
 * and every function its first analysis ran (Node 20 has no module.enableCompileCache). The cache lives in a folder of
 * the user's only (`code/` in EPHEMERAL_ROOT_CACHE_DIR, which the VS Code client sets to the extension's global
 * storage, else in $XDG_CACHE_HOME/nixos-ephemeral-root or ~/.cache/nixos-ephemeral-root), never in a shared temporary folder: cached code is run as it is. V8 refuses a cache
 * made for another source or another V8, and the file name carries the bundle's name, size and time.
 * EPHEMERAL_ROOT_CODE_CACHE=off loads the bundle with plain `require`.
 *
 * A missing or refused cache is written once the process has compiled what it runs: when it exits, or after
 * `writeAfterMs` (a language server runs for days; the cache should hold its first analyses, not wait for its exit).
 * Writing a cache removes the caches of older builds of the same bundle but the two most recent.
 */
function loadWithCodeCache(file, { writeAfterMs } = {}) {
  const fs = require('node:fs');
  const path = require('node:path');
  const os = require('node:os');
  if (process.env.EPHEMERAL_ROOT_CODE_CACHE === 'off') return require(file);
  let cacheFile;
  let source;
  try {
    const stats = fs.statSync(file);
    // The same cache folder as Nix evaluation results (server/src/evaluation/cache.ts), in `code/` beside them.
    const xdg = process.env.XDG_CACHE_HOME;
    const base = process.env.EPHEMERAL_ROOT_CACHE_DIR || path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'nixos-ephemeral-root');
    const folder = path.join(base, 'code');
    const name = path.basename(file, '.js');
    cacheFile = path.join(folder, `${name}-${stats.size}-${Math.round(stats.mtimeMs)}-${process.version}-${process.arch}.v8cache`);
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
        removeStaleCaches(fs, path, cacheFile, path.basename(file, '.js'));
      } catch {
        // No cache: the next start compiles again.
      }
    };
    if (writeAfterMs !== undefined) setTimeout(write, writeAfterMs).unref();
    process.on('exit', write);
  }
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}

/**
 * Removes the caches of older builds of the same bundle, left behind when the extension or the package was updated
 * (a cache is 1–2 MB, and one was added per build until the folder held dozens). The two most recently written
 * besides the current one stay: two installed versions in use at once (an editor window still running the previous
 * release, or the npm package beside a Nix profile) would otherwise remove each other's cache at every exit. Only files
 * of this bundle's name that end in `.v8cache` are considered.
 */
function removeStaleCaches(fs, path, cacheFile, name) {
  const KEPT_BESIDE_CURRENT = 2;
  const folder = path.dirname(cacheFile);
  const others = [];
  for (const entry of fs.readdirSync(folder)) {
    if (!entry.startsWith(`${name}-`) || !entry.endsWith('.v8cache') || entry === path.basename(cacheFile)) continue;
    try {
      others.push({ file: path.join(folder, entry), written: fs.statSync(path.join(folder, entry)).mtimeMs });
    } catch {
      // Removed by another process meanwhile.
    }
  }
  others.sort((a, b) => b.written - a.written);
  for (const { file } of others.slice(KEPT_BESIDE_CURRENT)) {
    try {
      fs.unlinkSync(file);
    } catch {
      // Another process removed it first, or it is not ours to remove: leave it.
    }
  }
}

module.exports = { loadWithCodeCache };
