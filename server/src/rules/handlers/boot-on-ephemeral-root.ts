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
import { finding, related, rootRollback } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'boot-on-ephemeral-root',
  severity: 'warning',
  summary: 'The root is rolled back on every boot and /boot is not a separate mount.',
  facts: ['F14'],
  check(host) {
    const rollback = rootRollback(host);
    if (!rollback?.origin || host.hasMountAt('/boot') !== false) return [];
    return [
      finding(this, rollback.origin, 'The root is rolled back on every boot and /boot is not a separate mount: boot loader entries written after the snapshot are erased.', {
        related: [related(host.fileSystemAt('/')?.origin, 'the root file system')],
      }),
    ];
  },
};
