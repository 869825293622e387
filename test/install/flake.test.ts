/**
 * The Nix install path, evaluated with the real Nix (Debian's nix-bin 2.8, offline) against a STAND-IN nixpkgs
 * (test/stand-ins/nixpkgs/flake.nix, passed with --override-input): nixpkgs itself is not reachable here. What this
 * proves: flake.nix evaluates; packages.default calls buildNpmPackage with importNpmLock over this package-lock.json
 * (every package in it has the URL and hash importNpmLock fetches by), Node 20 and `npm run build`; apps.default runs
 * the package's `bin/ephemeral-root`; the overlay and the dev shell use the same package; lib.check's build script,
 * run here with bash and the real CLI, fails on a broken host and passes on a good one. What it does not prove: that
 * nixpkgs' real buildNpmPackage builds the package (no nixpkgs, no build). Every Nix file of ours must parse.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const STAND_IN = path.join(REPO_ROOT, 'test', 'stand-ins', 'nixpkgs');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'flake-stand-in-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of what the flake reads (it is `self`): evaluating the repository itself would copy node_modules too. */
function flakeCopy(name: string): string {
  const copy = path.join(scratch, name);
  mkdirSync(copy);
  for (const item of ['flake.nix', 'nix', 'package.json', 'package-lock.json']) cpSync(path.join(REPO_ROOT, item), path.join(copy, item), { recursive: true });
  return copy;
}

