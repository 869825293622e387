/**
 * # Give the dataset a disko mountpoint
 *
 * A dataset for `/nix`, `/var/log`, `/var/lib/nixos` or a persist path that only `zfs-mount.service` mounts is not
 * there in stage 1. With disko's fileSystems in effect, adds `mountpoint = "<path>";` to the dataset, so disko emits
 * its `fileSystems` entry (with `zfsutil`, F23); with disko's fileSystems not in effect, inserts that entry into the
 * host instead. A persist path also gets `neededForBoot = true` (disko never sets it, F31). Fixes
 * `zfs-managed-boot-path`. No fix when it is unknown whether disko's fileSystems are in effect.
 *
 * ```nix
 * # before
 * "local/nix" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "/nix";
 * };
 * # after
 * "local/nix" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "/nix";
 *   mountpoint = "/nix";
 * };
 * ```
 */
import type { Dataset } from '../../model/disko';
import { insertEntry, needsZfsutil, persistenceNeedsBoot, setInHost } from '../filesystem-edits';
import { type TextEdit, nixString, trySetAttribute } from '../nix-edit';
import { datasetAttrset } from '../targets';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'set-disko-mountpoint',
  codes: ['zfs-managed-boot-path'],
  fixes({ finding, host, workspace }) {
    const dataset = finding.data?.dataset as Dataset | undefined;
    const mountPoint = finding.data?.mountPoint as string | undefined;
    const layout = host.layout;
    if (!dataset || !mountPoint || !layout || dataset.isPoolRoot) return [];
    const inEffect = host.diskoInEffect();
    if (inEffect === undefined) return [];
    const neededForBoot = persistenceNeedsBoot(host, mountPoint);
    const edits: TextEdit[] = [];
    if (inEffect) {
      const target = datasetAttrset(workspace, dataset);
      const set = target && trySetAttribute(target.file, target.body, ['mountpoint'], nixString(mountPoint));
      if (!set) return [];
      edits.push(set);
      if (neededForBoot) {
        const needed = setInHost(host, workspace, ['fileSystems', mountPoint, 'neededForBoot'], 'true');
        if (!needed) return [];
        edits.push(needed);
      }
      return [{ title: `Set disko's mountpoint = "${mountPoint}" on ${dataset.fullName} (disko then mounts it in stage 1)`, preferred: true, edits }];
    }
    if (!dataset.mountOptions || needsZfsutil(dataset, layout) === undefined) return [];
    const options = [...dataset.mountOptions, ...(needsZfsutil(dataset, layout) ? ['zfsutil'] : [])];
    const entry = insertEntry(host, workspace, mountPoint, { device: dataset.fullName, fsType: 'zfs', options: options.join() === 'defaults' ? undefined : options, neededForBoot });
    return entry ? [{ title: `Mount ${dataset.fullName} at ${mountPoint} with a fileSystems entry (disko's fileSystems are not in effect)`, preferred: true, edits: [entry] }] : [];
  },
};
