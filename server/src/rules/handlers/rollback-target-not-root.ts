/**
 * # rollback-target-not-root
 *
 * **What.** A stage-1 rollback targets a dataset that is not the root file system: either nothing rolls back the
 * root at all, or the dataset rolled back holds `/nix`, `/persist` or a persistence path. Also when the root is no
 * dataset at all (a tmpfs `/`) and the rollback is a leftover that names a dataset the disko layout does not create.
 *
 * **Why.** The root dataset is the one `fileSystems."/".device` names (or the disko dataset mounted at `/`);
 * `zfs rollback` resets exactly the dataset it is given and none of its children (F14).
 *
 * **At boot.** The root keeps its state (nothing is erased) — or, worse, the Nix store or the persisted data is
 * erased on every boot and the machine drops to an emergency shell. A leftover rollback of an undeclared dataset on a
 * tmpfs root fails at every boot with "dataset does not exist" and resets nothing; nothing is lost, so that case is
 * a warning.
 *
 * **btrfs** (RULES.md §H). A btrfs rollback (delete subvolume X, restore or recreate it) where X is not the root
 * subvolume (the `subvol=` of `fileSystems."/"`, F60) and no other pair resets the root subvolume; or X holds `/nix`,
 * `/persist` or a persistence root, which is then erased on every boot.
 *
 * **Fix.** Roll back the root dataset.
 *
 * ```nix
 * # before (fileSystems."/".device = "rpool/local/root")
 * script = "zfs rollback -r rpool/local/nix@blank";
 * # after
 * script = "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import { subvolumeName } from '../../model/btrfs';
import type { HostModel, Rollback } from '../../model/host-model';
import type { Origin } from '../../model/values';
import { finding, poolOf, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-target-not-root',
  severity: 'error',
  summary: 'A stage-1 rollback targets a dataset other than the root file system.',
  facts: ['F14', 'F1'],
  check(host) {
    const root = host.rootDataset();
    const subvolume = host.rootSubvolume();
    if (!root && subvolume) return btrfsTargetsNotRoot(this, host, subvolume.name);
    if (!root) return leftoverRollbacks(this, host);
    const rollbacks = host.certainStage1Rollbacks().filter((rollback) => rollback.dataset !== undefined);
    const rootIsRolledBack = rollbacks.some((rollback) => rollback.dataset === root.name);
    // Persistent storage roots that certainly exist (a conditional one may only keep us silent).
    const persistPaths = host
      .persistence()
      .filter((persist) => !persist.conditional)
      .map((persist) => persist.path);
    // The mount holds persisted data: it is a persistence root, lies below one, or contains one.
    const holdsPersisted = (mountPoint: string) =>
      mountPoint !== '/' && persistPaths.some((persist) => persist === mountPoint || persist.startsWith(`${mountPoint}/`) || mountPoint.startsWith(`${persist}/`));
    const persisted = (mountPoint: string) => {
      const inside = persistPaths.filter((persist) => persist !== mountPoint && persist.startsWith(`${mountPoint}/`));
      return inside.length > 0 ? ` (${inside.map(q).join(', ')})` : '';
    };
    const findings: Finding[] = [];
    for (const rollback of rollbacks) {
      if (rollback.dataset === root.name || !rollback.origin) continue;
      const dataset = rollback.dataset;
      const mount = dataset === undefined ? undefined : host.mountOfDevice(dataset);
      const mountPoint = mount?.mountPoint ?? (dataset === undefined ? host.layout?.emitted.find((emitted) => emitted.device === undefined)?.mountPoint : host.layout && host.emittedOf(dataset)[0]?.mountPoint);
      const precious =
        mountPoint !== undefined && (mountPoint === '/nix' || mountPoint === '/nix/store' || mountPoint === '/persist' || mountPoint.startsWith('/persist/') || holdsPersisted(mountPoint));
      // Rolling back a second dataset (say /home) beside the root is a deliberate choice; say nothing then.
      if (rootIsRolledBack && !precious) continue;
      // `zfs rollback` of a parent never touches its children (F14): the usual reason for rolling back `rpool/local`.
      const parentNote = root.name.startsWith(`${rollback.dataset}/`) ? ` ${q('zfs rollback')} does not recurse into child datasets, so rolling back ${q(rollback.dataset!)} leaves ${q(root.name)} as it was.` : '';
      const consequence = precious
        ? mountPoint === '/nix' || mountPoint === '/nix/store'
          ? `it holds ${q(mountPoint)}, so the Nix store is reset to that snapshot on every boot, taking the installed system with it`
          : `it holds ${q(mountPoint!)}, where persistent data lives${persisted(mountPoint!)}, so that data is reset on every boot`
        : `the root file system is ${q(root.name)}, which is never reset`;
      findings.push(
        finding(this, rollback.origin, `The rollback targets ${q(rollback.dataset!)}, not the root dataset: ${consequence}.${parentNote}`, {
          related: [related(root.origin, `the root file system is ${root.name}`), related(mount?.origin, `${rollback.dataset} is mounted at ${mountPoint}`)],
          data: { rollback, root: root.name },
        }),
      );
    }
    return findings;
  },
};

/** The layout certainly does not create the dataset: its pool is declared with readable names, and neither it nor a child is. */
function undeclared(host: HostModel, dataset: string): boolean {
  const layout = host.layout;
  const pool = layout?.pools.find((candidate) => candidate.name === poolOf(dataset));
  if (!layout || !pool || pool.datasetsOpen) return false;
  // `zfs create -p` creates the parents of a declared dataset (F22): they exist too.
  return !layout.datasets.some((candidate) => candidate.fullName === dataset || candidate.fullName.startsWith(`${dataset}/`));
}

