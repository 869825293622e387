/**
 * # zfs-managed-boot-path
 *
 * **What.** A dataset for `/nix`, `/var/log`, `/var/lib/nixos` or a persistence path has a ZFS `mountpoint`
 * property but no `fileSystems` entry: only `zfs-mount.service` mounts it, in stage 2.
 *
 * **Why.** Stage 1 mounts only `fileSystems` entries that are needed for boot (F2, F3); the activation that runs
 * before stage 2 writes to these paths (F4). disko emits an entry only when the dataset has a disko `mountpoint` (F23).
 *
 * **At boot.** Activation writes into the root; the late ZFS mount then hides those files (and for `/nix`, the
 * system does not boot at all).
 *
 * **Fix.** Give the dataset a disko `mountpoint` (disko then emits the entry), or make it legacy with an entry.
 *
 * ```nix
 * # before
 * "local/nix" = { type = "zfs_fs"; options.mountpoint = "/nix"; };
 * # after
 * "local/nix" = { type = "zfs_fs"; mountpoint = "/nix"; options.mountpoint = "legacy"; };
 * ```
 */
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

const BOOT_PATHS = ['/nix', '/nix/store', '/var/log', '/var/lib/nixos'];

export const rule: Rule = {
  code: 'zfs-managed-boot-path',
  severity: 'warning',
  summary: 'A dataset needed early is mounted only by zfs-mount.service in stage 2.',
  facts: ['F2', 'F3', 'F4', 'F23'],
  check(host) {
    const layout = host.layout;
    if (!layout || host.kind !== 'nixos') return [];
    const persistPaths = host.persistence().map((persist) => persist.path);
    const findings: Finding[] = [];
    for (const dataset of layout.datasets) {
      if (dataset.type !== 'zfs_fs' || dataset.zfsMountpoint.state !== 'known') continue;
      const property = dataset.zfsMountpoint.value;
      if (!property.startsWith('/') || !(BOOT_PATHS.includes(property) || persistPaths.includes(property))) continue;
      const emitted = layout.emitted.some((mount) => mount.dataset === dataset) && host.diskoInEffect() !== false;
      if (emitted || host.hasMountAt(property) !== false) continue;
      const origin = dataset.zfsMountpoint.definitions[0]?.origin ?? dataset.origin;
      if (!origin) continue;
      findings.push(finding(this, origin, `${q(dataset.fullName)} is mounted at ${q(property)} only by zfs-mount.service in stage 2, after activation already wrote there. Give it a disko mountpoint (or a fileSystems entry).`, { data: { dataset, mountPoint: property } }));
    }
    return findings;
  },
};
