/**
 * # boot-on-ephemeral-root
 *
 * **What.** The root dataset is rolled back on every boot and `/boot` is not a separate mount.
 *
 * **Why.** The boot loader's kernels, initrds and generation entries live in `/boot`; a rollback of the root also
 * rolls back `/boot` when it is part of the root (F14).
 *
 * **At boot.** After the next rollback `/boot` is the blank snapshot's: `nixos-rebuild` writes entries that vanish,
 * and the boot loader may find no configuration.
 *
 * **Fix.** Mount `/boot` from its own partition (the ESP) or dataset.
 *
 * ```nix
 * fileSystems."/boot" = { device = "/dev/disk/by-label/ESP"; fsType = "vfat"; };
 * ```
 */
import { zfsMountPath } from '../../model/disko';
import { finding, q, related, rootRollback } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'boot-on-ephemeral-root',
  severity: 'warning',
  summary: 'The root is rolled back on every boot and /boot is not a separate mount.',
  facts: ['F14'],
  check(host) {
    const rollback = rootRollback(host);
    if (!rollback?.origin || host.hasMountAt('/boot') !== false) return [];
    // A dataset that ZFS itself mounts at /boot (zfs-mount.service, stage 2) is separate too: the boot loader is
    // installed after it is mounted.
    const layout = host.layout;
    const zfsBoot = layout?.datasets.some((dataset) => {
      if (dataset.type !== 'zfs_fs' || (dataset.canmount.state !== 'absent' && !(dataset.canmount.state === 'known' && dataset.canmount.value === 'on'))) return false;
      return zfsMountPath(dataset, layout)?.path === '/boot';
    });
    if (zfsBoot) return [];
    return [
      finding(this, rollback.origin, `The root is rolled back to ${q(rollback.target!)} on every boot and /boot is not a separate mount: the kernels, initrds and boot loader entries written to /boot after the snapshot are erased. Mount /boot from the ESP or a dataset of its own.`, {
        related: [related(host.fileSystemAt('/')?.origin, 'the root file system')],
      }),
    ];
  },
};