/**
 * The root is known not to be a ZFS dataset (a tmpfs `/`, say): a rollback there never resets it. A rollback of a
 * dataset that holds the store or persisted data erases it; one of a dataset the layout does not create is a
 * leftover that fails at every boot. A rollback of another declared dataset (a scratch dataset) is deliberate.
 */
function leftoverRollbacks(rule: Rule, host: HostModel): ReturnType<Rule['check']> {
  const rootEntry = host.fileSystemAt('/');
  if (!rootEntry || rootEntry.fsType.state !== 'known' || rootEntry.fsType.value === 'zfs') return [];
  const rootType = rootEntry.fsType.value;
  const persistPaths = host
    .persistence()
    .filter((persist) => !persist.conditional)
    .map((persist) => persist.path);
  const findings: Finding[] = [];
  for (const rollback of host.certainStage1Rollbacks() as Rollback[]) {
    if (!rollback.dataset || !rollback.origin) continue;
    const dataset = rollback.dataset;
    const mount = host.mountOfDevice(dataset);
    const mountPoint = mount?.mountPoint ?? (host.layout && host.emittedOf(dataset)[0]?.mountPoint);
    const precious =
      mountPoint !== undefined &&
      mountPoint !== '/' &&
      (mountPoint === '/nix' || mountPoint === '/nix/store' || persistPaths.some((persist) => persist === mountPoint || persist.startsWith(`${mountPoint}/`) || mountPoint.startsWith(`${persist}/`)));
    if (precious) {
      findings.push(
        finding(rule, rollback.origin, `The rollback targets ${q(dataset)}, but the root file system is a ${rootType}, not a dataset: the rollback does not reset the root, and ${q(dataset)} holds ${q(mountPoint!)}, so ${mountPoint!.startsWith('/nix') ? 'the Nix store' : 'the persisted data'} is reset to that snapshot on every boot.`, {
          related: [related(rootEntry.origin, `the root file system is a ${rootType}`), related(mount?.origin, `${dataset} is mounted at ${mountPoint}`)],
          data: { rollback },
        }),
      );
    } else if (undeclared(host, dataset)) {
      findings.push(
        finding(rule, rollback.origin, `The rollback targets ${q(dataset)}, which the disko layout does not create, and the root file system is a ${rootType}, not a dataset: this leftover rollback resets nothing and fails at every boot with "dataset does not exist". Remove it (the ${rootType} root is already empty at every boot).`, {
          severity: 'warning',
          related: [related(rootEntry.origin, `the root file system is a ${rootType}`), related(host.layout?.pools.find((pool) => pool.name === poolOf(dataset))?.origin, `pool ${poolOf(dataset)} is declared here`)],
          data: { rollback },
        }),
      );
    }
  }
  return findings;
}

