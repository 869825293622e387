/**
 * # Use a declared dataset
 *
 * A zfs `fileSystems` device names a dataset that disko does not declare, so it will not exist on the disk. Offers
 * one fix per declared dataset of that pool (at most five), closest name first by edit distance, each replacing the
 * device string (and adding or removing `"zfsutil"` as that dataset's ZFS mountpoint requires, F13). Datasets that
 * are containers (`mountpoint=none`, `canmount=off`) or are mounted at another mount point come last and are never
 * preferred. The preferred one is the dataset the layout itself mounts at this mount point, else the closest name
 * when it is clearly closer than the next (the only plausible one, or closer by two edits or more), else none: "Fix
 * all" does not toss a coin. Fixes `filesystem-dataset-unknown`. No fix when the device is not a plain string written
 * in the entry itself, or the entry is in a generated file (`hardware-configuration.nix`, a "do not modify" header),
 * where the edit would not outlive the next `nixos-generate-config`.
 *
 * ```nix
 * # before (disko declares rpool/local/nix)
 * fileSystems."/nix".device = "rpool/nix";
 * # after
 * fileSystems."/nix".device = "rpool/local/nix";
 * ```
 */
import type { Dataset } from '../../model/disko';
import type { FileSystemEntry } from '../../model/host-model';
import { fieldLiteral, zfsutilFor } from '../filesystem-edits';
import { edit, nixString } from '../nix-edit';
import type { FixProvider, QuickFix } from '../types';
import { editDistance } from '../../model/edit-distance';

const MAX_FIXES = 5;


export const provider: FixProvider = {
  name: 'use-declared-dataset',
  codes: ['filesystem-dataset-unknown'],
  fixes({ finding, host, workspace }) {
    const entry = finding.data?.entry as FileSystemEntry | undefined;
    const names = finding.data?.candidates as string[] | undefined;
    const layout = host.layout;
    if (!entry || !names || !layout || entry.device.state !== 'known') return [];
    const device = fieldLiteral(workspace, finding.origin, 'device');
    if (!device) return [];
    const current = entry.device.value;
    const mountedElsewhere = (name: string) =>
      host.fileSystems().entries.some((other) => other !== entry && other.device.state === 'known' && other.device.value === name) ||
      layout.emitted.some((mount) => mount.device === name && mount.mountPoint !== entry.mountPoint);
    const container = (dataset: Dataset) =>
      (dataset.zfsMountpoint.state === 'known' && dataset.zfsMountpoint.value === 'none') || (dataset.canmount.state === 'known' && dataset.canmount.value === 'off');
    const here = layout.emitted.find((mount) => mount.mountPoint === entry.mountPoint && mount.dataset)?.device;
    const ranked = names
      .map((name) => layout.datasets.find((dataset) => dataset.fullName === name))
      .filter((dataset): dataset is Dataset => dataset !== undefined)
      .map((dataset) => ({ dataset, distance: editDistance(current, dataset.fullName), unlikely: container(dataset) || mountedElsewhere(dataset.fullName) }))
      .sort((a, b) => Number(a.unlikely) - Number(b.unlikely) || a.distance - b.distance || a.dataset.fullName.localeCompare(b.dataset.fullName))
      .slice(0, MAX_FIXES);
    const likely = ranked.filter((item) => !item.unlikely);
    // Clearly closest: the only plausible one, or closer than the next by two edits or more (a typo, not a coin toss).
    const clearlyClosest = likely.length > 0 && (likely.length === 1 || likely[1].distance - likely[0].distance >= 2) ? likely[0].dataset.fullName : undefined;
    const preferred = here && ranked.some((item) => item.dataset.fullName === here) ? here : clearlyClosest;
    const fixes: QuickFix[] = [];
    for (const { dataset } of ranked) {
      const zfsutil = zfsutilFor(host, workspace, entry, dataset) ?? [];
      fixes.push({
        title: `Use the declared dataset ${dataset.fullName}`,
        preferred: dataset.fullName === preferred,
        edits: [edit(device.file, device.literal.startIndex, device.literal.endIndex, nixString(dataset.fullName)), ...zfsutil],
      });
    }
    return fixes;
  },
};
