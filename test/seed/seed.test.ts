/**
 * The seed example (the blog post's host, examples/seed): as bundled (idempotent snapshot hook) it has no finding;
 * with the post's verbatim bare `zfs snapshot` hook it has exactly one warning, snapshot-hook-not-idempotent; and each
 * single mistake from RULES.md planted into it gives exactly its code.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, analyzeFolder } from '../support/engine';

const SEED = path.join(REPO_ROOT, 'examples', 'seed');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'seed-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const GUARDED_HOOK = `postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^rpool/nixos/empty@start$' || zfs snapshot rpool/nixos/empty@start";`;
const VERBATIM_HOOK = 'postCreateHook = "zfs snapshot rpool/nixos/empty@start";';

interface Edit {
  file: 'configuration.nix' | 'disko.nix' | 'flake.nix';
  find: string;
  replace: string;
}

let copies = 0;
/** A copy of the seed with edits applied; every `find` must occur in the file, so a stale edit fails loudly. */
function seedWith(edits: Edit[]): string {
  const folder = path.join(scratch, `copy-${copies++}`);
  cpSync(SEED, folder, { recursive: true });
  for (const edit of edits) {
    const file = path.join(folder, edit.file);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(edit.find), `${edit.file} does not contain ${JSON.stringify(edit.find)}`);
    writeFileSync(file, text.replace(edit.find, edit.replace));
  }
  return folder;
}

async function codesOf(folder: string): Promise<string[]> {
  const { result } = await analyzeFolder(folder);
  assert.deepEqual(result.faults, []);
  // The seed keeps /var/lib but not /etc/machine-id: RULES.md §E calls for this information on every rolled-back root
  // that does not keep it (a new machine id each boot). It is the host's, not a planted mistake's.
  return result.findings.map((finding) => finding.code).filter((code) => code !== SEED_MACHINE_ID_NOTE).sort();
}

const SEED_MACHINE_ID_NOTE = 'machine-id-not-persisted';

const config = (find: string, replace: string): Edit => ({ file: 'configuration.nix', find, replace });
const disko = (find: string, replace: string): Edit => ({ file: 'disko.nix', find, replace });

