/**
 * The preconditions, with an injected environment. Before the confirmation nothing runs: the trust gate, the
 * absolute `nix` outside the workspace, /dev/kvm (a warning only). After it, the nix-command/flakes probe runs by
 * that absolute path (a flake host needs both).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KVM_WARNING, type PreconditionEnv, TRUST_MESSAGE, checkNixFeatures, checkPreconditions, processEnv } from '../../client/src/disko-vm/preconditions';
import { STAND_INS } from './support';

const NIX = `${STAND_INS}/nix`;

function env(overrides: Partial<PreconditionEnv> & { probe?: { code: number; stdout: string; stderr: string } } = {}): PreconditionEnv & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    isTrusted: true,
    pathVariable: `${STAND_INS}:/usr/bin:/bin`,
    run: async (command, args) => {
      calls.push([command, ...args]);
      return overrides.probe ?? { code: 0, stdout: 'true\n', stderr: '' };
    },
    exists: () => true,
    calls,
    ...overrides,
  };
}

const features = (environment: PreconditionEnv, needsFlakes: boolean, nixArgs: string[] = []) => checkNixFeatures(environment, NIX, { needsFlakes, nixArgs, cwd: '/', workspaceFolders: [] });

describe('preconditions', () => {
  it('an untrusted workspace is refused before anything runs', () => {
    const untrusted = env({ isTrusted: false });
    const result = checkPreconditions(untrusted, { workspaceFolders: [] });
    assert.equal(result.error, TRUST_MESSAGE);
    assert.deepEqual(untrusted.calls, []);
  });

  it('no nix on PATH', () => {
    const result = checkPreconditions(env({ pathVariable: '/nonexistent' }), { workspaceFolders: [] });
    assert.match(result.error!, /Nix is not installed or not on PATH/);
  });

  it('finds the absolute nix and starts no process', () => {
    const environment = env();
    assert.deepEqual(checkPreconditions(environment, { workspaceFolders: [] }), { warnings: [], nix: NIX, skipped: [] });
    assert.deepEqual(environment.calls, []);
  });

  it('nix-command disabled (real Nix\'s message)', async () => {
    const probe = { code: 1, stdout: '', stderr: "error: experimental Nix feature 'nix-command' is disabled; use '--extra-experimental-features nix-command' to override\n" };
    const problem = await features(env({ probe }), false);
    assert.match(problem!, /nix-command feature of Nix is not enabled/);
    assert.match(problem!, /ephemeralRoot\.vm\.nixArgs/);
  });

  it('flakes off: refused for a flake host, fine for a standalone disko file; the probe runs the absolute nix', async () => {
    const probe = { code: 0, stdout: 'false\n', stderr: '' };
    const flake = env({ probe });
    assert.match((await features(flake, true, ['--option', 'x', 'y']))!, /Flakes are not enabled/);
    assert.deepEqual(flake.calls, [[NIX, 'eval', '--option', 'x', 'y', '--json', '--expr', 'builtins ? getFlake']]);
    assert.equal(await features(env({ probe }), false), undefined);
  });

  it('no /dev/kvm is a warning, not a refusal', () => {
    const result = checkPreconditions(env({ exists: (file) => file !== '/dev/kvm' }), { workspaceFolders: [] });
    assert.equal(result.error, undefined);
    assert.deepEqual(result.warnings, [KVM_WARNING]);
    assert.deepEqual(checkPreconditions(env(), { workspaceFolders: [] }).warnings, []);
  });

  it('the real environment finds the stand-in first on PATH and runs it by its absolute path', async () => {
    const real = processEnv(true, `${STAND_INS}:/usr/bin:/bin`);
    const result = checkPreconditions({ ...real, exists: () => true }, { workspaceFolders: [] });
    assert.deepEqual(result, { warnings: [], nix: NIX, skipped: [] });
    assert.deepEqual(await real.run(NIX, ['eval', '--json', '--expr', 'builtins ? getFlake'], { cwd: '/', workspaceFolders: [] }), { code: 0, stdout: 'true\n', stderr: '' });
    assert.equal(await checkNixFeatures(real, NIX, { needsFlakes: true, nixArgs: [], cwd: '/', workspaceFolders: [] }), undefined);
  });
});
