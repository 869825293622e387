/**
 * What a host says about one btrfs subvolume and about a tmpfs root (RULES.md §F, §G), three-valued, for the hover,
 * go to definition and the layout view alike: where disko declares the subvolume, which `fileSystems` entries mount it
 * (their last `subvol=` option, F60), which blank snapshots disko's hooks take of it, which rollbacks delete it and
 * restore it, and from all of that whether its contents are erased on every boot or persist.
 *
 * A rollback erases a subvolume only where it runs: an initrd unit needs systemd in stage 1, a scripted hook the
 * scripted initrd (the same reading as the ZFS facts and EPH, RULES.md clarifications). A subvolume nested by name
 * inside an erased one is deleted with it when the rollback first deletes nested subvolumes (F61 d).
 */
import type { BtrfsFilesystem, BtrfsSnapshotCreation, BtrfsSubvolume } from '../model/btrfs';
import { subvolumeName } from '../model/btrfs';
import type { BtrfsRollback } from '../model/btrfs-rollback';
import type { FileSystemEntry, HostModel } from '../model/host-model';
import { type TmpfsRoot, tmpfsRootOf } from '../model/tmpfs';
import type { Origin } from '../model/values';
import type { Fact } from './facts';

export type SubvolumeFate = 'erased' | 'persisted' | 'unknown';

export interface SubvolumeFacts {
  host: HostModel;
  /** Without a leading `/`. */
  name: string;
  /** disko's declarations of a subvolume of that name (one per btrfs file system that has one). */
  declarations: BtrfsSubvolume[];
  /** Declared by disko: undefined when a btrfs layout is partly unreadable, or the host has none. */
  declared: boolean | undefined;
  /** disko hooks that create it as a snapshot of another subvolume (it is a blank snapshot). */
  snapshotOf: BtrfsSnapshotCreation[];
  /** disko hooks that snapshot it. */
  snapshots: BtrfsSnapshotCreation[];
  /** fileSystems entries whose (last) `subvol=` option names it. */
  mounts: FileSystemEntry[];
  /** Rollbacks that delete it (each a delete/restore or delete/create pair). */
  rollbacks: BtrfsRollback[];
  /** Rollbacks that restore another subvolume from it. */
  restores: BtrfsRollback[];
  fate: Fact<SubvolumeFate> & { rollback?: BtrfsRollback };
}

/** Where a btrfs rollback runs, in Markdown. */
export function btrfsRollbackPlace(rollback: BtrfsRollback): string {
  switch (rollback.place.kind) {
    case 'initrd-unit':
      return `initrd unit \`${rollback.place.unit.name}\``;
    case 'stage2-unit':
      return `stage-2 unit \`${rollback.place.unit.name}\``;
    case 'hook':
      return `\`boot.initrd.${rollback.place.hook}\``;
    case 'activation':
      return `activation script \`${rollback.place.name}\``;
  }
}

/**
 * The subvolume a btrfs `fileSystems` entry mounts: its last `subvol=` option (F60). Null when the entry is btrfs but
 * names no subvolume by name (none, or `subvolid=`: the default subvolume, which `set-default` may have changed);
 * undefined when it is not btrfs or its options cannot be read.
 */
export function subvolumeOfEntry(entry: FileSystemEntry): string | null | undefined {
  if (entry.fsType.state !== 'known' || entry.fsType.value !== 'btrfs' || !entry.options) return undefined;
  const chosen = [...entry.options].reverse().find((option) => option.startsWith('subvol=') || option.startsWith('subvolid='));
  if (!chosen || chosen.startsWith('subvolid=')) return null;
  const name = subvolumeName(chosen.slice('subvol='.length));
  return name === '' ? null : name;
}

