/**
 * The argument arrays of every mode are exactly what the real Nix CLI and disko take (F27–F30), `nix` is the absolute
 * path the run found, and each plan names the entries it creates in the work folder.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LOG_ARGS, flakesProbeArgs, planRun } from '../../client/src/disko-vm/args';
import { configurationHost, flakeHost, settings } from './support';

const WORK = '/var/tmp/er-work';
const FLAKE = '/home/u/flake';
const EXT = '/opt/ext';
const NIX = '/nix/var/nix/profiles/default/bin/nix';

describe('argument arrays per mode', () => {
  it('format images of a flake host: the host output by its attribute, then the script with --build-memory', () => {
    const plan = planRun({ mode: 'images', target: { kind: 'host', host: flakeHost(FLAKE) }, settings: settings(WORK, { memory: 3072 }), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(
      plan.steps.map((step) => [step.command, step.args, step.cwd]),
      [
        [NIX, ['build', '-L', '--log-format', 'internal-json', '--out-link', `${WORK}/images-script`, '.#nixosConfigurations.seed.config.system.build.diskoImagesScript'], FLAKE],
        [`${WORK}/images-script`, ['--build-memory', '3072'], WORK],
      ],
    );
    assert.deepEqual(plan.expectedImages, ['main.raw']);
    assert.equal(plan.needsFlakes, true);
    assert.equal(plan.steps[1].formatsImages, true);
    assert.deepEqual(plan.files, []);
    assert.deepEqual(plan.creates, [
      { name: 'run.log', kind: 'file' },
      { name: 'images-script', kind: 'link' },
      { name: 'main.raw', kind: 'file' },
      { name: 'efivars.fd', kind: 'file' },
    ]);
    assert.equal(plan.unknownImages, false);
  });

  it('puts ephemeralRoot.vm.nixArgs right after the subcommand, before -L --log-format internal-json (in that order)', () => {
    const nixArgs = ['--option', 'cores', '4', '--show-trace'];
    const plan = planRun({ mode: 'images', target: { kind: 'host', host: flakeHost(FLAKE) }, settings: settings(WORK, { nixArgs }), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(plan.steps[0].args.slice(0, 8), ['build', ...nixArgs, ...LOG_ARGS]);
    assert.deepEqual(flakesProbeArgs(nixArgs), ['eval', ...nixArgs, '--json', '--expr', 'builtins ? getFlake']);
  });

  it('quotes a host name the CLI would not read bare', () => {
    const plan = planRun({ mode: 'vm', target: { kind: 'host', host: flakeHost(FLAKE, 'web.example') }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.equal(plan.steps[0].args.at(-1), '.#nixosConfigurations."web.example".config.system.build.vmWithDisko');
  });

  it('qcow2 images: the host extended with disko.imageBuilder.imageFormat, from a generated images.nix', () => {
    const plan = planRun({ mode: 'images', target: { kind: 'host', host: flakeHost(FLAKE) }, settings: settings(WORK, { imageFormat: 'qcow2' }), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(plan.steps[0].args, ['build', '-L', '--log-format', 'internal-json', '--impure', '--out-link', `${WORK}/images-script`, '--file', `${WORK}/images.nix`]);
    assert.equal(plan.files[0].path, `${WORK}/images.nix`);
    assert.match(plan.files[0].text, /disko\.imageBuilder\.imageFormat = "qcow2";/);
    assert.deepEqual(plan.expectedImages, ['main.qcow2']);
  });

  it('a configuration.nix host: NixOS evaluated by <nixpkgs/nixos> with the file as --argstr configuration', () => {
    const host = configurationHost('/etc/nixos');
    const images = planRun({ mode: 'images', target: { kind: 'host', host }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(images.steps[0].args, [
      'build', '-L', '--log-format', 'internal-json', '--out-link', `${WORK}/images-script`,
      '--file', '<nixpkgs/nixos>', '--argstr', 'configuration', '/etc/nixos/configuration.nix', 'config.system.build.diskoImagesScript',
    ]);
    assert.equal(images.steps[0].cwd, '/etc/nixos');
    assert.equal(images.needsFlakes, false);
    const vm = planRun({ mode: 'vm', target: { kind: 'host', host }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(vm.steps[0].args, ['run', '-L', '--log-format', 'internal-json', '--file', '<nixpkgs/nixos>', '--argstr', 'configuration', '/etc/nixos/configuration.nix', 'config.system.build.vmWithDisko']);
  });

  it('interactive VM: nix run -L …vmWithDisko, its images in <work>/vm-tmp, memory through QEMU_OPTS', () => {
    const plan = planRun({ mode: 'vm', target: { kind: 'host', host: flakeHost(FLAKE) }, settings: settings(WORK, { memory: 4096 }), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(plan.steps.map((step) => step.args), [['run', '-L', '--log-format', 'internal-json', '.#nixosConfigurations.seed.config.system.build.vmWithDisko']]);
    assert.deepEqual(plan.steps[0].env, { TMPDIR: `${WORK}/vm-tmp`, QEMU_OPTS: '-m 4096' });
    assert.deepEqual(plan.creates, [
      { name: 'run.log', kind: 'file' },
      { name: 'vm-tmp', kind: 'folder' },
    ]);
    assert.equal(plan.steps[0].cwd, FLAKE);
  });

  it('standalone disko file: the project wrapper with --argstr diskoFile/imageFormat and --arg zfs, then the script', () => {
    const file = '/srv/layouts/disko.nix';
    const plan = planRun({ mode: 'standalone', target: { kind: 'file', file }, settings: settings(WORK, { imageFormat: 'qcow2' }), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(plan.steps[0].args, [
      'build', '-L', '--log-format', 'internal-json', '--impure', '--out-link', `${WORK}/images-script`,
      '--file', path.join(EXT, 'nix', 'standalone-disko-image.nix'), '--argstr', 'diskoFile', file, '--argstr', 'imageFormat', 'qcow2', '--arg', 'zfs', 'true',
    ]);
    assert.equal(plan.steps[0].cwd, '/srv/layouts');
    assert.deepEqual(plan.steps[1].args, ['--build-memory', '2048']);
    assert.deepEqual(plan.shownFiles, [path.join(EXT, 'nix', 'standalone-disko-image.nix')]);
    assert.equal(plan.needsFlakes, false);
    assert.equal(plan.unknownImages, true, 'a disko file of no host: its image names are not known ahead');
    // With a host known for the file, zfs follows its layout.
    const noZfs = planRun({ mode: 'standalone', target: { kind: 'file', file, host: flakeHost(FLAKE, 'seed', { zfs: false }) }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'x' });
    assert.deepEqual(noZfs.steps[0].args.slice(-3), ['--arg', 'zfs', 'false']);
  });

  it('prove: nix build --impure --file <work>/prove-ephemeral-root.nix, the generated installTest', () => {
    const plan = planRun({ mode: 'prove', target: { kind: 'host', host: flakeHost(FLAKE) }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'n0' });
    assert.deepEqual(plan.steps[0].args, ['build', '-L', '--log-format', 'internal-json', '--impure', '--out-link', `${WORK}/prove-result`, '--file', `${WORK}/prove-ephemeral-root.nix`]);
    assert.match(plan.files[0].text, /proving\.config\.system\.build\.installTest\n$/);
    assert.equal(plan.steps.length, 1);
    assert.deepEqual(plan.creates, [
      { name: 'run.log', kind: 'file' },
      { name: 'prove-ephemeral-root.nix', kind: 'file' },
      { name: 'prove-result', kind: 'link' },
    ]);
  });

  it('refuses modes a target cannot take', () => {
    const diskoOnly = { ...flakeHost(FLAKE), kind: 'disko-only' as const, flake: undefined };
    assert.throws(() => planRun({ mode: 'images', target: { kind: 'host', host: diskoOnly }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'x' }), /standalone/);
    assert.throws(() => planRun({ mode: 'prove', target: { kind: 'file', file: '/x/disko.nix' }, settings: settings(WORK), extensionRoot: EXT, nix: NIX, nonce: 'x' }), /needs a host/);
  });
});
