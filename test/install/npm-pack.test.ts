/**
 * The npm install path of the README, as a user runs it on a machine without the repository: `npm pack` makes a
 * tarball, `npm install -g --prefix <fresh> --offline <tarball>` installs it with an empty npm cache (so nothing can
 * come from a registry), and both commands then run from PATH — `ephemeral-root check` on a broken host and
 * `ephemeral-root-ls --stdio` answering `initialize`. Needs `npm run build` first (npm test does it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'npm-pack-install-'));
const prefix = path.join(scratch, 'prefix');
const bin = path.join(prefix, 'bin');
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The environment of a user with only the installed package on PATH next to node, and an empty npm cache. */
function userEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  return { ...env, PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`, npm_config_cache: path.join(scratch, 'npm-cache'), npm_config_update_notifier: 'false' };
}

function npm(args: string[], cwd: string): string {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', env: userEnv(), timeout: 300_000 });
  assert.equal(run.status, 0, `npm ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

let tarball = '';

before(() => {
  assert.ok(existsSync(path.join(REPO_ROOT, 'dist', 'cli.js')), 'dist/ is missing: run npm run build');
  // --ignore-scripts: the tarball packs the dist/ that `npm run build` made; rebuilding it here would rewrite files
  // that other test processes are reading.
  const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], REPO_ROOT)) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(scratch, packed[0].filename);
  npm(['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], scratch);
});

describe('npm pack → npm install -g --prefix (offline)', () => {
  it('the tarball carries the bundles, both wasm files and both commands, and installs no dependency', () => {
    const installed = path.join(prefix, 'lib', 'node_modules', 'nixos-ephemeral-root');
    for (const file of ['bin/ephemeral-root.js', 'bin/ephemeral-root-ls.js', 'bin/code-cache.js', 'dist/cli.js', 'dist/server.js', 'dist/tree-sitter.wasm', 'dist/tree-sitter-nix.wasm']) {
      assert.ok(existsSync(path.join(installed, file)), `${file} is installed`);
    }
    assert.ok(!existsSync(path.join(installed, 'node_modules')) || readdirSync(path.join(installed, 'node_modules')).length === 0, 'the bundles need no dependency');
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), []);
  });

  it('ephemeral-root from PATH checks a broken host (exit 1, the finding on stdout)', () => {
    const folder = path.join(scratch, 'broken-flake');
    cpSync(path.join(REPO_ROOT, 'examples', 'broken-flake'), folder, { recursive: true });
    const which = spawnSync('sh', ['-c', 'command -v ephemeral-root'], { encoding: 'utf8', env: userEnv() });
    assert.equal(which.stdout.trim(), path.join(bin, 'ephemeral-root'));
    const run = spawnSync('ephemeral-root', ['check', '.'], { cwd: folder, encoding: 'utf8', env: userEnv(), timeout: 60_000 });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /hosts\/tern\/configuration\.nix:\d+:\d+: error \[rollback-snapshot-mismatch\]/);
  });

  it('ephemeral-root-ls --stdio from PATH answers initialize', async () => {
    const server = spawn('ephemeral-root-ls', ['--stdio'], { cwd: scratch, env: userEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const send = (message: object) => {
      const body = JSON.stringify({ jsonrpc: '2.0', ...message });
      server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const response = await new Promise<{ id: number; result?: { capabilities: Record<string, unknown>; serverInfo?: { name: string } } }>((resolve, reject) => {
      let buffer = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error('no initialize response within 20 s')), 20_000);
      server.on('error', reject);
      server.stdout.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const header = buffer.indexOf('\r\n\r\n');
          if (header < 0) return;
          const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, header).toString())?.[1]);
          if (buffer.length < header + 4 + length) return;
          const message = JSON.parse(buffer.subarray(header + 4, header + 4 + length).toString()) as { id?: number };
          buffer = buffer.subarray(header + 4 + length);
          if (message.id === 1) {
            clearTimeout(timer);
            resolve(message as never);
          }
        }
      });
      send({ id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
    });
    assert.ok(response.result, JSON.stringify(response));
    assert.ok(response.result.capabilities.hoverProvider, 'it is our server (hover provider)');
    send({ id: 2, method: 'shutdown' });
    send({ method: 'exit' });
    const code = await new Promise<number | null>((resolve) => server.once('exit', resolve));
    assert.equal(code, 0);
  });
});

describe('README install instructions', () => {
  it('never tell users to npx the bare package or command name (it resolves to the public registry)', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    assert.doesNotMatch(readme, /npx\s+(--yes\s+)?(ephemeral-root|nixos-ephemeral-root)\b/);
  });
});
