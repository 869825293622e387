#!/usr/bin/env node
/*
 * Stand-in `code` executable for @vscode/test-electron's runTests({ vscodeExecutablePath }).
 *
 * No desktop VS Code (Electron) can be downloaded on our build machines, so this launcher runs the
 * extension tests in a REAL VS Code anyway: the VS Code 1.100.3 server bundled in npm
 * code-server@4.100.3 (installed by scripts/install-code-server.sh into .vscode-test/code-server/)
 * plus its web workbench in headless Debian chromium driven by playwright-core. The tests run in
 * the server's Node extension host with the real `vscode` API.
 *
 * Arguments (as passed by @vscode/test-electron; every other flag is ignored):
 *   --extensionDevelopmentPath=<dir>   (repeatable)
 *   --extensionTestsPath=<file|dir>    module exporting run(): Promise<void>
 *   --user-data-dir=<dir>              VS Code server user data (User/, Machine/, logs/)
 *   --extensions-dir=<dir>             installed (non-dev) extensions
 *   [<folder> | <file.code-workspace>] optional positional: workspace to open
 * The `--name value` form is accepted too.
 *
 * Exit code: the one the workbench passes to window.codeAutomationExit(code) (0 = tests passed),
 * 1 on timeout or launcher error. The server's whole process group and the browser are always
 * killed, also on SIGINT/SIGTERM (runTests sends SIGINT on Ctrl+C).
 *
 * Environment:
 *   EPHEMERAL_ROOT_VSCODE_TIMEOUT_MS   overall timeout for the test run (default 300000)
 *   EPHEMERAL_ROOT_VSCODE_WARMUP=0     skip the warm-up start on a fresh user-data-dir (see below)
 *   EPHEMERAL_ROOT_VSCODE_VERBOSE=1    echo server output and every workbench log line
 *   EPHEMERAL_ROOT_VSCODE_LOGS_DIR     write the logs the workbench hands to codeAutomationExit there
 *   EPHEMERAL_ROOT_CODE_SERVER_DIR     install prefix (default <repo>/.vscode-test/code-server)
 *   EPHEMERAL_ROOT_CHROMIUM            chromium binary (default /usr/lib/chromium/chromium, /usr/bin/chromium)
 *   EPHEMERAL_ROOT_NODE                Node 20 binary for the server (default: the one running this file)
 *   EXTENSIONS_GALLERY                 passed to the server; defaults to '{}' (no extension gallery)
 *   EPHEMERAL_ROOT_SCREENSHOT_DIR      enables the screenshot / DOM request protocol below
 *   EPHEMERAL_ROOT_VSCODE_KEEP_TMP=1   keep the per-run temp dir (server-data-dir, XDG dirs, HOME)
 *   EPHEMERAL_ROOT_VSCODE_WORKSPACE_TRUST=1  start the server without --disable-workspace-trust: the opened
 *                                      folder is then untrusted (restricted mode), for tests of the trust gate
 * All environment variables of this process reach the server and therefore the extension host
 * (verified: process.env in the test code sees them), so runTests({ extensionTestsEnv }) works.
 * Exceptions: HOME and XDG_{CONFIG,DATA,CACHE,STATE}_HOME point into a per-run temp dir, so
 * neither VS Code nor chromium nor the extension under test writes into the real home.
 *
 * Fresh-profile trap (reported in TOOLCHAIN.md §2d: on a brand-new --user-data-dir the first start did
 * not load the extension under development; vscode.extensions.getExtension(...) was undefined):
 *   - warm-up: when <user-data-dir>/.ephemeral-root-warm is missing, the server is first started once
 *     without a browser until it has initialised the profile (+2 s, EPHEMERAL_ROOT_VSCODE_WARMUP_MS),
 *     stopped, and the marker is written. Costs ~3 s once per user-data-dir.
 *   - safety net: the launcher passes the development paths as env EPHEMERAL_ROOT_VSCODE_DEV_PATHS;
 *     mocha-runner.js checks vscode.extensions.all for them before running any test and, if one is
 *     missing, logs EPHEMERAL_ROOT_DEV_EXTENSION_MISSING and fails; the launcher then restarts the
 *     server + browser once and reruns the tests.
 *
 * ---------------------------------------------------------------------------------------------
 * Screenshot / DOM request protocol (only when EPHEMERAL_ROOT_SCREENSHOT_DIR=<dir> is set)
 * ---------------------------------------------------------------------------------------------
 * Test code runs in the extension host (a Node process on the server side) and cannot reach the
 * browser page, so it talks to this launcher through files in <dir> (the launcher polls every 200 ms):
 *
 *   1. Test writes  <dir>/<name>.request   (write to <name>.request.tmp and rename, to be atomic)
 *        - empty file, or any non-JSON-array content  -> screenshot only
 *        - a JSON array of CSS selectors, e.g.
 *            [".squiggly-error", ".squiggly-warning", ".markers-panel .monaco-list-row"]
 *          -> screenshot AND a DOM dump
 *   2. Launcher writes <dir>/<name>.png   page.screenshot() of the whole workbench
 *                      <dir>/<name>.json  (only for selector requests)
 *                          { "<selector>": [ { "ariaLabel": string|null, "text": string,
 *                                              "className": string }, ... ], ... }
 *                      <dir>/<name>.done  written last; contains "ok" or "error: <message>"
 *      and deletes <dir>/<name>.request.
 *   3. Test waits for <dir>/<name>.done, then reads the .png/.json.
 * <name> must match [A-Za-z0-9._-]+. The test must make the UI state visible itself first (e.g.
 * run the command 'workbench.actions.view.problems' to open the Problems panel). Note that Monaco
 * renders only visible editor lines and list rows, so the DOM shows what is on screen.
 * Helper for test code (CommonJS):
 *   async function ui(name, selectors) {
 *     const dir = process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR; if (!dir) return undefined;
 *     const p = require('path').join(dir, name), fs = require('fs');
 *     fs.writeFileSync(p + '.request.tmp', selectors ? JSON.stringify(selectors) : '');
 *     fs.renameSync(p + '.request.tmp', p + '.request');
 *     while (!fs.existsSync(p + '.done')) await new Promise((r) => setTimeout(r, 100));
 *     return selectors ? JSON.parse(fs.readFileSync(p + '.json', 'utf8')) : undefined;
 *   }
 */