function nixEval(flake: string, attribute: string, extra: string[] = []): { ok: boolean; value: unknown; stderr: string } {
  const run = spawnSync(
    'nix',
    ['--extra-experimental-features', 'nix-command flakes', 'eval', '--json', '--no-write-lock-file', '--override-input', 'nixpkgs', `path:${STAND_IN}`, ...extra, `path:${flake}#${attribute}`],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (run.error) throw new Error(`nix is not available (${run.error.message}): apt-get install -y nix-bin`);
  return { ok: run.status === 0, value: run.status === 0 ? JSON.parse(run.stdout) : undefined, stderr: run.stderr };
}

function evaluated(flake: string, attribute: string, extra: string[] = []): any {
  const result = nixEval(flake, attribute, extra);
  assert.ok(result.ok, result.stderr);
  return result.value;
}

const standInPkgs = `(builtins.getFlake "path:${STAND_IN}").legacyPackages.x86_64-linux`;
let flake = '';
before(() => {
  flake = flakeCopy('flake');
});

describe('flake.nix against the stand-in nixpkgs', () => {
  it('packages.default: buildNpmPackage from package-lock.json through importNpmLock, Node 20, npm run build', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
    const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const args = evaluated(flake, 'packages.x86_64-linux.default.args');
    assert.equal(args.pname, manifest.name);
    assert.equal(args.version, manifest.version);
    assert.equal(args.npmDeps.standIn, 'importNpmLock');
    assert.equal(args.npmDeps.args.npmRoot, args.src, 'the lock file read is the one in the flake source');
    assert.equal(args.npmDeps.packages, Object.keys(lock.packages).length - 1, 'every locked package is fetched');
    assert.equal(args.npmConfigHook.standIn, 'importNpmLock.npmConfigHook');
    assert.match(args.nodejs, /stand-in-nodejs-20$/);
    assert.equal(args.npmBuildScript, 'build');
    assert.equal(args.meta.mainProgram, 'ephemeral-root');
    assert.deepEqual(evaluated(flake, 'packages.aarch64-darwin.default.args.pname'), manifest.name);
  });

  it('importNpmLock needs a resolved URL and an integrity hash for each package: a lock without them fails', () => {
    const stripped = flakeCopy('stripped-lock');
    const lock = JSON.parse(readFileSync(path.join(stripped, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
    delete lock.packages['node_modules/typescript'].resolved;
    writeFileSync(path.join(stripped, 'package-lock.json'), JSON.stringify(lock));
    const result = nixEval(stripped, 'packages.x86_64-linux.default.args.npmDeps.packages');
    assert.equal(result.ok, false);
    assert.match(result.stderr, /no resolved URL or integrity for node_modules\/typescript/);
  });

  it('apps.default runs bin/ephemeral-root of the package; apps.language-server its ephemeral-root-ls', () => {
    const app = evaluated(flake, 'apps.x86_64-linux.default');
    assert.equal(app.type, 'app');
    assert.match(app.program, /^\/nix\/store\/0{32}-stand-in-nixos-ephemeral-root-[\d.]+\/bin\/ephemeral-root$/);
    assert.match(evaluated(flake, 'apps.x86_64-linux.language-server.program'), /\/bin\/ephemeral-root-ls$/);
  });

  it('overlays.default adds pkgs.ephemeral-root built by the final package set', () => {
    const pname = evaluated(flake, 'overlays.default', ['--impure', '--apply', `overlay: (overlay ${standInPkgs} { }).ephemeral-root.args.pname`]);
    assert.equal(pname, 'nixos-ephemeral-root');
  });

  it('devShells.default has Node 20 and Nix', () => {
    const packages = evaluated(flake, 'devShells.x86_64-linux.default.args.packages') as string[];
    assert.ok(packages.some((item) => item.endsWith('stand-in-nodejs-20')));
    assert.ok(packages.some((item) => item.endsWith('stand-in-nix')));
  });
});

describe('lib.check: its build script, run with bash and the real CLI', () => {
  /** The runCommand lib.check asks for, and the result of running its script as the builder would. */
  function runCheck(example: string, extra = ''): { script: string; inputs: string[]; status: number | null; output: string; out: string } {
    const record = evaluated(flake, 'lib', ['--impure', '--apply', `lib: let c = lib.check { pkgs = ${standInPkgs}; src = ${path.join(REPO_ROOT, 'examples', example)}; ${extra} }; in { inherit (c) name script; inputs = c.env.nativeBuildInputs; }`]);
    // The package's bin folder, as nativeBuildInputs would put it on PATH: the real CLI of this checkout.
    const bin = mkdtempSync(path.join(scratch, 'bin-'));
    symlinkSync(path.join(REPO_ROOT, 'bin', 'ephemeral-root.js'), path.join(bin, 'ephemeral-root'));
    const out = path.join(mkdtempSync(path.join(scratch, 'out-')), 'result');
    const run = spawnSync('bash', ['-e', '-c', record.script], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`, out, TMPDIR: mkdtempSync(path.join(scratch, 'tmp-')) },
      timeout: 60_000,
    });
    return { script: record.script, inputs: record.inputs, status: run.status, output: `${run.stdout}${run.stderr}`, out };
  }

  it('fails the check on a host with error findings, printing them', () => {
    const result = runCheck('broken-flake', 'host = "tern";');
    assert.match(result.script, /ephemeral-root check \. --strict --host 'tern'/);
    assert.ok(result.inputs.some((input) => /stand-in-nixos-ephemeral-root/.test(input)), 'the package is a build input');
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /error \[rollback-snapshot-mismatch\]/);
    assert.ok(!existsSync(result.out), 'no output: the derivation fails');
  });

  it('passes on a host without error findings and keeps the report as $out', () => {
    const result = runCheck('seed');
    assert.equal(result.status, 0, result.output);
    assert.match(readFileSync(result.out, 'utf8'), /0 error\(s\)/);
  });
});

describe('our Nix files', () => {
  it('every one parses with the real Nix parser (nix-instantiate --parse)', () => {
    const files = [path.join(REPO_ROOT, 'flake.nix')];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (entry.endsWith('.nix')) files.push(full);
      }
    };
    walk(path.join(REPO_ROOT, 'nix'));
    walk(path.join(REPO_ROOT, 'test', 'stand-ins'));
    assert.ok(files.length >= 5, files.join(', '));
    for (const file of files) {
      const run = spawnSync('nix-instantiate', ['--parse', file], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${path.relative(REPO_ROOT, file)}: ${run.stderr}`);
    }
  });
});
