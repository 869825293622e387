'use strict';
/*
 * extensionTestsPath module: VS Code requires this file in the extension host and awaits run().
 * run() executes Mocha (tdd ui: suite/test/suiteSetup/setup/teardown, timeout 60 s, no colours,
 * spec reporter) over every `*.test.js` file below the suite directory (recursive, sorted,
 * node_modules skipped) and rejects when a test fails, so the workbench reports a non-zero exit
 * code (-> launcher exit code -> runTests rejects with TestRunFailedError).
 *
 * Suite directory, first match wins:
 *   1. env EPHEMERAL_ROOT_VSCODE_SUITE_DIR. test/vscode/runTests.js sets it through
 *      runTests({ extensionTestsEnv }) when extensionTestsPath is a directory. Environment variables
 *      do reach the extension host: desktop VS Code passes its env to the extension host, and with
 *      test/vscode/launcher.js the chain is launcher env -> VS Code server -> remote extension host
 *      (verified on VS Code 1.100.3; the server also merges the login-shell env, which inherits ours).
 *   2. sibling convention: a `suite/` directory next to this file (test/vscode/suite/).
 *
 * Guard: when env EPHEMERAL_ROOT_VSCODE_DEV_PATHS (a JSON array, set by launcher.js) names the
 * extension(s) under development and one of them is not among vscode.extensions.all, run() logs
 * EPHEMERAL_ROOT_DEV_EXTENSION_MISSING and rejects before running any test; launcher.js then
 * restarts VS Code once (see the fresh-profile trap in launcher.js / README.md).
 */
const fs = require('fs');
const path = require('path');

function resolveSuiteDir() {
  const fromEnv = process.env.EPHEMERAL_ROOT_VSCODE_SUITE_DIR;
  if (fromEnv) return { dir: path.resolve(fromEnv), how: 'env EPHEMERAL_ROOT_VSCODE_SUITE_DIR' };
  return { dir: path.join(__dirname, 'suite'), how: 'sibling suite/ directory' };
}

function findTests(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.test.js')) {
        out.push(p);
      }
    }
  };
  walk(dir);
  return out.sort();
}

async function checkDevExtensionsLoaded() {
  const raw = process.env.EPHEMERAL_ROOT_VSCODE_DEV_PATHS;
  if (!raw) return;
  let wanted;
  try { wanted = JSON.parse(raw); } catch { return; }
  const vscode = require('vscode');
  const norm = (p) => {
    try { return fs.realpathSync(p); } catch { return path.resolve(p).replace(/\/+$/, ''); }
  };
  // Give the extension registry a moment: it is normally complete before run() is called.
  for (let i = 0; i < 20; i++) {
    const loaded = new Set(vscode.extensions.all.map((e) => norm(e.extensionPath)));
    const missing = wanted.filter((p) => !loaded.has(norm(p)));
    if (missing.length === 0) return;
    if (i === 19) {
      console.error(`EPHEMERAL_ROOT_DEV_EXTENSION_MISSING: extension(s) under development not loaded: ${missing.join(', ')}`);
      throw new Error(`extension(s) under development not loaded: ${missing.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function run() {
  await checkDevExtensionsLoaded();
  const Mocha = require('mocha');
  const { dir, how } = resolveSuiteDir();
  if (!fs.existsSync(dir)) throw new Error(`mocha-runner: suite directory ${dir} (from ${how}) does not exist`);
  const files = findTests(dir);
  if (files.length === 0) throw new Error(`mocha-runner: no *.test.js files in ${dir} (from ${how})`);
  console.log(`mocha-runner: ${files.length} test file(s) in ${dir} (from ${how})`);

  const mocha = new Mocha({ ui: 'tdd', timeout: 60000, color: false, reporter: 'spec' });
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  const failures = await new Promise((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}

module.exports = { run };
