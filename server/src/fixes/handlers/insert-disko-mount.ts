/**
 * # Insert the fileSystems entry disko would emit
 *
 * When disko's fileSystems are not in effect (the disko file is not imported, or `disko.enableConfig = false`),
 * writes the entry disko would emit for the dataset (F23) into the host, where its other `fileSystems` are written
 * and in their style: `device`, `fsType`, and `options` only when they are more than `[ "defaults" ]` (with
 * `"zfsutil"` unless the dataset is legacy). A mount that holds persistent storage also gets `neededForBoot = true`
 * (disko never sets it, F31). For a legacy dataset without a disko `mountpoint`, the mount point is not written
 * anywhere: the fix offers the persistent storage path of the same name, and the path the name suggests
 * (`rpool/safe/home` → `/home`, a first level that is a container only groups datasets); the persistent storage
 * path is preferred, else the name's path when it is the only choice. Fixes `disko-dataset-not-mounted`.
 *
 * ```nix
 * # before (disko.nix beside, not imported; it mounts rpool/safe/persist at /persist)
 * fileSystems."/nix" = { device = "rpool/local/nix"; fsType = "zfs"; };
 * # after
 * fileSystems."/nix" = { device = "rpool/local/nix"; fsType = "zfs"; };
 * fileSystems."/persist" = { device = "rpool/safe/persist"; fsType = "zfs"; neededForBoot = true; };
 * ```
 */
import path from 'node:path';
import type { Dataset, EmittedMount } from '../../model/disko';
import type { HostModel } from '../../model/host-model';
import type { Workspace } from '../../model/workspace';
import { insertEntry, mountPointByName, persistenceNeedsBoot } from '../filesystem-edits';
import type { FixProvider, QuickFix } from '../types';

function entryFix(host: HostModel, workspace: Workspace, mountPoint: string, device: string, fsType: string, options: string[], preferred: boolean): QuickFix | undefined {
  const edit = insertEntry(host, workspace, mountPoint, {
    device,
    fsType,
    options: options.length === 1 && options[0] === 'defaults' ? undefined : options,
    neededForBoot: persistenceNeedsBoot(host, mountPoint),
  });
  return edit && { title: `Insert fileSystems.${JSON.stringify(mountPoint)} for ${device} (the entry disko would emit)`, preferred, edits: [edit] };
}

/** Mount points for a legacy dataset that has none: a persistent storage path of its name, else its name's path. */
function mountPointsFor(host: HostModel, dataset: Dataset): { mountPoint: string; preferred: boolean }[] {
  const relative = dataset.fullName.split('/').slice(1);
  if (relative.length === 0) return [];
  const choices: { mountPoint: string; preferred: boolean }[] = [];
  const last = relative[relative.length - 1];
  for (const root of host.persistence()) {
    if (!root.conditional && path.posix.basename(root.path) === last && host.hasMountAt(root.path) === false) choices.push({ mountPoint: root.path, preferred: true });
  }
  // `safe/home` → `/home`: a first level that is a container (mountpoint=none, canmount=off) only groups datasets.
  const guessed = host.layout && mountPointByName(host.layout, dataset);
  if (guessed && guessed !== '/' && host.hasMountAt(guessed) === false && !choices.some((choice) => choice.mountPoint === guessed)) choices.push({ mountPoint: guessed, preferred: false });
  // One choice is preferred: the only persistent storage path of that name, else the path of the name alone.
  const backed = choices.filter((choice) => choice.preferred);
  if (backed.length === 0) return choices.map((choice, index) => ({ ...choice, preferred: index === 0 && choices.length === 1 }));
  return choices.map((choice) => ({ ...choice, preferred: choice.preferred && backed.length === 1 }));
}

export const provider: FixProvider = {
  name: 'insert-disko-mount',
  codes: ['disko-dataset-not-mounted'],
  fixes({ finding, host, workspace }) {
    const mount = finding.data?.mount as EmittedMount | undefined;
    if (mount?.device) {
      const fix = entryFix(host, workspace, mount.mountPoint, mount.device, mount.fsType, mount.options, true);
      return fix ? [fix] : [];
    }
    const dataset = finding.data?.dataset as Dataset | undefined;
    if (!dataset?.mountOptions) return [];
    const fixes: QuickFix[] = [];
    for (const choice of mountPointsFor(host, dataset)) {
      // A legacy dataset: no zfsutil (F13, F23).
      const fix = entryFix(host, workspace, choice.mountPoint, dataset.fullName, 'zfs', dataset.mountOptions, choice.preferred);
      if (fix) fixes.push(fix);
    }
    return fixes;
  },
};
