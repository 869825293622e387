/**
 * The device disko gives a GPT partition (lib/types/gpt.nix @878ec37, F60), as the model derives it for the
 * `fileSystems` disko emits and for the btrfs file system a rollback mounts: `/dev/disk/by-partlabel/disk-<disk>-<part>`
 * by default, the partition's own `label`, `device` or `uuid` when set, and unknown where disko versions differ or a
 * value cannot be read.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeFolder } from '../support/engine';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'partition-device-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The root's device and the btrfs file system's device of a host whose root partition has `extra` set. */
async function devices(name: string, options: { disk?: string; diskName?: string; partition?: string; extra?: string }): Promise<{ root: string; btrfs: string | undefined }> {
  const folder = path.join(scratch, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'configuration.nix'),
    `{ ... }:
{
  imports = [ ./disko.nix ];
}
`,
  );
  writeFileSync(
    path.join(folder, 'disko.nix'),
    `{
  disko.devices.disk.${options.disk ?? 'main'} = {
    type = "disk";
    device = "/dev/vda";${options.diskName ? `\n    name = "${options.diskName}";` : ''}
    content = {
      type = "gpt";
      partitions.${options.partition ?? 'root'} = {
        size = "100%";${options.extra ? `\n        ${options.extra}` : ''}
        content = {
          type = "btrfs";
          subvolumes."/root".mountpoint = "/";
        };
      };
    };
  };
}
`,
  );
  const { result } = await analyzeFolder(folder);
  const host = result.hosts.find((candidate) => candidate.kind === 'nixos') ?? result.hosts[0];
  const device = host.fileSystemAt('/')?.device;
  return { root: device?.state === 'known' ? device.value : (device?.state ?? 'no entry'), btrfs: host.btrfsLayout().filesystems[0]?.device };
}

describe('the device disko gives a GPT partition', () => {
  it('defaults to by-partlabel/disk-<disk>-<partition>', async () => {
    assert.deepEqual(await devices('default', {}), { root: '/dev/disk/by-partlabel/disk-main-root', btrfs: '/dev/disk/by-partlabel/disk-main-root' });
  });

  it("uses the disk's and the partition's name options", async () => {
    assert.deepEqual(await devices('names', { diskName: 'nvme', extra: 'name = "system";' }), { root: '/dev/disk/by-partlabel/disk-nvme-system', btrfs: '/dev/disk/by-partlabel/disk-nvme-system' });
  });

  it('uses an explicit label, device or uuid', async () => {
    assert.equal((await devices('label', { extra: 'label = "nixos";' })).root, '/dev/disk/by-partlabel/nixos');
    assert.equal((await devices('device', { extra: 'device = "/dev/vda2";' })).root, '/dev/vda2');
    assert.equal((await devices('uuid', { extra: 'uuid = "809b3a2b-828a-4730-95e1-75b6343e415a";' })).root, '/dev/disk/by-partuuid/809b3a2b-828a-4730-95e1-75b6343e415a');
  });

  it('is unknown where disko versions spell the label differently (over 36 characters: newer disko hashes it)', async () => {
    const long = await devices('long', { disk: 'a-very-long-disk-name-for-this', partition: 'root-partition' });
    assert.notEqual(long.root, '/dev/disk/by-partlabel/disk-a-very-long-disk-name-for-this-root-partition');
    assert.equal(long.btrfs, undefined);
  });

  it('is unknown when the label is computed', async () => {
    const computed = await devices('computed', { extra: 'label = builtins.getEnv "LABEL";' });
    assert.ok(!computed.root.startsWith('/dev/'), computed.root);
    assert.equal(computed.btrfs, undefined);
  });
});
