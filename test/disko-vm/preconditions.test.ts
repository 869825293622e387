/**
 * The preconditions, in order, with an injected environment: the trust gate comes first and runs nothing; then
 * nix on PATH, nix-command/flakes (a flake host needs both), /dev/kvm (a warning only).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KVM_WARNING, type PreconditionEnv, TRUST_MESSAGE, checkPreconditions, processEnv } from '../../client/src/disko-vm/preconditions';
import { STAND_INS } from './support';

function env(overrides: Partial<PreconditionEnv> & { probe?: { code: number; stdout: string; stderr: string } } = {}): PreconditionEnv & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    isTrusted: true,
    which: (name) => (name === 'nix' ? '/run/current-system/sw/bin/nix' : undefined),
    run: async (command, args) => {
      calls.push([command, ...args]);
      return overrides.probe ?? { code: 0, stdout: 'true\n', stderr: '' };
    },
    exists: () => true,
    calls,
    ...overrides,
  };
}

describe('preconditions', () => {
  it('an untrusted workspace is refused before anything runs', async () => {
    const untrusted = env({ isTrusted: false });
    const result = await checkPreconditions(untrusted, { needsFlakes: true, nixArgs: [] });
    assert.equal(result.error, TRUST_MESSAGE);
    assert.deepEqual(untrusted.calls, []);
  });

  it('no nix on PATH', async () => {
    const result = await checkPreconditions(env({ which: () => undefined }), { needsFlakes: false, nixArgs: [] });
    assert.match(result.error!, /Nix is not installed or not on PATH/);
  });

  it('nix-command disabled (real Nix\'s message)', async () => {
    const probe = { code: 1, stdout: '', stderr: "error: experimental Nix feature 'nix-command' is disabled; use '--extra-experimental-features nix-command' to override\n" };
    const result = await checkPreconditions(env({ probe }), { needsFlakes: false, nixArgs: [] });
    assert.match(result.error!, /nix-command feature of Nix is not enabled/);
    assert.match(result.error!, /ephemeralRoot\.vm\.nixArgs/);
  });

  it('flakes off: refused for a flake host, fine for a standalone disko file', async () => {
    const probe = { code: 0, stdout: 'false\n', stderr: '' };
    const flake = env({ probe });
    assert.match((await checkPreconditions(flake, { needsFlakes: true, nixArgs: ['--option', 'x', 'y'] })).error!, /Flakes are not enabled/);
    assert.deepEqual(flake.calls, [['nix', 'eval', '--option', 'x', 'y', '--json', '--expr', 'builtins ? getFlake']]);
    assert.equal((await checkPreconditions(env({ probe }), { needsFlakes: false, nixArgs: [] })).error, undefined);
  });

  it('no /dev/kvm is a warning, not a refusal', async () => {
    const result = await checkPreconditions(env({ exists: (file) => file !== '/dev/kvm' }), { needsFlakes: true, nixArgs: [] });
    assert.equal(result.error, undefined);
    assert.deepEqual(result.warnings, [KVM_WARNING]);
    assert.deepEqual((await checkPreconditions(env(), { needsFlakes: true, nixArgs: [] })).warnings, []);
  });

  it('the real environment finds the stand-in first on PATH and runs it', async () => {
    const real = processEnv(true, `${STAND_INS}:/usr/bin:/bin`);
    assert.equal(real.which('nix'), `${STAND_INS}/nix`);
    assert.equal(processEnv(true, '/nonexistent').which('nix'), undefined);
    assert.deepEqual(await real.run('nix', ['eval', '--json', '--expr', 'builtins ? getFlake']), { code: 0, stdout: 'true\n', stderr: '' });
    const result = await checkPreconditions({ ...real, exists: () => true }, { needsFlakes: true, nixArgs: [] });
    assert.deepEqual(result, { warnings: [], nix: `${STAND_INS}/nix` });
  });
});
