/**
 * `config` read through the host's merged configuration (config-reference.ts): options the repository declares, with
 * their defaults and their definitions elsewhere, decide attribute names and values; what depends on something truly
 * unknown stays silent.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeFolder } from '../support/engine';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'config-reference-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let cases = 0;

/** A flake host on ZFS whose disko layout has the pool `rpool`, plus the given modules. */
async function hostWith(modules: Record<string, string>) {
  const folder = path.join(scratch, `case-${cases++}`);
  mkdirSync(folder, { recursive: true });
  const names = Object.keys(modules);
  writeFileSync(
    path.join(folder, 'flake.nix'),
    `{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n  outputs = { nixpkgs, ... }: {\n    nixosConfigurations.host = nixpkgs.lib.nixosSystem { modules = [ ./base.nix ${names.map((name) => `./${name}`).join(' ')} ]; };\n  };\n}\n`,
  );
  writeFileSync(
    path.join(folder, 'base.nix'),
    '{ ... }: {\n  networking.hostId = "8425e349";\n  disko.devices.zpool.rpool = { type = "zpool"; datasets.root = { type = "zfs_fs"; mountpoint = "/"; options.mountpoint = "legacy"; }; };\n  fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };\n}\n',
  );
  for (const [name, text] of Object.entries(modules)) writeFileSync(path.join(folder, name), text);
  const { result } = await analyzeFolder(folder);
  return { result, codes: result.findings.map((finding) => finding.code), unknowns: result.unknowns.map((item) => item.note.what) };
}

const HOMELAB_OPTIONS = `{ config, lib, ... }:
let hl = config.homelab; in
{
  options.homelab = {
    mounts.fast = lib.mkOption { type = lib.types.str; default = "/mnt/fast"; };
    pool = lib.mkOption { type = lib.types.str; default = "rpool"; };
  };
  config.fileSystems.\${hl.mounts.fast} = { device = "\${hl.pool}/fast"; fsType = "zfs"; };
}
`;

describe('a library the repository extends', () => {
  it('lib.extend with helpers of the repository, passed through specialArgs: the helper is evaluated', async () => {
    const folder = path.join(scratch, `case-${cases++}`);
    mkdirSync(path.join(folder, 'lib'), { recursive: true });
    writeFileSync(
      path.join(folder, 'flake.nix'),
      `{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { nixpkgs, ... }@inputs:
    let lib = nixpkgs.lib.extend (final: prev: { my = import ./lib { lib = final; }; });
    in { nixosConfigurations.host = lib.nixosSystem { specialArgs = { inherit lib inputs; }; modules = [ ./configuration.nix ]; }; };
}
`,
    );
    writeFileSync(path.join(folder, 'lib', 'default.nix'), '{ lib }: { dataset = pool: name: lib.concatStringsSep "/" [ pool name ]; }\n');
    writeFileSync(
      path.join(folder, 'configuration.nix'),
      '{ lib, ... }: {\n  networking.hostId = "8425e349";\n  disko.devices.zpool.rpool = { type = "zpool"; datasets.root = { type = "zfs_fs"; mountpoint = "/"; options.mountpoint = "legacy"; }; };\n  fileSystems."/" = { device = "rpool/root"; fsType = "zfs"; };\n  fileSystems."/data" = { device = lib.my.dataset "cache" "data"; fsType = "zfs"; };\n}\n',
    );
    const { result } = await analyzeFolder(folder);
    const codes = result.findings.map((finding) => finding.code);
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
  });
});

describe('config read through the merged configuration', () => {
  it('an option default decides a fileSystems name, a definition in another module its pool: the undeclared pool is reported', async () => {
    const { codes, unknowns } = await hostWith({ 'homelab.nix': HOMELAB_OPTIONS, 'pool.nix': '{ homelab.pool = "cache"; }\n' });
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(!unknowns.some((what) => /homelab/.test(what)), `nothing about homelab stays unknown: ${unknowns.join(' | ')}`);
  });

  it('the same repository with the pool the layout declares: no finding', async () => {
    const { codes } = await hostWith({ 'homelab.nix': HOMELAB_OPTIONS, 'pool.nix': '{ homelab.pool = "rpool"; }\n' });
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
  });

  it('a definition with a stronger priority wins over a plain one and over the default', async () => {
    const { codes } = await hostWith({ 'homelab.nix': HOMELAB_OPTIONS, 'pool.nix': '{ lib, ... }: { homelab.pool = lib.mkForce "cache"; }\n', 'other.nix': '{ homelab.pool = "rpool"; }\n' });
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
  });

  it('a module that cannot be read might define the option: its default is not taken, and nothing is said', async () => {
    const { codes, unknowns } = await hostWith({ 'homelab.nix': HOMELAB_OPTIONS, 'pool.nix': '{ inputs, ... }: { imports = [ "${inputs.secrets}/pool.nix" ]; homelab.mounts.fast = "/mnt/fast"; }\n' });
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(unknowns.length > 0);
  });

  it('an option nothing declares (NixOS its own) stays unknown when no module defines it', async () => {
    const { codes, unknowns } = await hostWith({ 'lab.nix': '{ config, ... }: { fileSystems.${config.services.nextcloud.home} = { device = "cache/nc"; fsType = "zfs"; }; }\n' });
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(unknowns.some((what) => /nextcloud/.test(what)), `unknown: ${unknowns.join(' | ')}`);
  });

  it('a module argument another module sets with _module.args is read', async () => {
    const { codes } = await hostWith({ 'args.nix': '{ _module.args.poolName = "cache"; }\n', 'data.nix': '{ poolName, ... }: { fileSystems."/data" = { device = "${poolName}/data"; fsType = "zfs"; }; }\n' });
    assert.ok(codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
  });

  it('a module argument nothing sets stays unknown', async () => {
    const { codes } = await hostWith({ 'data.nix': '{ poolName, ... }: { fileSystems."/data" = { device = "${poolName}/data"; fsType = "zfs"; }; }\n' });
    assert.ok(!codes.includes('pool-not-in-disko'), `findings: ${codes.join(', ')}`);
    assert.ok(!codes.includes('filesystem-dataset-unknown'), `findings: ${codes.join(', ')}`);
  });

  it('a NixOS option a module of the host defines is read: a condition on it decides', async () => {
    const { codes } = await hostWith({
      'rollback.nix':
        '{ config, lib, ... }: { boot.initrd.systemd.enable = false; boot.initrd.systemd.services.rollback = lib.mkIf (!config.boot.initrd.systemd.enable) { wantedBy = [ "initrd.target" ]; script = "zfs rollback -r rpool/root@blank"; }; }\n',
    });
    assert.ok(codes.includes('initrd-units-without-systemd-initrd'), `findings: ${codes.join(', ')}`);
  });
});
