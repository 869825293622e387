/**
 * # zfs-managed-boot-path
 *
 * **What.** A dataset for `/nix`, `/var/log`, `/var/lib/nixos` or a persistence path has a ZFS `mountpoint`
 * property (its own `options.mountpoint`, or inherited from a parent) but no `fileSystems` entry: only
 * `zfs-mount.service` mounts it, in stage 2.
 *
 * **Why.** Stage 1 mounts only `fileSystems` entries that are needed for boot (F2, F3); the activation that runs
 * before stage 2 writes to these paths (F4). disko emits an entry only when the dataset has a disko `mountpoint` (F23).
 *
 * **At boot.** For `/nix` and `/nix/store` the system does not boot at all: stage 1 switches to a root whose
 * `/nix/store` is empty and finds no init to run — **error**. For the other paths activation writes into the root
 * and the late ZFS mount then hides those files — warning.
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
import { zfsMountPath } from '../../model/disko';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

const BOOT_PATHS = ['/nix', '/nix/store', '/var/log', '/var/lib/nixos'];
/** Without these in stage 1 there is no system to switch to. */
const STORE_PATHS = ['/nix', '/nix/store'];

export const rule: Rule = {
  code: 'zfs-managed-boot-path',
  severity: 'error',
  summary: 'A dataset needed early is mounted only by zfs-mount.service in stage 2 (for /nix the machine does not boot).',
  facts: ['F2', 'F3', 'F4', 'F23'],
  check(host) {
    const layout = host.layout;
    if (!layout || host.kind !== 'nixos') return [];
    const persistPaths = host.persistence().map((persist) => persist.path);
    const findings: Finding[] = [];
    for (const dataset of layout.datasets) {
      if (dataset.type !== 'zfs_fs' || dataset.isPoolRoot) continue;
      // canmount=off/noauto: zfs-mount.service does not mount it at all.
      if (dataset.canmount.state === 'unknown' || (dataset.canmount.state === 'known' && dataset.canmount.value !== 'on')) continue;
      const mounted = zfsMountPath(dataset, layout);
      if (!mounted) continue;
      const mountPoint = mounted.path;
      if (!(BOOT_PATHS.includes(mountPoint) || persistPaths.includes(mountPoint))) continue;
      // disko emits an entry for it: in effect, or disko-dataset-not-mounted says that it is not.
      if (layout.emitted.some((mount) => mount.dataset === dataset)) continue;
      if (host.hasMountAt(mountPoint) !== false) continue;
      const own = mounted.from === dataset;
      const origin = (own && dataset.zfsMountpoint.state === 'known' ? dataset.zfsMountpoint.definitions[0]?.origin : undefined) ?? dataset.origin;
      if (!origin) continue;
      const store = STORE_PATHS.includes(mountPoint);
      const consequence = store ? 'stage 1 cannot find the system in the Nix store and the machine does not boot' : 'activation writes there before it is mounted, into the root';
      const how = own ? `is mounted at ${q(mountPoint)}` : `inherits the mountpoint ${q(mountPoint)} from ${q(mounted.from.fullName)} and is mounted there`;
      findings.push(
        finding(this, origin, `${q(dataset.fullName)} ${how} only by zfs-mount.service in stage 2; no fileSystems entry mounts it in stage 1, so ${consequence}. Give it a disko mountpoint (or a fileSystems entry).`, {
          severity: store ? 'error' : 'warning',
          related: own ? [] : [related(mounted.from.zfsMountpoint.state === 'known' ? mounted.from.zfsMountpoint.definitions[0]?.origin : mounted.from.origin, `the mountpoint ${q(mountPoint)} is inherited from here`)],
          data: { dataset, mountPoint },
        }),
      );
    }
    return findings;
  },
};
