/**
 * # boot-on-ephemeral-root
 *
 * **What.** The root dataset is rolled back on every boot and `/boot` is not a separate mount.
 *
 * **Why.** The boot loader's kernels, initrds and generation entries live in `/boot`; a rollback of the root also
 * rolls back `/boot` when it is part of the root (F14). GRUB reads `/boot` from the pool itself (`zfsSupport`), so
 * with `/boot` inside the rolled-back dataset it finds, after the first rollback, the `/boot` of the blank snapshot
 * (F35). A snapshot that disko's hook takes is taken while the dataset is still empty, before anything is installed
 * (F25): that `/boot` holds no `grub.cfg` and no kernel.
 *
 * **At boot.** With GRUB and the blank snapshot taken by disko: the first boot works, the rollback empties `/boot`,
 * and the next boot stops at GRUB's rescue prompt — **error**. Otherwise (systemd-boot, whose `/boot` is the ESP; a
 * snapshot whose contents we cannot tell; GRUB mirrored boots): `nixos-rebuild` writes entries that vanish, and the
 * boot loader may find no configuration — warning.
 *
 * **btrfs and tmpfs** (RULES.md §H). The same for a btrfs root subvolume restored at every boot; for a tmpfs root it
 * is an error when the boot loader's files live on `/` (GRUB, or systemd-boot without a separate ESP mount), F59.
 *
 * **Fix.** Mount `/boot` from its own partition (the ESP) or dataset.
 *
 * ```nix
 * # before: /boot is a directory of the rolled-back rpool/local/root
 * boot.loader.grub.enable = true;
 * # after
 * fileSystems."/boot" = { device = "/dev/disk/by-label/ESP"; fsType = "vfat"; };
 * ```
 */
import { zfsMountPath } from '../../model/disko';
import type { HostModel, Rollback } from '../../model/host-model';
import { finding, q, related, rootRollback } from '../support';
import type { Finding, Rule } from '../types';

/**
 * The boot loader's own files certainly live on the root file system: GRUB is on (its `/boot` is not a separate
 * mount), or systemd-boot is on and its ESP mount point is not a separate mount (RULES.md, clarifications to §H).
 */
function loaderFilesOnRoot(host: HostModel): boolean {
  const grub = host.config.at('boot', 'loader', 'grub', 'enable').bool();
  if (grub.state === 'known' && grub.value) return true;
  const systemdBoot = host.config.at('boot', 'loader', 'systemd-boot', 'enable').bool();
  if (systemdBoot.state !== 'known' || !systemdBoot.value) return false;
  const espNode = host.config.at('boot', 'loader', 'efi', 'efiSysMountPoint').string();
  const esp = espNode.state === 'known' ? espNode.value : espNode.state === 'absent' ? '/boot' : undefined;
  return esp !== undefined && host.hasMountAt(esp) === false;
}

/**
 * A tmpfs root, or a btrfs root subvolume deleted and restored at every boot, with /boot a directory of it. On a
 * tmpfs the boot loader's files are written into RAM (F59: install-grub fails with "Failed to get blkid info … for /
 * on none", nixpkgs#187361): an error when the loader's files certainly live there, else a warning.
 */
function otherEphemeralRoots(rule: Rule, host: HostModel): Finding[] {
  if (host.hasMountAt('/boot') !== false) return [];
  const rootEntry = host.fileSystemAt('/');
  if (host.rootIsTmpfs()) {
    if (!rootEntry?.origin) return [];
    if (loaderFilesOnRoot(host)) {
      return [
        finding(rule, rootEntry.origin, `The root is a tmpfs and /boot is not a separate mount: the boot loader's files would be written into RAM, so installing the boot loader fails ("Failed to get blkid info … for / on none") or nothing survives the next boot. Mount /boot (or the ESP) from a partition of its own.`, {}),
      ];
    }
    return [
      finding(rule, rootEntry.origin, `The root is a tmpfs and /boot is not a separate mount: kernels, initrds and boot loader entries written to /boot are lost at every shutdown. Mount /boot from the ESP or a partition of its own.`, { severity: 'warning' }),
    ];
  }
  const btrfs = host.btrfsRootRollback();
  const root = host.rootSubvolume();
  if (!btrfs?.removalOrigin || !root) return [];
  return [
    finding(rule, btrfs.removalOrigin, `The root subvolume ${q(root.name)} is deleted and ${btrfs.recreate === 'restore' ? `restored from ${q(btrfs.blank ?? 'its blank snapshot')}` : 'created afresh'} on every boot and /boot is a directory of it: the kernels, initrds and boot loader entries written to /boot are erased. Mount /boot from the ESP or a subvolume of its own.`, {
      severity: 'warning',
      related: [related(rootEntry?.origin, 'the root file system')],
    }),
  ];
}

/**
 * GRUB reads the rolled-back `/boot` and that `/boot` is certainly empty: GRUB is known on, no mirrored boots move
 * its files elsewhere, and the snapshot is one a disko hook takes on the freshly created dataset.
 */
function grubReadsEmptyBoot(host: HostModel, rollback: Rollback): boolean {
  const grub = host.config.at('boot', 'loader', 'grub', 'enable').bool();
  if (grub.state !== 'known' || !grub.value) return false;
  if (!host.config.at('boot', 'loader', 'grub', 'mirroredBoots').absent) return false;
  return rollback.dataset !== undefined && rollback.snapshot !== undefined && host.snapshotCreated(rollback.dataset, rollback.snapshot) === true;
}

export const rule: Rule = {
  code: 'boot-on-ephemeral-root',
  severity: 'error',
  summary: 'The root is rolled back on every boot and /boot is not a separate mount (GRUB then finds no configuration).',
  facts: ['F14', 'F35', 'F25', 'F59'],
  check(host) {
    const rollback = rootRollback(host);
    if (!rollback) return otherEphemeralRoots(this, host);
    if (!rollback.origin || host.hasMountAt('/boot') !== false) return [];
    // A dataset that ZFS itself mounts at /boot (zfs-mount.service, stage 2) is separate too: the boot loader is
    // installed after it is mounted.
    const layout = host.layout;
    const zfsBoot = layout?.datasets.some((dataset) => {
      if (dataset.type !== 'zfs_fs' || (dataset.canmount.state !== 'absent' && !(dataset.canmount.state === 'known' && dataset.canmount.value === 'on'))) return false;
      return zfsMountPath(dataset, layout)?.path === '/boot';
    });
    if (zfsBoot) return [];
    if (grubReadsEmptyBoot(host, rollback)) {
      return [
        finding(
          this,
          rollback.origin,
          `The root is rolled back to ${q(rollback.target!)} on every boot and /boot is a directory of it, which GRUB reads from the pool: that snapshot was taken by disko before anything was installed, so after the first rollback /boot holds no grub.cfg and no kernel, and the next boot stops at GRUB's rescue prompt. Mount /boot from the ESP or a dataset of its own.`,
          { related: [related(host.fileSystemAt('/')?.origin, 'the root file system')] },
        ),
      ];
    }
    return [
      finding(this, rollback.origin, `The root is rolled back to ${q(rollback.target!)} on every boot and /boot is not a separate mount: the kernels, initrds and boot loader entries written to /boot after the snapshot are erased. Mount /boot from the ESP or a dataset of its own.`, {
        severity: 'warning',
        related: [related(host.fileSystemAt('/')?.origin, 'the root file system')],
      }),
    ];
  },
};
