/**
 * The extension in a real VS Code (1.100.3, the server of code-server@4.100.3 in headless chromium; see
 * test/vscode/README.md), through @vscode/test-electron's runTests:
 *
 * 1. prepares a temporary multi-root workspace with copies of examples/seed, examples/broken-flake and
 *    examples/broken-classic (the tests edit files on disk; the repository's examples are never touched), and a
 *    fresh VS Code profile beside it;
 * 2. runs the Mocha suite out/test/vscode/suite/*.test.js in the extension host, with the repository as
 *    extensionDevelopmentPath (the built dist/extension.js and dist/server.js);
 * 3. checks the browser-level result the suite asked the launcher for (DOM dump + screenshot `diagnostics`): a red
 *    squiggle and a Problems panel row of ours; keeps the screenshot as docs/images/diagnostics.png when that file is
 *    missing or EPHEMERAL_ROOT_UPDATE_SCREENSHOTS=1.
 * Exit code 0 when all of it passed. Without the VS Code server install it fails with one line telling to run
 * scripts/install-code-server.sh (CI runs it before `npm test`).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runMain, tempWorkspace } from './common';

const FOLDERS = ['seed', 'broken-flake', 'broken-classic'];
const SCREENSHOT = path.join(REPO_ROOT, 'docs', 'images', 'diagnostics.png');

interface DomItem {
  ariaLabel: string | null;
  text: string;
}

function chromium(): string | undefined {
  return [process.env.EPHEMERAL_ROOT_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((candidate) => candidate && existsSync(candidate));
}

async function main(): Promise<void> {
  const codeServer = process.env.EPHEMERAL_ROOT_CODE_SERVER_DIR || path.join(REPO_ROOT, '.vscode-test', 'code-server');
  const serverMain = path.join(codeServer, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
  if (process.env.EPHEMERAL_ROOT_DESKTOP_VSCODE !== '1') {
    if (!existsSync(serverMain)) throw new Error(`the VS Code server is not installed (${serverMain} missing): run scripts/install-code-server.sh`);
    if (!chromium()) throw new Error('chromium not found: apt-get install -y chromium (then scripts/install-code-server.sh)');
  }
  for (const built of ['dist/extension.js', 'dist/server.js', 'out/test/vscode/suite/activation.test.js']) {
    if (!existsSync(path.join(REPO_ROOT, built))) throw new Error(`${built} missing: run node scripts/build.mjs && npx tsc -p .`);
  }

  const workspace = tempWorkspace('ephemeral-root-vscode-', FOLDERS);
  try {
    const workspaceFile = path.join(workspace.root, 'ephemeral-root-tests.code-workspace');
    writeFileSync(workspaceFile, `${JSON.stringify({ folders: FOLDERS.map((name) => ({ path: name })), settings: { 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'editor.stickyScroll.enabled': false, 'editor.minimap.enabled': false } }, null, 2)}\n`);
    const shots = path.join(workspace.root, 'screenshots');
    mkdirSync(shots);

    // CommonJS module of the harness (test/vscode/runTests.js), loaded from the repository at run time.
    const { runVSCodeTests } = require(path.join(REPO_ROOT, 'test', 'vscode', 'runTests.js')) as {
      runVSCodeTests(options: { extensionDevelopmentPath: string; extensionTestsPath: string; workspacePath?: string; launchArgs?: string[]; extensionTestsEnv?: Record<string, string> }): Promise<number>;
    };
    const started = Date.now();
    try {
      await runVSCodeTests({
        extensionDevelopmentPath: REPO_ROOT,
        extensionTestsPath: path.join(REPO_ROOT, 'out', 'test', 'vscode', 'suite'),
        workspacePath: workspaceFile,
        // A profile of its own (the harness warms it up), so that runs from other checkouts or shells never share one.
        launchArgs: [`--user-data-dir=${path.join(workspace.root, 'user-data')}`],
        extensionTestsEnv: { EPHEMERAL_ROOT_SCREENSHOT_DIR: shots },
      });
    } catch (error) {
      throw new Error(`the VS Code suite failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${error instanceof Error ? error.message : String(error)}`);
    }
    console.log(`vscode: extension-host suite passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    if (process.env.EPHEMERAL_ROOT_DESKTOP_VSCODE === '1') return; // no page to look at
    // The browser-level check, from what the launcher read out of the page.
    const dumpFile = path.join(shots, 'diagnostics.json');
    const png = path.join(shots, 'diagnostics.png');
    assert.ok(existsSync(dumpFile) && existsSync(png), 'the suite took the diagnostics screenshot and DOM dump');
    const dom = JSON.parse(readFileSync(dumpFile, 'utf8')) as Record<string, DomItem[]>;
    const squiggles = dom['.monaco-editor .squiggly-error'] ?? [];
    const rows = (dom['.markers-panel .monaco-list-row'] ?? []).map((row) => row.ariaLabel ?? '');
    assert.ok(squiggles.length > 0, 'a red squiggle in the editor');
    const ours = rows.filter((row) => /generated by ephemeral-root/.test(row));
    assert.ok(ours.some((row) => /^Error: .*never created/.test(row)), `a Problems panel error row of ours for the snapshot mismatch; rows: ${JSON.stringify(rows)}`);
    assert.equal(readFileSync(png).subarray(1, 4).toString('latin1'), 'PNG');
    console.log(`vscode: page shows ${squiggles.length} error squiggle(s) and ${ours.length} Problems row(s) of ours, e.g. ${JSON.stringify(ours[0])}`);

    if (!existsSync(SCREENSHOT) || process.env.EPHEMERAL_ROOT_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      copyFileSync(png, SCREENSHOT);
      console.log(`vscode: wrote ${path.relative(REPO_ROOT, SCREENSHOT)} (${(statSync(SCREENSHOT).size / 1024).toFixed(0)} KB)`);
    }
    // The quick-fix menu (test/vscode/suite/fixes.test.ts): its rows hold our rollback fix.
    const quickFix = path.join(shots, 'quick-fix.png');
    const quickFixDump = path.join(shots, 'quick-fix.json');
    assert.ok(existsSync(quickFix) && existsSync(quickFixDump), 'the suite took the quick-fix screenshot');
    const menu = (JSON.parse(readFileSync(quickFixDump, 'utf8')) as Record<string, DomItem[]>)['.action-widget .monaco-list-row'] ?? [];
    assert.ok(menu.some((row) => /Insert the rollback service/.test(row.ariaLabel ?? row.text)), `the quick-fix menu offers the rollback service: ${JSON.stringify(menu.map((row) => row.ariaLabel ?? row.text))}`);
    const QUICK_FIX = path.join(REPO_ROOT, 'docs', 'images', 'quick-fix.png');
    if (!existsSync(QUICK_FIX) || process.env.EPHEMERAL_ROOT_UPDATE_SCREENSHOTS === '1') copyFileSync(quickFix, QUICK_FIX);
  } finally {
    workspace.cleanup();
  }
}

runMain('vscode.e2e', main);