'use strict';

const cp = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const http = require('http');
const util = require('util');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CODE_SERVER_DIR = process.env.EPHEMERAL_ROOT_CODE_SERVER_DIR || path.join(REPO_ROOT, '.vscode-test', 'code-server');
const VSCODE_DIR = path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'lib', 'vscode');
const SERVER_MAIN = path.join(VSCODE_DIR, 'out', 'server-main.js');
const TIMEOUT_MS = Number(process.env.EPHEMERAL_ROOT_VSCODE_TIMEOUT_MS || 300000);
const VERBOSE = process.env.EPHEMERAL_ROOT_VSCODE_VERBOSE === '1';
const SCREENSHOT_DIR = process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR ? path.resolve(process.env.EPHEMERAL_ROOT_SCREENSHOT_DIR) : undefined;
const WARM_MARKER = '.ephemeral-root-warm';
const T0 = Date.now();

function log(msg) {
  process.stdout.write(`[launcher +${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`);
}

// ---------------------------------------------------------------- arguments
// Flags of desktop `code` that take a separate value, so `--locale en` does not look like a folder.
const VALUE_FLAGS = new Set(['locale', 'log', 'sync', 'profile', 'inspect-extensions', 'inspect-brk-extensions',
  'enable-proposed-api', 'category', 'install-extension', 'uninstall-extension', 'crash-reporter-directory']);

