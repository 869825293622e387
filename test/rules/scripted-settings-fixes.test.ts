/**
 * Turning systemd stage 1 on (the "Turn systemd stage 1 on" and "Insert the rollback service" fixes) makes every
 * scripted-only setting a build error (F42). A fix that cannot convert such a setting must say so in its title and
 * must not be preferred ("Fix all" would break the build); without such settings it stays preferred.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fixesFor } from '../../server/src/fixes/registry';
import { analyzeFolder } from '../support/engine';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'scripted-settings-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const DISKO = `{
  disko.devices.zpool.rpool = {
    type = "zpool";
    rootFsOptions.canmount = "off";
    datasets = {
      "local/root" = {
        type = "zfs_fs";
        options.mountpoint = "legacy";
        mountpoint = "/";
        postCreateHook = "zfs list -t snapshot -H -o name | grep -qxF rpool/local/root@blank || zfs snapshot rpool/local/root@blank";
      };
      "local/nix" = {
        type = "zfs_fs";
        options.mountpoint = "legacy";
        mountpoint = "/nix";
      };
    };
  };
}
`;

const UNIT = `  boot.initrd.systemd.services.rollback = {
    wantedBy = [ "initrd.target" ];
    after = [ "zfs-import-rpool.service" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "zfs rollback -r rpool/local/root@blank";
  };
`;

async function fixesOf(name: string, configuration: string, code: string, release?: string) {
  const folder = path.join(scratch, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'disko.nix'), DISKO);
  writeFileSync(path.join(folder, 'configuration.nix'), configuration);
  const { result, workspace } = await analyzeFolder(folder, { release });
  const finding = result.findings.find((item) => item.code === code);
  assert.ok(finding, `no ${code}: ${result.findings.map((item) => item.code).join(', ')}`);
  const host = result.hosts.find((item) => item.name === finding.host)!;
  return fixesFor(finding, host, workspace);
}

describe('fixes that turn systemd stage 1 on', () => {
  it('name the scripted settings they cannot convert and are not preferred', async () => {
    const fixes = await fixesOf(
      'enable-with-network-hook',
      `{ lib, ... }:
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  boot.initrd.systemd.enable = false;
  boot.initrd.network.postCommands = "echo unlock over ssh";
  boot.initrd.postMountCommands = "mkdir -p /mnt-root/persist/tmp";
${UNIT}}
`,
      'initrd-units-without-systemd-initrd',
    );
    const fix = fixes.find((item) => item.title.startsWith('Turn systemd stage 1 on'));
    assert.ok(fix, fixes.map((item) => item.title).join(' | '));
    assert.match(fix.title, /systemd stage 1 rejects boot\.initrd\.postMountCommands \(configuration\.nix:7\), boot\.initrd\.network\.postCommands \(configuration\.nix:6\)/);
    assert.equal(fix.preferred, false);
    assert.equal(fix.edits.length, 1, 'only the enable edit: the hooks are the user\'s to convert');
  });

  it('stay preferred without such settings', async () => {
    const fixes = await fixesOf(
      'enable-alone',
      `{ lib, ... }:
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  boot.initrd.systemd.enable = false;
${UNIT}}
`,
      'initrd-units-without-systemd-initrd',
    );
    const fix = fixes.find((item) => item.title.startsWith('Turn systemd stage 1 on'));
    assert.ok(fix);
    assert.doesNotMatch(fix.title, /rejects/);
    assert.equal(fix.preferred, true);
  });

  it('the inserted rollback service names a data-pool import hook it cannot convert', async () => {
    const fixes = await fixesOf(
      'insert-with-import-hook',
      `{ lib, ... }:
{
  imports = [ ./disko.nix ];
  networking.hostId = "8425e349";
  # A data pool imported by hand in stage 1.
  boot.initrd.postDeviceCommands = lib.mkAfter "zpool import -N tank";
}
`,
      'blank-snapshot-unused',
      '24.11',
    );
    const fix = fixes.find((item) => item.title.startsWith('Insert the rollback service'));
    assert.ok(fix, fixes.map((item) => item.title).join(' | '));
    assert.match(fix.title, /systemd stage 1 rejects boot\.initrd\.postDeviceCommands \(configuration\.nix:6\)/);
    assert.equal(fix.preferred, false);
  });
});
