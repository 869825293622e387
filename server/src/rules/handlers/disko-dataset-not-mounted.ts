/**
 * # disko-dataset-not-mounted
 *
 * **What.** A disko dataset is meant to be mounted but the host has no `fileSystems` entry for it: disko's own
 * entries are not in effect (the disko file is not imported, or `disko.enableConfig = false`), or the dataset has
 * `options.mountpoint = "legacy"` and no disko `mountpoint`, which makes disko emit nothing (F23). A legacy container
 * (`canmount` set, or a parent of other declared datasets) is not meant to be mounted and is left alone.
 *
 * **Why.** disko emits `fileSystems` only for datasets with a `mountpoint`, and only when its module is part of the
 * host (F26). A legacy dataset is mounted by nothing but a `fileSystems` entry (F13).
 *
 * **At boot.** The data lands on the (ephemeral) root instead of the dataset, and is erased at the next rollback.
 *
 * **btrfs** (RULES.md §H). The same for a disko btrfs subvolume with a `mountpoint` while disko's entries are not in
 * effect: disko would emit `fileSystems.<mountpoint>` with `subvol=<name>` (F60), and nothing else mounts it.
 *
 * **Fix.** Insert the entry disko would emit.
 *
 * ```nix
 * # after
 * fileSystems."/var/log" = { device = "rpool/nixos/var/log"; fsType = "zfs"; };
 * ```
 */
import { subvolumeName } from '../../model/btrfs';
import type { HostModel } from '../../model/host-model';
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

/** disko btrfs subvolumes with a `mountpoint` that nothing mounts because disko's entries are off. */
function unmountedSubvolumes(rule: Rule, host: HostModel): Finding[] {
  if (host.kind !== 'nixos' || host.diskoInEffect() !== false) return [];
  const { entries, open } = host.fileSystems();
  if (open) return [];
  const findings: Finding[] = [];
  // An entry that names the subvolume, or whose options or device we cannot read, may be its mount elsewhere.
  const mountsSubvolume = (name: string) =>
    entries.some((entry) => {
      if (entry.device.state === 'unknown' || entry.fsType.state === 'unknown') return true;
      if (entry.fsType.state !== 'known' || entry.fsType.value !== 'btrfs') return false;
      if (!entry.options) return true;
      const chosen = [...entry.options].reverse().find((option) => option.startsWith('subvol=') || option.startsWith('subvolid='));
      return chosen === undefined || chosen.startsWith('subvolid=') || subvolumeName(chosen.slice('subvol='.length)) === name;
    });
  for (const subvolume of host.btrfsLayout().subvolumes) {
    const mountpoint = subvolume.mountpoint;
    if (mountpoint.state !== 'known' || mountpoint.value === null || !subvolume.origin) continue;
    if (host.hasMountAt(mountpoint.value) !== false || mountsSubvolume(subvolume.name)) continue;
    const why = host.input.diskoImported ? 'disko.enableConfig is false' : 'the disko file is not imported by this host';
    findings.push(
      finding(rule, subvolume.origin, `Nothing mounts the subvolume ${q(subvolume.name)} at ${q(mountpoint.value)}: ${why}, so disko's fileSystems entry is not in effect and the host has none of its own.`, {
        data: { subvolume: subvolume.name, mountPoint: mountpoint.value },
      }),
    );
  }
  return findings;
}

export const rule: Rule = {
  code: 'disko-dataset-not-mounted',
  severity: 'warning',
  summary: 'A disko dataset that should be mounted has no fileSystems entry in the host.',
  facts: ['F23', 'F26', 'F13', 'F60'],
  check(host) {
    const layout = host.layout;
    const findings: Finding[] = unmountedSubvolumes(this, host);
    if (!layout || host.kind !== 'nixos') return findings;
    const inEffect = host.diskoInEffect();
    if (inEffect === false) {
      const { entries, open } = host.fileSystems();
      for (const mount of layout.emitted) {
        if (!mount.dataset || !mount.origin) continue;
        if (host.hasMountAt(mount.mountPoint) !== false) continue;
        // The host mounts the dataset elsewhere (or an unreadable device might be it): it is mounted, just not there.
        if (open || entries.some((entry) => entry.device.state === 'unknown' || (entry.device.state === 'known' && entry.device.value === mount.device))) continue;
        const why = host.input.diskoImported ? 'disko.enableConfig is false' : 'the disko file is not imported by this host';
        findings.push(
          finding(this, mount.origin, `Nothing mounts ${q(mount.device!)} at ${q(mount.mountPoint)}: ${why}, so disko's fileSystems entry is not in effect and the host has none of its own.`, {
            data: { mount },
          }),
        );
      }
    }
    const { entries, open } = host.fileSystems();
    if (open) return findings;
    for (const dataset of layout.datasets) {
      if (dataset.type !== 'zfs_fs' || dataset.zfsMountpoint.state !== 'known' || dataset.zfsMountpoint.value !== 'legacy') continue;
      if (dataset.mountpoint.state !== 'absent' && !(dataset.mountpoint.state === 'known' && dataset.mountpoint.value === null)) continue;
      // A container is not meant to be mounted: canmount=off, or a legacy parent of other declared datasets.
      if (dataset.canmount.state !== 'absent') continue;
      if (layout.datasets.some((child) => child.fullName.startsWith(`${dataset.fullName}/`))) continue;
      // An entry with an unreadable device might be this dataset's; one without a device (disko's ESP) is not.
      if (entries.some((entry) => entry.device.state === 'unknown' || (entry.device.state === 'known' && entry.device.value === dataset.fullName))) continue;
      const origin = dataset.zfsMountpoint.definitions[0]?.origin ?? dataset.origin;
      if (!origin) continue;
      findings.push(finding(this, origin, `${q(dataset.fullName)} has mountpoint=legacy but no disko ${q('mountpoint')} and no fileSystems entry: nothing ever mounts it. Give it a disko ${q('mountpoint')} or write its fileSystems entry.`, { data: { dataset } }));
    }
    return findings;
  },
};
