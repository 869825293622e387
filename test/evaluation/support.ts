/**
 * Test repositories for the evaluation-backed mode, evaluated by the real Nix 2.8 of this machine.
 *
 * Each case is copied to a scratch folder with the stand-in nixpkgs (test/stand-ins/nixos-eval: a minimal module
 * system written for the tests) and the fixture input `site` beside it; its flake.lock is written by the real
 * `nix flake lock --override-input`, so that the fixture's `flake.nix` keeps its real-looking `github:` inputs and Nix
 * evaluates offline. `nix` on the PATH given to the code under test is a wrapper that logs every invocation, then
 * runs the real one: the tests count the evaluations.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/evaluation');
const STAND_IN = path.join(ROOT, 'test/stand-ins/nixos-eval');

export interface Prepared {
  scratch: string;
  repo: string;
  /** Folder holding the wrapper `nix`; put it first on PATH. */
  bin: string;
  log: string;
  cache: string;
  env: NodeJS.ProcessEnv;
  /** The logged invocations of `nix eval` so far. */
  evalCalls(): string[];
}

function realNix(): string {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(folder, 'nix');
    if (folder && existsSync(candidate)) return candidate;
  }
  throw new Error('nix is not installed (Debian: nix-bin)');
}

/** Copies a case (e.g. `custom-option/trigger`) and locks it to the stand-ins. */
export function prepare(caseName: string): Prepared {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'er-eval-'));
  const repo = path.join(scratch, 'repo');
  cpSync(path.join(FIXTURES, caseName), repo, { recursive: true });
  cpSync(STAND_IN, path.join(scratch, 'nixpkgs'), { recursive: true });
  cpSync(path.join(FIXTURES, 'inputs/site'), path.join(scratch, 'site'), { recursive: true });
  const nix = realNix();
  // A flake is locked to the stand-ins; a configuration outside any flake finds the stand-in through NIX_PATH.
  if (existsSync(path.join(repo, 'flake.nix'))) {
    const flake = readFileSync(path.join(repo, 'flake.nix'), 'utf8');
    const overrides = ['--override-input', 'nixpkgs', `path:${path.join(scratch, 'nixpkgs')}`];
    if (flake.includes('inputs.site')) overrides.push('--override-input', 'site', `path:${path.join(scratch, 'site')}`);
    const locked = spawnSync(nix, ['--extra-experimental-features', 'nix-command flakes', 'flake', 'lock', ...overrides, `path:${repo}`], { encoding: 'utf8' });
    if (locked.status !== 0) throw new Error(`nix flake lock failed: ${locked.stderr}`);
  }
  const bin = path.join(scratch, 'bin');
  mkdirSync(bin);
  const log = path.join(scratch, 'nix-calls.log');
  writeFileSync(log, '');
  // The wrapper logs its arguments (one line per call, the subcommand first after the feature flags) and runs Nix.
  writeFileSync(path.join(bin, 'nix'), `#!/bin/sh\nprintf '%s\\n' "$*" | head -c 300 >> '${log}'\nprintf '\\n' >> '${log}'\nexec '${nix}' "$@"\n`);
  chmodSync(path.join(bin, 'nix'), 0o755);
  const cache = path.join(scratch, 'cache');
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, EPHEMERAL_ROOT_CACHE_DIR: cache, NIX_PATH: `nixpkgs=${path.join(scratch, 'nixpkgs')}` };
  return {
    scratch,
    repo,
    bin,
    log,
    cache,
    env,
    evalCalls: () => readFileSync(log, 'utf8').split('\n').filter((line) => / eval /.test(` ${line} `)),
  };
}