function parseArgs(argv) {
  const out = { extensionDevelopmentPath: [], extensionTestsPath: undefined, userDataDir: undefined, extensionsDir: undefined, positional: [] };
  const known = {
    extensionDevelopmentPath: (v) => out.extensionDevelopmentPath.push(path.resolve(v)),
    extensionTestsPath: (v) => { out.extensionTestsPath = path.resolve(v); },
    'user-data-dir': (v) => { out.userDataDir = path.resolve(v); },
    'extensions-dir': (v) => { out.extensionsDir = path.resolve(v); },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      if (known[name]) {
        const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
        if (v === undefined) throw new Error(`missing value for --${name}`);
        known[name](v);
      } else if (eq === -1 && VALUE_FLAGS.has(name)) {
        i++; // skip its value
      }
      continue; // every other flag of test-electron (--no-sandbox, --disable-updates, ...) is ignored
    }
    if (a === '-') continue;
    out.positional.push(path.resolve(a));
  }
  return out;
}

// ---------------------------------------------------------------- helpers
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpOk(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve(res.statusCode && res.statusCode < 500); });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => { req.destroy(); resolve(false); });
  });
}

/**
 * True while the process group has a member that is not a zombie. kill(-pgid, 0) alone also counts
 * zombies, and reparented zombies can wait a few seconds for init to reap them on these machines.
 */
function groupAlive(pgid) {
  try { process.kill(-pgid, 0); } catch { return false; }
  let entries;
  try { entries = fs.readdirSync('/proc'); } catch { return true; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8'); } catch { continue; }
    // pid (comm) state ppid pgrp ...; comm may contain spaces/parens, so split after the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z') return true;
  }
  return false;
}

function findChromium() {
  const candidates = [process.env.EPHEMERAL_ROOT_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter(Boolean);
  for (const c of candidates) {
    try { fs.accessSync(c, fs.constants.X_OK); return c; } catch { /* next */ }
  }
  throw new Error(`chromium not found (tried ${candidates.join(', ')}): apt-get install -y chromium`);
}

// Process groups of servers not yet stopped: last-resort SIGKILL when this process exits anyhow.
const liveGroups = new Set();
let signalled = false; // set by the SIGINT/SIGTERM/SIGHUP handler, which also does the exit (130)
process.on('exit', () => {
  for (const pgid of liveGroups) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }
});

/** Runs `server-main.js` in its own process group. Returns { child, port, ready, kill, tail }. */
async function startServer({ userDataDir, extensionsDir, serverDataDir, env, label }) {
  const port = await freePort();
  const args = [SERVER_MAIN, '--host', '127.0.0.1', '--port', String(port),
    '--without-connection-token', '--accept-server-license-terms', '--enable-smoke-test-driver',
    '--disable-telemetry',
    // Workspace trust stays off (every folder trusted) unless a test of restricted mode asks for it.
    ...(process.env.EPHEMERAL_ROOT_VSCODE_WORKSPACE_TRUST === '1' ? [] : ['--disable-workspace-trust']),
    '--user-data-dir', userDataDir, '--server-data-dir', serverDataDir, '--extensions-dir', extensionsDir];
  const nodeBin = process.env.EPHEMERAL_ROOT_NODE || process.execPath;
  const child = cp.spawn(nodeBin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  const tail = [];
  let listening = false;
  const rest = { out: '', err: '' };
  const onData = (stream) => (buf) => {
    const lines = (rest[stream] + buf.toString()).split(/\r?\n/);
    rest[stream] = lines.pop(); // incomplete last line
    for (const line of lines) {
      if (!line) continue;
      if (/Extension host agent listening on/.test(line)) listening = true;
      tail.push(line);
      if (tail.length > 200) tail.shift();
      if (VERBOSE) log(`[${label} ${stream}] ${line}`);
    }
  };
  child.stdout.on('data', onData('out'));
  child.stderr.on('data', onData('err'));
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const handle = { child, port, ready: undefined, kill: undefined, tail, stopping: false };
  const kill = async () => {
    handle.stopping = true;
    if (child.pid === undefined) return;
    const alive = () => groupAlive(child.pid);
    if (!alive()) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    for (let i = 0; i < 30 && alive(); i++) await sleep(100);
    if (alive()) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
    for (let i = 0; i < 20 && alive(); i++) await sleep(50);
    liveGroups.delete(child.pid);
  };

  const ready = (async () => {
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`VS Code server exited early (${JSON.stringify(exited)}):\n${tail.join('\n')}`);
      if (listening && await httpOk(`http://127.0.0.1:${port}/version`)) return;
      await sleep(100);
    }
    throw new Error(`VS Code server did not start listening within 60 s:\n${tail.join('\n')}`);
  })();
  handle.ready = ready;
  handle.kill = kill;
  return handle;
}

