/**
 * The pre-commit hook (.pre-commit-hooks.yaml). `pre-commit try-repo` cannot install a `language: node` hook from
 * this repository on this machine: pre-commit 4 runs `npm install -g git+file://…`, and npm 11 prepares the git
 * dependency with a nested install that also goes global, so `npm run build` finds no esbuild. So this test does
 * what pre-commit does once the hook is installed, and says so: the package from `npm pack` installed into a fresh
 * prefix (the hook's environment), then the hook's `entry` run exactly as pre-commit runs it — from the root of a
 * git repository, with no file names (pass_filenames: false) — on a broken host and a good one. The `files` pattern
 * is checked against the paths pre-commit would match, and `pre-commit validate-manifest` runs when pre-commit is
 * installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'pre-commit-hook-'));
const prefix = path.join(scratch, 'hook-env');
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The one hook's keys, read from our flat manifest. */
function hook(): Record<string, string> {
  const text = readFileSync(path.join(REPO_ROOT, '.pre-commit-hooks.yaml'), 'utf8');
  const keys: Record<string, string> = {};
  for (const match of text.matchAll(/^(?:- |  )(\w+): (.*)$/gm)) keys[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  return keys;
}

function env(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...rest } = process.env;
  return { ...rest, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`, npm_config_cache: path.join(scratch, 'npm-cache') };
}

function gitRepository(example: string): string {
  const repository = path.join(mkdtempSync(path.join(scratch, 'repo-')), example);
  cpSync(path.join(REPO_ROOT, 'examples', example), repository, { recursive: true });
  const git = (...args: string[]) => assert.equal(spawnSync('git', args, { cwd: repository, encoding: 'utf8' }).status, 0, `git ${args.join(' ')}`);
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=test@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'host');
  return repository;
}

/** The hook's entry, run as pre-commit runs it: split on spaces, in the repository root, no file names appended. */
function runEntry(repository: string): { status: number | null; output: string } {
  const [command, ...args] = hook().entry.split(' ');
  const run = spawnSync(command, args, { cwd: repository, encoding: 'utf8', env: env(), timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

before(() => {
  const npm = (args: string[]) => {
    const run = spawnSync('npm', args, { cwd: scratch, encoding: 'utf8', env: env(), timeout: 300_000 });
    assert.equal(run.status, 0, `npm ${args.join(' ')}: ${run.stderr}`);
    return run.stdout;
  };
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch, REPO_ROOT])) as { filename: string }[];
  npm(['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', path.join(scratch, packed.filename)]);
});

describe('.pre-commit-hooks.yaml', () => {
  it('declares a node hook over the whole repository, run when a Nix file or flake.lock changes', () => {
    const keys = hook();
    assert.equal(keys.id, 'ephemeral-root');
    assert.equal(keys.language, 'node');
    assert.equal(keys.pass_filenames, 'false');
    const files = new RegExp(keys.files);
    for (const changed of ['configuration.nix', 'hosts/tern/disko.nix', 'flake.lock']) assert.ok(files.test(changed), changed);
    for (const unrelated of ['README.md', 'flake.lock.bak', 'nix.txt']) assert.ok(!files.test(unrelated), unrelated);
  });

  it('the entry fails the commit on a host with error findings and prints them', () => {
    const result = runEntry(gitRepository('broken-flake'));
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /hosts\/tern\/configuration\.nix:\d+:\d+: error \[rollback-snapshot-mismatch\]/);
  });

  it('the entry passes on a host without error findings', () => {
    const result = runEntry(gitRepository('seed'));
    assert.equal(result.status, 0, result.output);
  });

  it('pre-commit accepts the manifest (when pre-commit is installed)', (t) => {
    const run = spawnSync('pre-commit', ['validate-manifest', path.join(REPO_ROOT, '.pre-commit-hooks.yaml')], { encoding: 'utf8' });
    if (run.error) {
      t.skip('pre-commit is not installed');
      return;
    }
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});