/** Where a btrfs subvolume is mounted: a `fileSystems` entry whose last `subvol=` names it, else its disko `mountpoint`. */
function subvolumeMountPoint(host: HostModel, name: string): { mountPoint?: string; origin?: Origin } {
  for (const entry of host.fileSystems().entries) {
    if (entry.conditional || entry.fsType.state !== 'known' || entry.fsType.value !== 'btrfs' || !entry.options) continue;
    const chosen = [...entry.options].reverse().find((option) => option.startsWith('subvol='));
    if (chosen && subvolumeName(chosen.slice('subvol='.length)) === name) return { mountPoint: entry.mountPoint, origin: entry.origin };
  }
  const declared = host.btrfsLayout().subvolumes.find((candidate) => candidate.name === name);
  const mountpoint = declared?.mountpoint;
  return mountpoint?.state === 'known' && mountpoint.value !== null ? { mountPoint: mountpoint.value, origin: declared?.origin } : {};
}

/** btrfs rollbacks in stage 1 whose subvolume X is not the root subvolume (one per X). */
function btrfsTargetsNotRoot(rule: Rule, host: HostModel, rootName: string): Finding[] {
  const rollbacks = host
    .btrfsRollbacks()
    .rollbacks.filter((rollback) => !rollback.conditional && rollback.subvolume !== undefined && (rollback.place.kind === 'initrd-unit' || rollback.place.kind === 'hook'));
  const rootIsRolledBack = rollbacks.some((rollback) => rollback.subvolume === rootName);
  const persistPaths = host
    .persistence()
    .filter((persist) => !persist.conditional)
    .map((persist) => persist.path);
  const findings: Finding[] = [];
  for (const rollback of rollbacks) {
    const name = rollback.subvolume!;
    if (name === rootName || !rollback.removalOrigin) continue;
    const { mountPoint, origin } = subvolumeMountPoint(host, name);
    const precious =
      mountPoint !== undefined &&
      mountPoint !== '/' &&
      (mountPoint === '/nix' || mountPoint === '/nix/store' || mountPoint === '/persist' || mountPoint.startsWith('/persist/') || persistPaths.some((persist) => persist === mountPoint || persist.startsWith(`${mountPoint}/`) || mountPoint.startsWith(`${persist}/`)));
    // Resetting a second subvolume (say /home) beside the root is a deliberate choice; say nothing then.
    if (rootIsRolledBack && !precious) continue;
    // A subvolume that is neither declared nor mounted may be a leftover name we cannot place: stay silent.
    if (!precious && !host.btrfsLayout().subvolumes.some((candidate) => candidate.name === name) && mountPoint === undefined) continue;
    const consequence = precious
      ? mountPoint === '/nix' || mountPoint === '/nix/store'
        ? `it holds ${q(mountPoint)}, so the Nix store is erased on every boot, taking the installed system with it`
        : `it holds ${q(mountPoint!)}, where persistent data lives, so that data is erased on every boot`
      : `the root file system is the subvolume ${q(rootName)}, which is never reset`;
    findings.push(
      finding(rule, rollback.removalOrigin, `The rollback deletes the subvolume ${q(name)}, not the root subvolume: ${consequence}.`, {
        related: [related(host.fileSystemAt('/')?.origin, `the root file system is the subvolume ${rootName}`), related(origin, `${name} is mounted at ${mountPoint}`)],
        data: { btrfs: true, subvolume: name, root: rootName },
      }),
    );
  }
  return findings;
}
