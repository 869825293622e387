/**
 * # Name the dataset as the device
 *
 * A zfs `fileSystems` entry needs a dataset name as its `device` (F6). Replaces a `/dev/…` path, a `LABEL=`/`UUID=`
 * spec or a relative path with the dataset the disko layout mounts at that mount point (or, failing that, the one
 * dataset whose ZFS mountpoint is that path, or the one legacy dataset that nothing mounts and whose name is the
 * path, `rpool/safe/persist` for `/persist`); a `label = "…";` binding becomes `device = "…";`. When the entry
 * names a disko dataset but says another `fsType`, that becomes `"zfs"`. In both cases the entry's `"zfsutil"`
 * follows the dataset's ZFS mountpoint property (F13), so the fixed entry also mounts. Fixes
 * `zfs-device-not-dataset`. No fix when no dataset belongs at the mount point, or the value is not a plain string
 * written in the entry itself, or the entry is in a generated file (`hardware-configuration.nix`, a "do not modify"
 * header), where the edit would not outlive the next `nixos-generate-config`.
 *
 * ```nix
 * # before (disko mounts rpool/local/nix at /nix)
 * fileSystems."/nix" = {
 *   device = "/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T000000X-part2";
 *   fsType = "zfs";
 * };
 * # after
 * fileSystems."/nix" = {
 *   device = "rpool/local/nix";
 *   fsType = "zfs";
 * };
 * ```
 */
import { type Dataset, zfsMountPath } from '../../model/disko';
import type { FileSystemEntry } from '../../model/host-model';
import { fieldLiteral, mountPointByName, zfsutilFor } from '../filesystem-edits';
import { type TextEdit, edit, nixString } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'use-dataset-device',
  codes: ['zfs-device-not-dataset'],
  fixes({ finding, host, workspace }) {
    const entry = finding.data?.entry as FileSystemEntry | undefined;
    const layout = host.layout;
    if (!entry || !layout) return [];
    const mountPoint = JSON.stringify(entry.mountPoint);
    if (finding.data?.fsType) {
      // The device is a disko dataset; the fsType is wrong.
      const fsType = fieldLiteral(workspace, finding.origin, 'fsType');
      const written = entry.device.state === 'known' ? entry.device.value : undefined;
      const dataset = layout.datasets.find((candidate) => candidate.fullName === written);
      if (!fsType || !dataset) return [];
      const edits: TextEdit[] = [edit(fsType.file, fsType.literal.startIndex, fsType.literal.endIndex, '"zfs"'), ...(zfsutilFor(host, workspace, entry, dataset) ?? [])];
      return [{ title: `Mount ${dataset.fullName} as fsType = "zfs" (fileSystems.${mountPoint})`, preferred: true, edits }];
    }
    const suggestion = finding.data?.suggestion as string | undefined;
    let dataset: Dataset | undefined = suggestion ? layout.datasets.find((candidate) => candidate.fullName === suggestion) : undefined;
    if (!dataset && !suggestion) {
      // No disko entry here: the one dataset ZFS itself mounts at this path.
      const managed = layout.datasets.filter((candidate) => candidate.type === 'zfs_fs' && !candidate.isPoolRoot && zfsMountPath(candidate, layout)?.path === entry.mountPoint);
      if (managed.length === 1) dataset = managed[0];
    }
    if (!dataset && !suggestion) {
      // Else the one legacy dataset that nothing mounts and whose name is this path (`rpool/safe/persist` for
      // /persist): the entry was written for it, under another name.
      const { entries } = host.fileSystems();
      const named = layout.datasets.filter(
        (candidate) =>
          candidate.type === 'zfs_fs' &&
          !candidate.isPoolRoot &&
          candidate.zfsMountpoint.state === 'known' &&
          candidate.zfsMountpoint.value === 'legacy' &&
          !layout.emitted.some((mount) => mount.dataset === candidate) &&
          !entries.some((other) => other.device.state === 'known' && other.device.value === candidate.fullName) &&
          mountPointByName(layout, candidate) === entry.mountPoint,
      );
      if (named.length === 1) dataset = named[0];
    }
    if (!dataset) return [];
    const edits: TextEdit[] = [];
    const device = fieldLiteral(workspace, finding.origin, 'device');
    if (device) edits.push(edit(device.file, device.literal.startIndex, device.literal.endIndex, nixString(dataset.fullName)));
    else {
      // `label = "nix";` → `device = "rpool/local/nix";`: the last name of the binding and its value.
      const label = fieldLiteral(workspace, finding.origin, 'label');
      const attrs = label?.binding.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
      const name = attrs[attrs.length - 1];
      if (!label || name?.type !== 'identifier') return [];
      edits.push(edit(label.file, name.startIndex, name.endIndex, 'device'), edit(label.file, label.literal.startIndex, label.literal.endIndex, nixString(dataset.fullName)));
    }
    edits.push(...(zfsutilFor(host, workspace, entry, dataset) ?? []));
    return [{ title: `Use the dataset ${dataset.fullName} as the device of fileSystems.${mountPoint}`, preferred: true, edits }];
  },
};
