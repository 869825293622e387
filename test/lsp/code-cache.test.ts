/**
 * bin/ephemeral-root-ls.js and bin/ephemeral-root.js load their bundles through V8's code cache (bin/code-cache.js: a
 * cold start skips compiling what the first analysis runs): the first process writes the cache into `code/` of
 * EPHEMERAL_ROOT_CACHE_DIR (readable by the user only), the next one starts from it and reports the same, a
 * cache that does not fit the bundle is refused by V8 and written again, never trusted, and writing a cache removes
 * those of older builds but the two most recent.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine';
import { LspClient, uri } from '../support/lsp-client';

const SEED = path.join(REPO_ROOT, 'examples', 'seed');
const CONFIGURATION = path.join(SEED, 'configuration.nix');

async function firstDiagnostics(cacheDir: string): Promise<string[]> {
  const previous = process.env.EPHEMERAL_ROOT_CACHE_DIR;
  process.env.EPHEMERAL_ROOT_CACHE_DIR = cacheDir;
  const client = new LspClient();
  if (previous === undefined) delete process.env.EPHEMERAL_ROOT_CACHE_DIR;
  else process.env.EPHEMERAL_ROOT_CACHE_DIR = previous;
  try {
    await client.initialize(SEED);
    const published = client.next(uri(CONFIGURATION), () => true, 60_000);
    client.open(CONFIGURATION, readFileSync(CONFIGURATION, 'utf8'));
    return (await published).diagnostics.map((item) => `${item.code} ${item.range.start.line}:${item.range.start.character}`).sort();
  } finally {
    await client.shutdown();
  }
}

describe('code cache of the language server', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('is written by the first server and used by the next, with the same diagnostics', async () => {
    const first = await firstDiagnostics(cacheDir);
    const files = readdirSync(path.join(cacheDir, 'code')).filter((name) => name.endsWith('.v8cache'));
    assert.equal(files.length, 1, 'one cache file for the bundle');
    const cacheFile = path.join(cacheDir, 'code', files[0]);
    assert.equal(statSync(cacheFile).mode & 0o077, 0, 'readable by the user only');
    const written = statSync(cacheFile).mtimeMs;
    const second = await firstDiagnostics(cacheDir);
    assert.deepEqual(second, first);
    assert.ok(first.length > 0);
    assert.equal(statSync(cacheFile).mtimeMs, written, 'an accepted cache is not written again');
  });

  it('refuses a cache that does not fit the bundle and writes a good one', async () => {
    const cacheFile = path.join(cacheDir, 'code', readdirSync(path.join(cacheDir, 'code')).find((name) => name.endsWith('.v8cache'))!);
    writeFileSync(cacheFile, Buffer.alloc(4096, 7));
    const diagnostics = await firstDiagnostics(cacheDir);
    assert.ok(diagnostics.length > 0);
    assert.notDeepEqual(readFileSync(cacheFile).subarray(0, 64), Buffer.alloc(64, 7));
  });
});

describe('code cache of the CLI', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'code-cache-cli-'));
  after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const check = () => {
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'ephemeral-root.js'), 'check', '--format', 'json', path.join(REPO_ROOT, 'examples', 'broken-flake')], {
      encoding: 'utf8',
      env: { ...process.env, EPHEMERAL_ROOT_CACHE_DIR: cacheDir },
      timeout: 60_000,
    });
    assert.equal(run.status, 1, run.stderr);
    return run.stdout;
  };
  const cacheFiles = () => readdirSync(path.join(cacheDir, 'code')).filter((name) => name.startsWith('cli-') && name.endsWith('.v8cache'));

  it('is written by the first run and used by the next, with the same report', () => {
    const first = check();
    assert.equal(cacheFiles().length, 1, 'one cache file for the CLI bundle');
    const cacheFile = path.join(cacheDir, 'code', cacheFiles()[0]);
    assert.equal(statSync(cacheFile).mode & 0o077, 0, 'readable by the user only');
    const written = statSync(cacheFile).mtimeMs;
    assert.equal(check(), first);
    assert.equal(statSync(cacheFile).mtimeMs, written, 'an accepted cache is not written again');
  });

  it('refuses a cache that does not fit the bundle and writes a good one', () => {
    const cacheFile = path.join(cacheDir, 'code', cacheFiles()[0]);
    const good = check();
    writeFileSync(cacheFile, Buffer.alloc(4096, 7));
    assert.equal(check(), good);
    assert.notDeepEqual(readFileSync(cacheFile).subarray(0, 64), Buffer.alloc(64, 7));
  });

  it('keeps the two most recent caches of older builds when it writes one, removes the rest, and leaves other files alone', () => {
    const folder = path.join(cacheDir, 'code');
    const current = cacheFiles()[0];
    // What updates leave behind: caches of older CLI bundles, written one after the other, and files that are not its
    // caches.
    const older = ['cli-1000-1700000000000-v20.0.0-x64.v8cache', 'cli-2000-1700000000001-v20.20.2-x64.v8cache', 'cli-3000-1700000000002-v20.20.2-x64.v8cache', 'cli-4000-1700000000003-v20.20.2-x64.v8cache'];
    const kept = ['server-1000-1700000000000-v20.0.0-x64.v8cache', 'cli-notes.txt'];
    older.forEach((name, index) => {
      writeFileSync(path.join(folder, name), 'x');
      utimesSync(path.join(folder, name), 1_700_000_000 + index, 1_700_000_000 + index);
    });
    for (const name of kept) writeFileSync(path.join(folder, name), 'x');
    rmSync(path.join(folder, current));
    check();
    assert.deepEqual(cacheFiles().sort(), [current, older[2], older[3]].sort());
    for (const name of kept) assert.ok(existsSync(path.join(folder, name)), name);
  });
});