/** Whether a rollback runs at every boot: not conditional, and in the stage-1 mechanism the host uses. */
export function rollbackRuns(host: HostModel, rollback: BtrfsRollback): boolean | undefined {
  if (rollback.conditional) return undefined;
  const systemd = host.systemdInitrd().state;
  if (rollback.place.kind === 'initrd-unit') return systemd === 'unknown' ? undefined : systemd === 'on';
  if (rollback.place.kind === 'hook') return systemd === 'unknown' ? undefined : systemd === 'off';
  // Stage-2 units and activation scripts reset the root after it is in use (rollback-after-mount): not a reset.
  return false;
}

function eraseReason(rollback: BtrfsRollback): string {
  const again = rollback.recreate === 'restore' ? (rollback.blank ? `restored from \`${rollback.blank}\`` : 'restored from a snapshot') : 'created afresh';
  return `deleted and ${again} by ${btrfsRollbackPlace(rollback)} on every boot`;
}

export function subvolumeFacts(host: HostModel, rawName: string): SubvolumeFacts {
  const name = subvolumeName(rawName);
  const layout = host.btrfsLayout();
  const declarations = layout.subvolumes.filter((subvolume) => subvolume.name === name);
  const snapshotOf = layout.snapshots.filter((creation) => creation.snapshot === name);
  const snapshots = layout.snapshots.filter((creation) => creation.source === name);
  const { rollbacks: all, open: rollbacksOpen } = host.btrfsRollbacks();
  const rollbacks = all.filter((rollback) => rollback.subvolume === name);
  const restores = all.filter((rollback) => rollback.recreate === 'restore' && rollback.blank === name);
  const mounts = host.fileSystems().entries.filter((entry) => !entry.conditional && subvolumeOfEntry(entry) === name);
  const declared = declarations.length > 0 || snapshotOf.length > 0 ? true : !host.input.diskoDevices || layout.open || layout.filesystems.some((filesystem) => filesystem.subvolumesOpen) ? undefined : false;

  let fate: SubvolumeFacts['fate'];
  const running = rollbacks.find((rollback) => rollbackRuns(host, rollback) === true);
  const doubtful = rollbacks.find((rollback) => rollbackRuns(host, rollback) === undefined);
  // A subvolume nested by name in one a rollback erases, when that rollback first deletes the nested ones (F61 d).
  const parent = all.find((rollback) => rollback.subvolume !== undefined && name.startsWith(`${rollback.subvolume}/`) && rollback.deletesNested && rollback.removal !== 'move' && rollbackRuns(host, rollback) === true);
  if (running) fate = { state: 'erased', reason: eraseReason(running), origin: running.removalOrigin, rollback: running };
  else if (parent) fate = { state: 'erased', reason: `nested in \`${parent.subvolume}\`, whose nested subvolumes ${btrfsRollbackPlace(parent)} deletes on every boot (F61)`, origin: parent.removalOrigin, rollback: parent };
  else if (doubtful) fate = { state: 'unknown', reason: `${btrfsRollbackPlace(doubtful)} deletes it, but whether that runs at every boot is unknown (a condition, or systemd in stage 1 unknown)`, origin: doubtful.removalOrigin };
  else if (snapshotOf.length > 0) fate = { state: 'persisted', reason: `the blank snapshot of \`${snapshotOf[0].source}\`: rollbacks read it, nothing writes it`, origin: snapshotOf[0].origin };
  else if (rollbacksOpen || all.some((rollback) => rollback.subvolume === undefined)) fate = { state: 'unknown', reason: 'a rollback script cannot be read completely (a computed subvolume name, a loop or an unreadable script): it might delete this subvolume' };
  else if (rollbacks.length > 0) fate = { state: 'persisted', reason: `${btrfsRollbackPlace(rollbacks[0])} deletes it but never runs in this host's stage 1`, origin: rollbacks[0].removalOrigin };
  else fate = { state: 'persisted', reason: 'no rollback deletes it' };
  return { host, name, declarations, declared, snapshotOf, snapshots, mounts, rollbacks, restores, fate };
}

