/**
 * Modules of flake inputs (input-modules.ts): a well-known input covers only the options it may set, an unknown one
 * covers everything, a secrets input is taken to set none of the options the rules read. The probe: a rollback unit
 * under boot.initrd.systemd while systemd stage 1 is unset on release 24.11 (`initrd-units-without-systemd-initrd`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeFolder } from '../support/engine';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'input-modules-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let cases = 0;

async function codesWith(input: { name: string; url: string }, moduleExpression: string): Promise<string[]> {
  const folder = path.join(scratch, `case-${cases++}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'flake.nix'),
    `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.${input.name}.url = "${input.url}";
  outputs = { nixpkgs, ... }@inputs: {
    nixosConfigurations.host = nixpkgs.lib.nixosSystem { specialArgs = { inherit inputs; }; modules = [ ./configuration.nix ]; };
  };
}
`,
  );
  writeFileSync(
    path.join(folder, 'configuration.nix'),
    `{ inputs, ... }:
{
  imports = [ ${moduleExpression} ];
  networking.hostId = "8425e349";
  fileSystems."/" = { device = "rpool/local/root"; fsType = "zfs"; };
  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    after = [ "zfs-import-rpool.service" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "zfs rollback -r rpool/local/root@blank";
  };
}
`,
  );
  const { result } = await analyzeFolder(folder);
  return result.findings.map((finding) => finding.code);
}

const PROBE = 'initrd-units-without-systemd-initrd';

describe('modules of flake inputs', () => {
  it('home-manager sets nothing under boot: systemd stage 1 is still known to be off', async () => {
    assert.ok((await codesWith({ name: 'home-manager', url: 'github:nix-community/home-manager/release-24.11' }, 'inputs.home-manager.nixosModules.home-manager')).includes(PROBE));
  });

  it('sops-nix likewise, found by the URL whatever the input is called', async () => {
    assert.ok((await codesWith({ name: 'secretsTool', url: 'github:Mic92/sops-nix' }, 'inputs.secretsTool.nixosModules.sops')).includes(PROBE));
  });

  it('an input nobody knows might enable systemd stage 1: nothing is said', async () => {
    assert.ok(!(await codesWith({ name: 'mystery', url: 'github:someone/mystery-modules' }, 'inputs.mystery.nixosModules.default')).includes(PROBE));
  });

  it('srvos may set boot options: nothing is said', async () => {
    assert.ok(!(await codesWith({ name: 'srvos', url: 'github:nix-community/srvos' }, 'inputs.srvos.nixosModules.server')).includes(PROBE));
  });

  it('a secrets file inside an input is taken to set none of the options the rules read', async () => {
    assert.ok((await codesWith({ name: 'secrets', url: 'git+ssh://git@example.org/me/secrets.git' }, '"${inputs.secrets}/hosts.nix"')).includes(PROBE));
  });

  it('a file inside an unknown input that is not about secrets might set anything', async () => {
    assert.ok(!(await codesWith({ name: 'modules', url: 'github:someone/modules' }, '"${inputs.modules}/server.nix"')).includes(PROBE));
  });
});
