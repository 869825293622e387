/**
 * # filesystem-dataset-unknown
 *
 * **What.** A zfs `fileSystems` device names a dataset of a pool that disko manages, but disko does not declare that
 * dataset (nor any dataset below it, which would create it as a parent, F22).
 *
 * **Why.** disko creates exactly the datasets it declares (and their missing parents, with `zfs create -p`); any
 * other name does not exist on the installed disk.
 *
 * **At boot.** "cannot open '…': dataset does not exist" and an emergency shell (for a needed-for-boot mount).
 *
 * **btrfs** (RULES.md §H). A hand-written btrfs `fileSystems` entry (or one written while disko's own entries are off)
 * whose device is a disko btrfs file system and whose `subvol=` names no subvolume disko declares there (nor a snapshot
 * its hooks take, nor a path below a declared subvolume, where systemd or the user may create nested ones): the mount
 * fails with "No such file or directory" (F60).
 *
 * **Fix.** Use a declared name (the quick fix offers the declared datasets), or declare the dataset in disko.
 *
 * ```nix
 * # before (disko declares rpool/nixos/nix)
 * fileSystems."/nix".device = "rpool/nix";
 * # after
 * fileSystems."/nix".device = "rpool/nixos/nix";
 * ```
 */
import { subvolumeName } from '../../model/btrfs';
import type { HostModel } from '../../model/host-model';
import { entryOrigin, finding, poolOf, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** Hand-written btrfs entries on a disko btrfs device whose `subvol=` names nothing disko creates there. */
function unknownSubvolumes(rule: Rule, host: HostModel): Finding[] {
  const layout = host.btrfsLayout();
  if (layout.open || layout.snapshotsOpen) return [];
  const findings: Finding[] = [];
  for (const entry of host.fileSystems().entries) {
    if (entry.conditional || entry.diskoDefinitions.length > 0 || !entry.options) continue;
    if (entry.device.state !== 'known' || entry.fsType.state !== 'known' || entry.fsType.value !== 'btrfs') continue;
    const device = entry.device.value;
    const filesystem = layout.filesystems.find((candidate) => candidate.device === device);
    if (!filesystem || filesystem.subvolumesOpen) continue;
    const chosen = [...entry.options].reverse().find((option) => option.startsWith('subvol=') || option.startsWith('subvolid='));
    if (!chosen?.startsWith('subvol=')) continue;
    const name = subvolumeName(chosen.slice('subvol='.length));
    if (name === '') continue;
    const declared = filesystem.subvolumes.map((subvolume) => subvolume.name);
    const snapshots = layout.snapshots.filter((snapshot) => snapshot.filesystem === filesystem).map((snapshot) => snapshot.snapshot);
    if ([...declared, ...snapshots].some((known) => known === name || name.startsWith(`${known}/`))) continue;
    const origin = entryOrigin(entry, 'options');
    if (!origin) continue;
    const here = filesystem.subvolumes.find((subvolume) => subvolume.mountpoint.state === 'known' && subvolume.mountpoint.value === entry.mountPoint)?.name;
    const hint = here ? `disko mounts ${q(here)} at ${q(entry.mountPoint)}` : `declared: ${declared.map(q).join(', ') || 'none'}`;
    findings.push(
      finding(rule, origin, `Subvolume ${q(name)} is not declared in disko's btrfs file system on ${q(device)}, so it will not exist on the disk and the mount of ${q(entry.mountPoint)} fails (${hint}).`, {
        related: [related(filesystem.origin, `the btrfs file system on ${device} is declared here`)],
        data: { entry, subvolumes: declared },
      }),
    );
  }
  return findings;
}

export const rule: Rule = {
  code: 'filesystem-dataset-unknown',
  severity: 'error',
  summary: 'A zfs fileSystems device names a dataset that disko does not declare.',
  facts: ['F22', 'F6', 'F60'],
  check(host) {
    const layout = host.layout;
    const findings: Finding[] = unknownSubvolumes(this, host);
    if (!layout) return findings;
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional || entry.device.state !== 'known' || entry.fsType.state !== 'known' || entry.fsType.value !== 'zfs') continue;
      const device = entry.device.value;
      const pool = layout.pools.find((candidate) => candidate.name === poolOf(device));
      if (!pool || pool.datasetsOpen) continue;
      const declared = [pool.root, ...pool.datasets].map((dataset) => dataset.fullName);
      if (declared.includes(device) || declared.some((name) => name.startsWith(`${device}/`))) continue;
      if (pool.datasets.some((dataset) => dataset.type === 'unknown')) continue;
      const origin = entryOrigin(entry, 'device');
      if (!origin) continue;
      const candidates = pool.datasets.filter((dataset) => dataset.type === 'zfs_fs').map((dataset) => dataset.fullName);
      // The dataset the layout itself mounts here is the likely intended one.
      const here = host.emittedAt(entry.mountPoint).find((mount) => mount.dataset?.pool === pool)?.device;
      const hint = here ? `the layout mounts ${q(here)} at ${q(entry.mountPoint)}` : `declared: ${candidates.map(q).join(', ') || 'none'}`;
      findings.push(
        finding(this, origin, `Dataset ${q(device)} is not declared in disko's pool ${q(pool.name)}, so it will not exist on the disk (${hint}).`, {
          related: [related(pool.origin, `pool ${pool.name} is declared here`)],
          data: { entry, candidates },
        }),
      );
    }
    return findings;
  },
};
