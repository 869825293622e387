'use strict';
/*
 * Runs VS Code extension integration tests through @vscode/test-electron's runTests().
 *
 * Default: vscodeExecutablePath = test/vscode/launcher.js, which runs the tests in the real
 * VS Code 1.100.3 server from code-server@4.100.3 + headless chromium (see README.md there).
 * EPHEMERAL_ROOT_DESKTOP_VSCODE=1: let @vscode/test-electron download desktop VS Code 1.100.3
 * instead (needs update.code.visualstudio.com; not reachable on our build machines).
 *
 * extensionTestsPath may be
 *   - a directory WITHOUT index.js: treated as a Mocha suite directory. The tests are run by
 *     test/vscode/mocha-runner.js, and the directory reaches it as env EPHEMERAL_ROOT_VSCODE_SUITE_DIR
 *     (runTests({ extensionTestsEnv }) -> VS Code / launcher -> VS Code server -> extension host);
 *   - a file or a directory with index.js: a module exporting run(), passed through unchanged.
 *
 * CLI: node test/vscode/runTests.js <extensionDevelopmentPath> <extensionTestsPath> [workspace]
 *   exit code 0 when all tests pass, non-zero otherwise.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const VSCODE_VERSION = '1.100.3';
const LAUNCHER = path.join(__dirname, 'launcher.js');
const MOCHA_RUNNER = path.join(__dirname, 'mocha-runner.js');
const REPO_ROOT = path.resolve(__dirname, '..', '..');

function isSuiteDir(p) {
  return fs.existsSync(p) && fs.statSync(p).isDirectory() && !fs.existsSync(path.join(p, 'index.js'));
}

/**
 * @param {object} opts
 * @param {string|string[]} opts.extensionDevelopmentPath  extension folder(s) under test
 * @param {string} opts.extensionTestsPath  run() module, or a directory of *.test.js files (see above)
 * @param {string} [opts.workspacePath]     folder or .code-workspace to open
 * @param {string[]} [opts.launchArgs]      extra arguments; e.g. `--user-data-dir=<dir>` for a cold profile
 * @param {Record<string,string>} [opts.extensionTestsEnv]  extra env for the extension host
 * @returns {Promise<number>} 0 on success; rejects (TestRunFailedError, .code) when tests fail
 */
async function runVSCodeTests({ extensionDevelopmentPath, extensionTestsPath, workspacePath, launchArgs = [], extensionTestsEnv = {} }) {
  const { runTests } = require('@vscode/test-electron');
  if (!extensionDevelopmentPath) throw new Error('runVSCodeTests: extensionDevelopmentPath is required');
  if (!extensionTestsPath) throw new Error('runVSCodeTests: extensionTestsPath is required');
  const devPaths = (Array.isArray(extensionDevelopmentPath) ? extensionDevelopmentPath : [extensionDevelopmentPath]).map((p) => path.resolve(p));
  let testsPath = path.resolve(extensionTestsPath);
  const env = { ...extensionTestsEnv };
  if (isSuiteDir(testsPath)) {
    env.EPHEMERAL_ROOT_VSCODE_SUITE_DIR = testsPath;
    testsPath = MOCHA_RUNNER;
  }
  const args = [...launchArgs];
  if (workspacePath) args.unshift(path.resolve(workspacePath));

  const options = {
    extensionDevelopmentPath: devPaths.length === 1 ? devPaths[0] : devPaths,
    extensionTestsPath: testsPath,
    launchArgs: args,
    extensionTestsEnv: env,
  };
  if (process.env.EPHEMERAL_ROOT_DESKTOP_VSCODE === '1') {
    // Desktop VS Code (Electron), downloaded and cached in <cwd>/.vscode-test by @vscode/test-electron.
    options.version = VSCODE_VERSION;
  } else {
    options.vscodeExecutablePath = LAUNCHER;
    // @vscode/test-electron defaults these to <cwd>/.vscode-test/{user-data,extensions}; keep the
    // launcher's profile per repo, not per cwd, unless the caller passed its own.
    if (!args.some((a) => a.startsWith('--user-data-dir'))) args.push(`--user-data-dir=${path.join(REPO_ROOT, '.vscode-test', 'server-user-data')}`);
    if (!args.some((a) => a.startsWith('--extensions-dir'))) args.push(`--extensions-dir=${path.join(REPO_ROOT, '.vscode-test', 'server-extensions')}`);
  }
  return runTests(options);
}

module.exports = { runVSCodeTests, VSCODE_VERSION };

if (require.main === module) {
  const [dev, tests, ws] = process.argv.slice(2);
  if (!dev || !tests) {
    process.stderr.write('usage: node test/vscode/runTests.js <extensionDevelopmentPath> <extensionTestsPath> [workspace]\n');
    process.exit(2);
  }
  const t0 = Date.now();
  runVSCodeTests({ extensionDevelopmentPath: dev, extensionTestsPath: tests, workspacePath: ws }).then(
    () => {
      process.stdout.write(`runTests: passed in ${((Date.now() - t0) / 1000).toFixed(1)} s${os.EOL}`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`runTests: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${err && err.message ? err.message : err}${os.EOL}`);
      process.exit(typeof (err && err.code) === 'number' && err.code !== 0 ? err.code : 1);
    },
  );
}