/** One planted mistake per code that the seed host can carry. */
const PLANTED: Record<string, Edit[]> = {
  'root-blank-snapshot-missing': [disko(GUARDED_HOOK, '')],
  'rollback-snapshot-mismatch': [config('empty@start";', 'empty@blank";')],
  'rollback-target-not-root': [config('rollback -r rpool/nixos/empty@start', 'rollback -r rpool/nixos/nix@start'), disko(GUARDED_HOOK, GUARDED_HOOK.replaceAll('nixos/empty', 'nixos/nix'))],
  'rollback-missing-r': [config('zfs rollback -r rpool', 'zfs rollback rpool')],
  'snapshot-hook-not-idempotent': [disko(GUARDED_HOOK, VERBATIM_HOOK)],
  'blank-snapshot-unused': [config('script = "zfs rollback -r rpool/nixos/empty@start";', 'script = "echo no rollback";')],
  'initrd-units-without-systemd-initrd': [config('enable = true;\n    services', 'enable = false;\n    services')],
  'scripted-hook-with-systemd-initrd': [config('boot.supportedFilesystems', 'boot.initrd.postDeviceCommands = "echo hello";\n  boot.supportedFilesystems')],
  'scripted-rollback-wrong-hook': [
    config('enable = true;\n    services', 'enable = false;\n    services'),
    config('services.initrd-rollback-root = {', 'services.unused = {'),
    config('script = "zfs rollback -r rpool/nixos/empty@start";', 'script = "true";'),
    config('boot.supportedFilesystems', 'boot.initrd.postDeviceCommands = lib.mkAfter "zfs rollback -r rpool/nixos/empty@start";\n  boot.supportedFilesystems'),
  ],
  'rollback-after-mount': [config('after = [ "zfs-import-rpool.service" ];', 'after = [ "zfs-import-rpool.service" "initrd-fs.target" ];')],
  'rollback-not-after-import': [config('after = [ "zfs-import-rpool.service" ];', '')],
  'import-unit-name-mismatch': [config('zfs-import-rpool.service', 'zfs-import-zroot.service')],
  'unknown-initrd-unit': [config('wantedBy = [ "initrd.target" ];', 'wantedBy = [ "initrd.target" ];\n      wants = [ "systemd-udev-settle" ];')],
  'rollback-not-before-mount': [config('"sysroot.mount"', '"initrd-root-fs.target"')],
  'rollback-default-dependencies': [config('unitConfig.DefaultDependencies = "no";', '')],
  'rollback-not-pulled-in': [config('wantedBy = [ "initrd.target" ];', '')],
  'rollback-not-oneshot': [config('serviceConfig.Type = "oneshot";', '')],
  'rollback-zfs-binary': [config('boot.supportedFilesystems', 'boot.zfs.package = pkgs.zfs_unstable;\n  boot.supportedFilesystems')],
  'zfs-device-not-dataset': [config('boot.supportedFilesystems', 'fileSystems."/data" = {\n    device = "/dev/disk/by-label/data";\n    fsType = "zfs";\n  };\n\n  boot.supportedFilesystems')],
  // A new mount (not one disko emits: a forced different device there is also duplicate-fs-definition).
  'filesystem-dataset-unknown': [config('boot.supportedFilesystems', 'fileSystems."/srv" = {\n    device = "rpool/nixos/srv";\n    fsType = "zfs";\n  };\n\n  boot.supportedFilesystems')],
  'pool-not-in-disko': [config('boot.supportedFilesystems', 'fileSystems."/data" = {\n    device = "tank/data";\n    fsType = "zfs";\n  };\n\n  boot.supportedFilesystems')],
  'zfsutil-mismatch': [config('device = "rpool/nixos/config";\n    fsType = "zfs";', 'device = "rpool/nixos/config";\n    fsType = "zfs";\n    options = [ "zfsutil" ];')],
  'disko-dataset-not-mounted': [
    { file: 'flake.nix', find: '          ./disko.nix\n', replace: '' },
    config('fileSystems."/etc/nixos" = {\n    device = "rpool/nixos/config";\n    fsType = "zfs";\n    neededForBoot = true;\n  };', ''),
  ],
  'duplicate-fs-definition': [config('device = "rpool/nixos/var/log";', 'device = "rpool/nixos/var/lib";')],
  'mountpoint-not-absolute': [disko('mountpoint = "/etc/nixos";', 'mountpoint = "etc/nixos";'), config('fileSystems."/etc/nixos" = {\n    device = "rpool/nixos/config";\n    fsType = "zfs";\n    neededForBoot = true;\n  };', '')],
  'persist-not-needed-for-boot': [config('boot.supportedFilesystems', 'environment.persistence."/etc/nixos".directories = [ "/var/lib/bluetooth" ];\n  fileSystems."/etc/nixos".neededForBoot = lib.mkForce false;\n  boot.supportedFilesystems')],
  // The whole dataset goes: a legacy dataset left without mountpoint and entry is also disko-dataset-not-mounted.
  'rollback-self-import': [
    config('enable = true;\n    services', 'enable = false;\n    services'),
    config('script = "zfs rollback -r rpool/nixos/empty@start";', 'script = "true";'),
    config('boot.supportedFilesystems', 'boot.initrd.postResumeCommands = lib.mkAfter \'\'\n    zpool import rpool\n    zfs rollback -r rpool/nixos/empty@start\n  \'\';\n  boot.supportedFilesystems'),
    disko('"nixos/var" = {', '"nixos/srv" = {\n            type = "zfs_fs";\n            options.mountpoint = "/srv";\n          };\n          "nixos/var" = {'),
  ],
  'ephemeral-parent-not-needed-for-boot': [
    config('device = "rpool/nixos/var/log";\n    fsType = "zfs";\n    neededForBoot = true;', 'device = "rpool/nixos/var/log";\n    fsType = "zfs";'),
    config('boot.supportedFilesystems', 'environment.persistence."/etc/nixos".directories = [ "/var/log/journal" ];\n  boot.supportedFilesystems'),
  ],
  'vm-variant-needed-for-boot': [
    { file: 'flake.nix', find: '{ nixpkgs, disko, ... }:', replace: '{ self, nixpkgs, disko, ... }:' },
    {
      file: 'flake.nix',
      find: '    {\n      nixosConfigurations.seed',
      replace: '    {\n      apps.x86_64-linux.vm = {\n        type = "app";\n        program = "${self.nixosConfigurations.seed.config.system.build.vmWithDisko}/bin/disko-vm";\n      };\n      nixosConfigurations.seed',
    },
  ],
  'nix-on-ephemeral-root': [disko('"nixos/nix" = {\n            type = "zfs_fs";\n            options.mountpoint = "legacy";\n            mountpoint = "/nix";\n          };', ''), config('fileSystems."/nix" = {\n    device = "rpool/nixos/nix";\n    fsType = "zfs";\n    neededForBoot = true;\n  };', '')],
  'boot-on-ephemeral-root': [disko('"nixos/root" = {\n            type = "zfs_fs";\n            options.mountpoint = "legacy";\n            mountpoint = "/boot";\n          };', ''), config('fileSystems."/boot" = {\n    device = "bpool/nixos/root";\n    fsType = "zfs";\n  };', '')],
  'zfs-managed-boot-path': [disko('options.mountpoint = "legacy";\n            mountpoint = "/var/log";', 'options.mountpoint = "/var/log";'), config('fileSystems."/var/log" = {\n    device = "rpool/nixos/var/log";\n    fsType = "zfs";\n    neededForBoot = true;\n  };', '')],
  'needed-for-boot-on-data-pool': [config('device = "bpool/nixos/root";\n    fsType = "zfs";', 'device = "bpool/nixos/root";\n    fsType = "zfs";\n    neededForBoot = true;')],
  'hostid-missing': [config('networking.hostId = "8425e349";', '')],
  'devnodes-vm': [config('{ lib, pkgs, ... }:\n{', '{ lib, pkgs, modulesPath, ... }:\n{\n  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];')],
  'implicit-parent-dataset': [disko('"nixos/var" = {\n            type = "zfs_fs";\n            options.mountpoint = "none";\n          };', '')],
  'autosnapshot-on-ephemeral': [disko('xattr = "sa";\n          "com.sun:auto-snapshot" = "false";', 'xattr = "sa";\n          "com.sun:auto-snapshot" = "true";')],
  'syntax-error': [config('networking.hostName = "seed";', 'networking.hostName = "seed"')],
  'import-not-found': [config('{ lib, pkgs, ... }:\n{', '{ lib, pkgs, ... }:\n{\n  imports = [ ./users.nix ];')],
};

describe('seed example', () => {
  it('as bundled: no finding', async () => {
    assert.deepEqual(await codesOf(SEED), []);
  });

  it('as bundled: the one §E note is machine-id-not-persisted, as information', async () => {
    const { result } = await analyzeFolder(SEED);
    assert.deepEqual(result.findings.map((finding) => [finding.code, finding.severity]), [[SEED_MACHINE_ID_NOTE, 'information']]);
  });

  it("with the post's verbatim bare snapshot hook: exactly one warning, snapshot-hook-not-idempotent", async () => {
    const { result } = await analyzeFolder(seedWith([disko(GUARDED_HOOK, VERBATIM_HOOK)]));
    assert.deepEqual(
      result.findings.filter((finding) => finding.code !== SEED_MACHINE_ID_NOTE).map((finding) => [finding.code, finding.severity]),
      [['snapshot-hook-not-idempotent', 'warning']],
    );
  });

  for (const [code, edits] of Object.entries(PLANTED)) {
    it(`planted mistake gives exactly ${code}`, async () => {
      const codes = await codesOf(seedWith(edits));
      assert.ok(codes.length > 0, 'the planted mistake was not found');
      assert.deepEqual([...new Set(codes)], [code]);
    });
  }
});
