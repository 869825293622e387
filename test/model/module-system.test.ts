/**
 * Seeing through the module system (issue 14) on repositories of our own under test/fixtures/module-system/<pattern>:
 * `trigger` resolves a value through the pattern and gets the finding that depends on it, `correct` is the same
 * repository with the value made right and gets no finding at all, `unknown-input` is the trigger plus a module of a
 * flake input nobody knows (it might set the value), which keeps the finding silent.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { unknownCause } from '../../server/src/model/unknown-causes';
import { FIXTURES, analyzeFolder } from '../support/engine';

const ROOT = path.join(FIXTURES, 'module-system');

async function run(pattern: string, variant: string) {
  const { result } = await analyzeFolder(path.join(ROOT, pattern, variant));
  return {
    codes: result.findings.map((finding) => finding.code),
    unknowns: result.unknowns.map((item) => item.note.what),
  };
}

describe('options of the repository: mkIf cfg.enable, mkEnableOption // { default }, list options, mkMerge (map …)', () => {
  it('the default pool, the mounts mapped from the shares and the condition resolve: the missing pool is reported', async () => {
    const { codes, unknowns } = await run('options', 'trigger');
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.deepEqual(unknowns, []);
  });

  it('the same repository on the pool the layout creates: no finding', async () => {
    const { codes, unknowns } = await run('options', 'correct');
    assert.deepEqual(codes, []);
    assert.deepEqual(unknowns, []);
  });

  it('a module of an unknown input might set the pool: nothing is said', async () => {
    const { codes, unknowns } = await run('options', 'unknown-input');
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(!codes.includes('disko-dataset-not-mounted'), `findings: ${codes.join(', ')}`);
    assert.ok(unknowns.some((what) => /mystery/.test(what)), `unknown: ${unknowns.join(' | ')}`);
    // What stays unknown because of that module is counted under its cause, not as an option nobody defines.
    assert.deepEqual([...new Set(unknowns.map(unknownCause))], ['a module inside a flake input'], unknowns.join(' | '));
  });
});

describe('modules of well-known inputs (home-manager, agenix by URL) cover only what they set', () => {
  it('neither touches environment.persistence: what the host does not keep is reported, nothing stays unknown', async () => {
    const { codes, unknowns } = await run('well-known-inputs', 'trigger');
    assert.ok(codes.includes('machine-id-not-persisted'), `findings: ${codes.join(', ')}`);
    assert.deepEqual(unknowns, []);
  });

  it('the same host keeping /etc/machine-id: no finding', async () => {
    const { codes } = await run('well-known-inputs', 'correct');
    assert.deepEqual(codes, []);
  });

  it('with a module of an input nobody knows beside them: nothing is said', async () => {
    const { codes, unknowns } = await run('well-known-inputs', 'unknown-input');
    assert.ok(!codes.includes('machine-id-not-persisted'), `findings: ${codes.join(', ')}`);
    assert.ok(unknowns.some((what) => /mystery/.test(what)), `unknown: ${unknowns.join(' | ')}`);
  });
});

describe('options typed as submodules: types.submodule with defaults, attrsOf (submodule (…: …)), mapAttrs\' over them', () => {
  it('the sub-options\' defaults resolve: the missing pool is reported, nothing stays unknown', async () => {
    const { codes, unknowns } = await run('submodules', 'trigger');
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.deepEqual(unknowns, []);
  });

  it('the same repository setting the pool the layout creates: no finding', async () => {
    const { codes } = await run('submodules', 'correct');
    assert.deepEqual(codes, []);
  });

  it('a module of an unknown input might set the pool: nothing is said', async () => {
    const { codes } = await run('submodules', 'unknown-input');
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(!codes.includes('disko-dataset-not-mounted'), `findings: ${codes.join(', ')}`);
  });
});

describe('helpers of the repository: nixosSystem built by a function, a library passed by specialArgs, self, lib.path.append', () => {
  it('the helper names the dataset and the modules reached through self and relativeToRoot are read: the missing pool is reported', async () => {
    const { codes, unknowns } = await run('helpers', 'trigger');
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.deepEqual(unknowns, []);
  });

  it('the same repository whose layout creates the pool: no finding', async () => {
    const { codes } = await run('helpers', 'correct');
    assert.deepEqual(codes, []);
  });

  it('helpers overlaid with those of an input nobody knows: nothing is said', async () => {
    const { codes, unknowns } = await run('helpers', 'unknown-input');
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(unknowns.some((what) => /mystery/.test(what)), `unknown: ${unknowns.join(' | ')}`);
  });
});

describe('a secrets file of a flake input is taken to set nothing the rules read, and findings that rest on it say so', () => {
  it('systemd stage 1 unset beside an unreadable secrets file: reported, with the reason in the message', async () => {
    const { result } = await analyzeFolder(path.join(ROOT, 'secrets', 'trigger'));
    const finding = result.findings.find((item) => item.code === 'initrd-units-without-systemd-initrd');
    assert.ok(finding, `findings: ${result.findings.map((item) => item.code).join(', ')}`);
    assert.match(finding.message, /unless an unreadable module enables it: inputs\.secrets\/network\.nix/i);
  });

  it('the same host enabling systemd stage 1: no finding', async () => {
    const { codes } = await run('secrets', 'correct');
    assert.deepEqual(codes, []);
  });

  it('a file of an input that is not about secrets might enable it: nothing is said', async () => {
    const { codes, unknowns } = await run('secrets', 'unknown-input');
    assert.deepEqual(codes, []);
    assert.ok(unknowns.some((what) => /inputs\.shared/.test(what)), `unknown: ${unknowns.join(' | ')}`);
  });
});

describe('sops-nix by URL: its own units (sops-install-secrets*) and activation scripts, nothing under boot', () => {
  it('systemd stage 1 unset beside sops-nix: reported, and sops-nix is not listed as unknown when the stage-2 units are read', async () => {
    const { codes, unknowns } = await run('sops-nix', 'trigger');
    assert.ok(codes.includes('initrd-units-without-systemd-initrd'), `findings: ${codes.join(', ')}`);
    assert.deepEqual(unknowns, []);
  });

  it('the same host enabling systemd stage 1: no finding', async () => {
    const { codes } = await run('sops-nix', 'correct');
    assert.deepEqual(codes, []);
  });

  it('with a module of an input nobody knows beside it: nothing is said', async () => {
    const { codes } = await run('sops-nix', 'unknown-input');
    assert.deepEqual(codes, []);
  });
});

describe('module arguments of a file analysed on its own', () => {
  it('are unknown because no host passes them, and counted under that cause', async () => {
    const { unknowns } = await run('fragment-arguments', '.');
    assert.ok(unknowns.some((what) => /module argument of a file analysed on its own/.test(what)), unknowns.join(' | '));
    assert.ok(!unknowns.some((what) => unknownCause(what) === 'a module argument that is not known (specialArgs, _module.args)'), unknowns.join(' | '));
  });
});