/** Whether the mounts of a subvolume are mounted in stage 1: `not-mounted` when no fileSystems entry names it. */
export function subvolumeStage(host: HostModel, facts: SubvolumeFacts): 'yes' | 'no' | 'unknown' | 'not-mounted' {
  if (facts.mounts.length === 0) return 'not-mounted';
  const needed = facts.mounts.map((entry) => host.neededForBoot(entry));
  return needed.includes(true) ? 'yes' : needed.includes(undefined) ? 'unknown' : 'no';
}

/** The one-line verdict of the layout view and the code lens: "erased on every boot", "persisted · mounted in stage 1", … */
export function subvolumeVerdict(host: HostModel, facts: SubvolumeFacts): string {
  const needed = subvolumeStage(host, facts);
  if (facts.snapshotOf.length > 0 && facts.fate.state === 'persisted') return `blank snapshot of ${facts.snapshotOf[0].source}`;
  if (facts.fate.state === 'erased') return needed === 'yes' || needed === 'not-mounted' ? 'erased on every boot' : `erased on every boot · ${needed === 'no' ? 'mounted in stage 2' : 'stage unknown'}`;
  const fate = facts.fate.state === 'persisted' ? 'persisted' : 'erased or persisted: unknown';
  const stage = needed === 'yes' ? 'mounted in stage 1' : needed === 'no' ? 'mounted in stage 2' : needed === 'unknown' ? 'stage unknown' : 'not mounted';
  return `${fate} · ${stage}`;
}

/** Every subvolume a host names: declared by disko, taken as a snapshot, mounted by `subvol=`, or reset by a rollback. */
export function subvolumeNames(host: HostModel): string[] {
  const names = new Set<string>();
  const layout = host.btrfsLayout();
  for (const subvolume of layout.subvolumes) names.add(subvolume.name);
  for (const creation of layout.snapshots) names.add(creation.snapshot);
  for (const entry of host.fileSystems().entries) {
    const name = !entry.conditional ? subvolumeOfEntry(entry) : undefined;
    if (name) names.add(name);
  }
  for (const rollback of host.btrfsRollbacks().rollbacks) if (rollback.subvolume) names.add(rollback.subvolume);
  return [...names].sort();
}

/** The btrfs file system a subvolume of that name belongs to (the first that declares it). */
export function filesystemOf(host: HostModel, name: string): BtrfsFilesystem | undefined {
  return host.btrfsLayout().filesystems.find((filesystem) => filesystem.subvolumes.some((subvolume) => subvolume.name === name) || host.btrfsLayout().snapshots.some((creation) => creation.filesystem === filesystem && creation.snapshot === name));
}

export interface TmpfsFacts {
  root: TmpfsRoot;
  /** The last `mode=` value, when the options are known and have one. */
  mode?: string;
  /** The mode leaves group/other write on `/` (F58): true, false, or undefined when the options are unknown. */
  worldWritable: boolean | undefined;
  /** The last `size=`/`nr_blocks=` option, when known. */
  size?: string;
  origin?: Origin;
}

/** The tmpfs root of a host with its mode and size (§G), or undefined when `/` is not a tmpfs. */
export function tmpfsFacts(host: HostModel): TmpfsFacts | undefined {
  const root = tmpfsRootOf(host);
  if (!root) return undefined;
  const options = root.options;
  const mode = options ? [...options].reverse().find((option) => option.startsWith('mode='))?.slice('mode='.length) : undefined;
  const size = options ? [...options].reverse().find((option) => option.startsWith('size=') || option.startsWith('nr_blocks=')) : undefined;
  let worldWritable: boolean | undefined;
  if (options) {
    // The kernel default is 1777 (F58); an unreadable octal mode is treated as unknown.
    const bits = mode === undefined ? 0o1777 : /^[0-7]+$/.test(mode) ? parseInt(mode, 8) : undefined;
    worldWritable = bits === undefined ? undefined : (bits & 0o022) !== 0;
  }
  return { root, mode, worldWritable, size, origin: root.optionsOrigin };
}