// ---------------------------------------------------------------- screenshot / DOM protocol
function startRequestPoller(page) {
  if (!SCREENSHOT_DIR) return { stop: async () => {} };
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  let stopped = false;
  let busy = Promise.resolve();
  const inFlight = new Set(); // names queued or being handled (the poll runs while a request is handled)
  const handle = async (name) => {
    const base = path.join(SCREENSHOT_DIR, name);
    let status = 'ok';
    try {
      const raw = fs.readFileSync(base + '.request', 'utf8').trim();
      let selectors;
      if (raw.startsWith('[')) {
        try { selectors = JSON.parse(raw); } catch (e) { throw new Error(`bad JSON in ${name}.request: ${e.message}`); }
        if (!Array.isArray(selectors) || !selectors.every((s) => typeof s === 'string')) {
          throw new Error(`${name}.request must be a JSON array of CSS selector strings`);
        }
      }
      if (selectors) {
        const result = await page.evaluate((sels) => {
          const out = {};
          for (const sel of sels) {
            out[sel] = Array.from(document.querySelectorAll(sel)).map((el) => ({
              ariaLabel: el.getAttribute('aria-label'),
              text: (el.textContent || '').trim(),
              className: typeof el.className === 'string' ? el.className : '',
            }));
          }
          return out;
        }, selectors);
        fs.writeFileSync(base + '.json', JSON.stringify(result, null, 2) + '\n');
      }
      await page.screenshot({ path: base + '.png' });
      log(`screenshot ${name}.png${selectors ? ` + ${name}.json` : ''}`);
    } catch (e) {
      status = `error: ${e && e.message ? e.message.split('\n')[0] : e}`;
      log(`request ${name} failed: ${status}`);
    }
    try { fs.unlinkSync(base + '.request'); } catch { /* already gone */ }
    // Written whole under another name and then renamed: a test that polls for `.done` must never read it empty.
    fs.writeFileSync(base + '.done.tmp', status + '\n');
    fs.renameSync(base + '.done.tmp', base + '.done');
  };
  const timer = setInterval(() => {
    if (stopped) return;
    let names;
    try { names = fs.readdirSync(SCREENSHOT_DIR).filter((f) => /^[A-Za-z0-9._-]+\.request$/.test(f)).map((f) => f.slice(0, -'.request'.length)); } catch { return; }
    for (const name of names) {
      if (inFlight.has(name)) continue;
      inFlight.add(name);
      busy = busy.then(() => (stopped ? undefined : handle(name))).finally(() => inFlight.delete(name));
    }
  }, 200);
  return { stop: async () => { stopped = true; clearInterval(timer); await busy.catch(() => {}); } };
}

