#!/usr/bin/env node
// `npm start`: opens the bundled examples in a real VS Code in the browser (the VS Code server of code-server
// 4.100.3), with the *packaged* extension installed from its .vsix, and prints the URL. Ctrl+C stops everything.
//
// Steps: build and package the .vsix; install code-server on first use (scripts/install-code-server.sh, which needs
// the Debian packages ripgrep and libkrb5-dev — installed here when we run as root with apt); install the .vsix into
// a fresh extensions folder offline; serve a scratch copy of examples/ on 127.0.0.1 (PORT, default 8931, or the next
// free port). VS Code in the browser saves what quick fixes change, so the demo never opens the repository's own
// examples: they are the fixtures of the tests. The copy is removed when the demo stops.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const codeServer = path.join(root, '.vscode-test', 'code-server', 'node_modules', 'code-server');
const entry = path.join(codeServer, 'out', 'node', 'entry.js');
const vsix = path.join(root, 'nixos-ephemeral-root.vsix');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'ephemeral-root-start-'));
const folder = process.env.EPHEMERAL_ROOT_START_FOLDER ?? path.join(scratch, 'examples');
if (!process.env.EPHEMERAL_ROOT_START_FOLDER) cpSync(path.join(root, 'examples'), folder, { recursive: true });

function step(label, command, args, options = {}) {
  console.log(`start: ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`start: ${label} failed (exit ${result.status ?? result.signal})`);
    rmSync(scratch, { recursive: true, force: true });
    process.exit(1);
  }
}

function ensureDebianPackages() {
  const missing = [];
  if (!existsSync('/usr/bin/rg')) missing.push('ripgrep');
  if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  if (missing.length === 0) return;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    step(`installing ${missing.join(', ')} (needed once by code-server)`, 'apt-get', ['install', '-y', '-qq', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return;
  }
  console.error(`start: code-server needs the Debian packages ${missing.join(' ')}: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}

function freePort(preferred) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      const fallback = net.createServer();
      fallback.listen(0, '127.0.0.1', () => {
        const { port } = fallback.address();
        fallback.close(() => resolve(port));
      });
    });
    server.listen(preferred, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

step('building and packaging the extension', process.execPath, [path.join(root, 'scripts', 'package.mjs')]);
// The same engine on the command line first, so the findings are visible before the browser is opened.
spawnSync(process.execPath, [path.join(root, 'bin', 'ephemeral-root.js'), 'check', '.'], { cwd: folder, stdio: 'inherit' });
if (!existsSync(entry)) {
  ensureDebianPackages();
  step('installing code-server 4.100.3 (first use only)', path.join(root, 'scripts', 'install-code-server.sh'), [], {
    env: { ...process.env, EPHEMERAL_ROOT_CHROMIUM: process.env.EPHEMERAL_ROOT_CHROMIUM ?? 'not-needed-to-serve' },
  });
}

const env = {
  ...process.env,
  HOME: scratch,
  XDG_CONFIG_HOME: path.join(scratch, 'config'),
  XDG_DATA_HOME: path.join(scratch, 'data'),
  XDG_CACHE_HOME: path.join(scratch, 'cache'),
  EXTENSIONS_GALLERY: '{}',
};
// code-server reads PORT itself and would prefer it to --bind-addr.
delete env.PORT;
const extensions = path.join(scratch, 'extensions');
const userData = path.join(scratch, 'user-data');
step('installing the packaged extension (offline)', process.execPath, [entry, '--extensions-dir', extensions, '--user-data-dir', userData, '--install-extension', vsix], { env });

const port = await freePort(Number(process.env.PORT ?? 8931));
const server = spawn(
  process.execPath,
  [entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--extensions-dir', extensions, '--user-data-dir', userData, folder],
  { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
let announced = false;
const announce = (chunk) => {
  const text = chunk.toString();
  if (process.env.EPHEMERAL_ROOT_START_VERBOSE) process.stderr.write(text);
  const listening = /HTTP server listening on (http:\/\/[^\s/]+)/.exec(text);
  if (!announced && listening) {
    announced = true;
    console.log(`start: VS Code with the packaged extension is ready: ${listening[1]}/?folder=${encodeURIComponent(folder)}`);
    console.log(`start: the examples opened are a scratch copy in ${folder} (edits and quick fixes change only the copy; it is removed when the demo stops)`);
    console.log('start: open a file under broken-flake/ or broken-classic/ to see the findings; Ctrl+C stops the server.');
  }
};
server.stdout.on('data', announce);
server.stderr.on('data', announce);

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  setTimeout(() => {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    rmSync(scratch, { recursive: true, force: true });
    process.exit(code);
  }, 500);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
server.on('exit', (code) => {
  if (!stopping) {
    console.error(`start: the VS Code server exited (${code})`);
    stop(1);
  }
});
