/**
 * # nix-on-ephemeral-root
 *
 * **What.** The root is erased on every boot (rolled back, or a tmpfs) and `/nix` is not a separate mount.
 *
 * **Why.** NixOS keeps every package and the system itself in `/nix/store`; only `/nix` (and `/boot`) must survive a
 * boot (the seed post, F1). A rollback of the root dataset does not spare a `/nix` that lives inside it (F14).
 *
 * **At boot.** The first reboot erases the Nix store: no init, an emergency shell.
 *
 * **btrfs** (RULES.md §H). A rollback that deletes the root subvolume and restores (or recreates) it erases a `/nix`
 * that is a directory of the root subvolume the same way: `/nix` must be a subvolume of its own, mounted (F60, F61).
 *
 * **Fix.** Give `/nix` its own dataset.
 *
 * ```nix
 * # disko, after
 * "nixos/nix" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/nix"; };
 * ```
 */
import { zfsMountPath } from '../../model/disko';
import { finding, q, related, rootRollback } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'nix-on-ephemeral-root',
  severity: 'error',
  summary: 'The root is erased on every boot and /nix is not a separate mount.',
  facts: ['F1', 'F14'],
  check(host) {
    const rollback = rootRollback(host);
    const tmpfs = host.rootIsTmpfs();
    const btrfs = rollback || tmpfs ? undefined : host.btrfsRootRollback();
    if (!rollback && !tmpfs && !btrfs) return [];
    if (host.hasMountAt('/nix') !== false || host.hasMountAt('/nix/store') !== false) return [];
    // The layout has a /nix of its own that is just not mounted in stage 1: the store is not erased, /nix is missing
    // at boot — zfs-managed-boot-path and disko-dataset-not-mounted say why.
    const layout = host.layout;
    const isNix = (mountPoint: string | undefined) => mountPoint === '/nix' || mountPoint === '/nix/store';
    if (layout?.emitted.some((mount) => isNix(mount.mountPoint))) return [];
    if (layout?.datasets.some((dataset) => dataset.type === 'zfs_fs' && isNix(zfsMountPath(dataset, layout)?.path))) return [];
    // Likewise a btrfs subvolume meant for /nix (or one whose mount point we cannot read).
    const btrfsLayout = host.btrfsLayout();
    if (btrfsLayout.subvolumes.some((subvolume) => subvolume.mountpoint.state !== 'known' || isNix(subvolume.mountpoint.value ?? undefined))) return [];
    if (btrfs) {
      const root = host.rootSubvolume()!;
      const how = btrfs.recreate === 'restore' ? `deleted and restored from ${q(btrfs.blank ?? 'its blank snapshot')}` : 'deleted and created afresh';
      const origin = btrfs.removalOrigin ?? host.fileSystemAt('/')?.origin;
      if (!origin) return [];
      return [
        finding(this, origin, `The root subvolume ${q(root.name)} is ${how} on every boot and /nix is not a separate mount: /nix is a directory of that subvolume, so the Nix store is erased at the first reboot. Give /nix a subvolume of its own (mounted at /nix).`, {
          related: [related(host.fileSystemAt('/')?.origin, 'the root file system')],
        }),
      ];
    }
    const origin = rollback?.origin ?? host.fileSystemAt('/')?.origin;
    if (!origin) return [];
    const how = rollback ? `is rolled back to ${q(rollback.target!)} on every boot` : 'is a tmpfs, empty on every boot,';
    return [
      finding(this, origin, `The root ${how} and /nix is not a separate mount: the Nix store is erased at the first reboot. Give /nix a dataset (or partition) of its own.`, {
        related: [related(host.fileSystemAt('/')?.origin, 'the root file system')],
        data: { pool: host.rootDataset()?.dataset?.pool },
      }),
    ];
  },
};