// ---------------------------------------------------------------- main
const DEV_MISSING = 'EPHEMERAL_ROOT_DEV_EXTENSION_MISSING';
// Workbench chatter that is not test output (shown with EPHEMERAL_ROOT_VSCODE_VERBOSE=1).
const NOISE = [/^\[(driver|startup)\]/, /^Resolv(ing|ed) connection token/, /^Creating a socket/, /additional builtin extensions/,
  /^ChatSessionStore:/, /^\[Service Worker\] registration/, /^Creation of workbench contribution/, /^Started local extension host/,
  /^\[(?:Extension Host|remote)\]? ?Extension host \(Remote\) is unresponsive/];

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.extensionTestsPath) throw new Error('--extensionTestsPath=<path> is required');
  if (!args.extensionDevelopmentPath.length) throw new Error('--extensionDevelopmentPath=<path> is required');
  if (!fs.existsSync(SERVER_MAIN)) {
    throw new Error(`VS Code server not installed (${SERVER_MAIN} missing): run scripts/install-code-server.sh`);
  }
  const chromiumPath = findChromium();
  const { chromium } = require('playwright-core');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-root-vscode-'));
  const userDataDir = args.userDataDir || path.join(tmp, 'user-data');
  const extensionsDir = args.extensionsDir || path.join(tmp, 'extensions');
  const serverDataDir = path.join(tmp, 'server-data');
  const home = path.join(tmp, 'home');
  for (const d of [userDataDir, extensionsDir, serverDataDir, home]) fs.mkdirSync(d, { recursive: true });
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    VSCODE_AGENT_FOLDER: serverDataDir,
    // code-server's build points the gallery at open-vsx.org (unreachable, and never wanted in tests).
    EXTENSIONS_GALLERY: process.env.EXTENSIONS_GALLERY || '{}',
    // Read by mocha-runner.js to verify that the extension(s) under test were loaded.
    EPHEMERAL_ROOT_VSCODE_DEV_PATHS: JSON.stringify(args.extensionDevelopmentPath),
  };
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.VSCODE_IPC_HOOK_CLI; // never talk to an enclosing VS Code

  let folder;
  for (const p of args.positional) {
    if (fs.existsSync(p)) folder = p; else log(`ignoring positional argument that does not exist: ${p}`);
  }

  let server;
  let browser;
  let poller = { stop: async () => {} };
  const stopRun = async () => {
    await poller.stop();
    poller = { stop: async () => {} };
    if (browser) { const b = browser; browser = undefined; await Promise.race([b.close().catch(() => {}), sleep(5000)]); if (VERBOSE) log('browser closed'); }
    if (server) { const s = server; server = undefined; await s.kill(); if (VERBOSE) log('server process group gone'); }
  };
  let cleanedUp = false;
  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    await stopRun();
    if (process.env.EPHEMERAL_ROOT_VSCODE_KEEP_TMP !== '1') {
      try { fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); } catch (e) { log(`could not remove ${tmp}: ${e.message}`); }
    } else {
      log(`kept temp dir ${tmp}`);
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      signalled = true;
      log(`${sig} received, stopping VS Code`);
      cleanup().finally(() => process.exit(130));
    });
  }
  // One overall deadline for warm-up, start-up and the tests themselves.
  const deadline = setTimeout(() => {
    log(`TIMEOUT: the tests did not finish within ${TIMEOUT_MS} ms (EPHEMERAL_ROOT_VSCODE_TIMEOUT_MS); last server output:`);
    if (server) process.stdout.write(server.tail.slice(-30).map((l) => `  ${l}\n`).join(''));
    cleanup().finally(() => process.exit(1));
  }, TIMEOUT_MS);

  const runOnce = async (attempt) => {
    server = await startServer({ userDataDir, extensionsDir, serverDataDir, env, label: 'server' });
    await server.ready;
    const authority = `127.0.0.1:${server.port}`;
    log(`VS Code server ${readVersion()} listening on ${authority}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);

    const toRemote = (p) => `vscode-remote://${authority}${p.split(path.sep).map(encodeURIComponent).join('/')}`;
    const payload = [
      ...args.extensionDevelopmentPath.map((p) => ['extensionDevelopmentPath', toRemote(p)]),
      ['extensionTestsPath', toRemote(args.extensionTestsPath)],
    ];
    const query = new URLSearchParams();
    if (folder) query.set(/\.code-workspace$/.test(folder) ? 'workspace' : 'folder', folder);
    else query.set('ew', 'true'); // empty window
    query.set('payload', JSON.stringify(payload));
    const url = `http://${authority}/?${query.toString()}`;
    if (VERBOSE) log(`opening ${url}`);

    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      env: { ...env },
      // Our own SIGINT/SIGTERM handler closes the browser AND the server; Playwright's would exit first.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--disable-breakpad', '--disable-crash-reporter'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();

    let devMissing = false;
    let resolveExit;
    const exited = new Promise((r) => { resolveExit = r; });
    await page.exposeFunction('codeAutomationLog', (type, message) => {
      const text = formatLog(message);
      if (text.includes(DEV_MISSING)) devMissing = true;
      if (VERBOSE) log(`[${type}] ${text}`);
      else if (!NOISE.some((re) => re.test(text))) process.stdout.write(`${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code, logs) => {
      if (process.env.EPHEMERAL_ROOT_VSCODE_LOGS_DIR && Array.isArray(logs)) {
        for (const l of logs) {
          try {
            const out = path.join(process.env.EPHEMERAL_ROOT_VSCODE_LOGS_DIR, `attempt${attempt}`, l.relativePath);
            fs.mkdirSync(path.dirname(out), { recursive: true });
            fs.writeFileSync(out, l.contents);
          } catch { /* best effort */ }
        }
      }
      resolveExit(typeof code === 'number' ? code : 1);
    });
    page.on('pageerror', (e) => { if (VERBOSE) log(`page error: ${e.message}`); });
    page.on('crash', () => { log('browser page crashed'); resolveExit(1); });
    const thisServer = server;
    thisServer.child.on('exit', (c, sig) => {
      if (thisServer.stopping) return;
      log(`VS Code server exited unexpectedly (${c ?? sig})`);
      resolveExit(1);
    });
    poller = startRequestPoller(page);

    log('browser started, loading the workbench');
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60000 });
    const code = await exited;
    log(`workbench reported exit code ${code}`);
    await stopRun();
    return { code, devMissing };
  };

  try {
    // Warm-up: see header. Started without a browser; the server initialises the user-data-dir.
    const marker = path.join(userDataDir, WARM_MARKER);
    if (process.env.EPHEMERAL_ROOT_VSCODE_WARMUP !== '0' && !fs.existsSync(marker)) {
      log(`fresh user-data-dir ${userDataDir}: warm-up start of the VS Code server`);
      const warm = await startServer({ userDataDir, extensionsDir, serverDataDir, env, label: 'warm-up' });
      server = warm; // so that a signal or the timeout during warm-up also kills it
      try {
        await warm.ready;
        await warmUp(warm, extensionsDir);
      } finally {
        server = undefined;
        await warm.kill();
      }
      fs.writeFileSync(marker, new Date().toISOString() + '\n');
      log('warm-up done');
    }

    let result = await runOnce(1);
    if (result.code !== 0 && result.devMissing) {
      // Safety net for the fresh-profile trap: mocha-runner.js found the extension under test missing.
      log('the extension under development was not loaded; restarting VS Code once');
      result = await runOnce(2);
    }
    return result.code;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

/** codeAutomationLog gets console-style argument arrays (['%s%s', '', 'x']) or plain strings. */
function formatLog(message) {
  if (Array.isArray(message)) {
    return util.format(...message.map((m) => (m !== null && typeof m === 'object' && !Array.isArray(m) && Object.keys(m).length === 1 && m.name ? `${m.name}` : m)));
  }
  return typeof message === 'string' ? message : JSON.stringify(message);
}

function readVersion() {
  try { return JSON.parse(fs.readFileSync(path.join(VSCODE_DIR, 'package.json'), 'utf8')).version; } catch { return '?'; }
}

/**
 * Warm-up start: wait until the server has initialised the profile (it logs "Completed initializing
 * default profile extensions" and writes <extensions-dir>/extensions.json on a fresh profile), then
 * give it a moment to flush state before it is stopped.
 */
async function warmUp(server, extensionsDir) {
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    if (server.tail.some((l) => /Completed initializing default profile extensions/.test(l))
      || fs.existsSync(path.join(extensionsDir, 'extensions.json'))) break;
    await sleep(100);
  }
  await sleep(Number(process.env.EPHEMERAL_ROOT_VSCODE_WARMUP_MS || 2000));
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (signalled) return; // errors from the interrupted run; the signal handler exits with 130
    process.stderr.write(`[launcher] error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
