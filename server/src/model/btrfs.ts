/**
 * The btrfs half of a disko layout: every `type = "btrfs"` content, its subvolumes and the snapshots its hooks take
 * (F60). disko creates a subvolume per `subvolumes.<attr>` (named by `name`, default the attribute name; a name with
 * `/` is nested by name, its parent directories made with `mkdir -p`), and emits for each one with a `mountpoint`
 * `fileSystems.<mountpoint> = { device; fsType = "btrfs"; options = mountOptions ++ [ "subvol=<name>" ]; }`.
 *
 * Names are compared after stripping one leading `/` (`/root` and `root` are the same subvolume, RULES.md E0).
 * The snapshots S are the `btrfs subvolume snapshot [-r] <m>/<A> <m>/<B>` commands in a btrfs content's hooks, where
 * `<m>` is a mount point of the hook's own script (a `mount … <m>` target or a variable it assigns).
 */
import type { ConfigNode, Resolved } from './config';
import { type DiskoHook, HOOK_NAMES, type TableParent, diskParent, gptPartitionDevice, scriptText } from './disko';
import { btrfsInvocations, mountRoots, pathUnder } from './btrfs-rollback';
import { originOfRange } from './strings';
import type { Definition } from './config';
import { type Origin, type StringValue, stringText } from './values';

export interface BtrfsSubvolume {
  /** The subvolume's name without a leading `/`. */
  name: string;
  attrName: string;
  mountpoint: Resolved<string | null>;
  filesystem: BtrfsFilesystem;
  node: ConfigNode;
  /** Where the subvolume is declared (its attribute name). */
  origin?: Origin;
}

export interface BtrfsFilesystem {
  node: ConfigNode;
  /** The block device, when known: `device`, else the inside of a disko `luks` (`/dev/mapper/<name>`). */
  device?: string;
  /** The disko luks name the file system lies in, when it lies in one. */
  luksName?: string;
  subvolumes: BtrfsSubvolume[];
  /** A subvolume name or mountpoint we could not read. */
  subvolumesOpen: boolean;
  hooks: DiskoHook[];
  origin?: Origin;
}

export interface BtrfsSnapshotCreation {
  /** The subvolume snapshotted (A), without a leading `/`. */
  source: string;
  /** The snapshot created (B), without a leading `/`. */
  snapshot: string;
  readOnly: boolean;
  /** Not guarded: a re-run of `disko --mode format` aborts on it (F25, F61 a). */
  bare: boolean;
  filesystem: BtrfsFilesystem;
  hook: DiskoHook['name'];
  /** The snapshot operand (B). */
  origin?: Origin;
  /** The whole command. */
  commandOrigin?: Origin;
  /** The text of the mount point prefix (`$MNTPOINT`, `/mnt`), for fixes that write a guard. */
  mountRoot: string;
  definition: Definition;
}

export interface BtrfsLayout {
  filesystems: BtrfsFilesystem[];
  subvolumes: BtrfsSubvolume[];
  snapshots: BtrfsSnapshotCreation[];
  /** A hook could not be read completely, or took a snapshot we could not name: more snapshots may exist. */
  snapshotsOpen: boolean;
  /** Some disko content could not be read: more btrfs file systems may exist. */
  open: boolean;
}

/** Strips one leading `/` (and trailing ones), so `/root` and `root` compare equal. */
export function subvolumeName(name: string): string {
  return name.replace(/^\//, '').replace(/\/+$/, '');
}

function readFilesystem(node: ConfigNode, device: string | undefined, luksName: string | undefined): BtrfsFilesystem {
  const ownDevice = node.child('device').string();
  const filesystem: BtrfsFilesystem = {
    node,
    device: ownDevice.state === 'known' ? ownDevice.value : ownDevice.state === 'absent' ? device : undefined,
    luksName: ownDevice.state === 'absent' ? luksName : undefined,
    subvolumes: [],
    subvolumesOpen: false,
    hooks: HOOK_NAMES.map((name) => {
      const lines = node.child(name).lines();
      return { name, fragments: lines.fragments, open: lines.open };
    }),
    origin: node.definitions.find((definition) => definition.keyOrigin)?.keyOrigin,
  };
  const subvolumes = node.child('subvolumes');
  filesystem.subvolumesOpen = subvolumes.unknownNames().length > 0;
  for (const attrName of subvolumes.childNames().sort()) {
    const subvolume = subvolumes.child(attrName);
    const name = subvolume.child('name').string();
    if (name.state === 'unknown') {
      filesystem.subvolumesOpen = true;
      continue;
    }
    const mountpointNode = subvolume.child('mountpoint');
    const raw = mountpointNode.scalar();
    let mountpoint: Resolved<string | null>;
    if (raw.state !== 'known') mountpoint = raw;
    else if (raw.value.kind === 'null') mountpoint = { state: 'known', value: null, definitions: raw.definitions };
    else {
      const text = stringText(raw.value);
      mountpoint = text === undefined ? { state: 'unknown', what: `${mountpointNode.path.join('.')} is computed`, origin: raw.definitions[0].origin } : { state: 'known', value: text, definitions: raw.definitions };
    }
    if (mountpoint.state === 'unknown') filesystem.subvolumesOpen = true;
    filesystem.subvolumes.push({
      name: subvolumeName(name.state === 'known' ? name.value : attrName),
      attrName,
      mountpoint,
      filesystem,
      node: subvolume,
      origin: subvolume.definitions.find((definition) => definition.keyOrigin)?.keyOrigin,
    });
  }
  return filesystem;
}

/** Walks disko content (partitions, luks, LVM, mdadm) to every btrfs file system. */
function walk(node: ConfigNode, found: BtrfsFilesystem[], device: string | undefined, luksName: string | undefined, depth = 0, parent?: TableParent): boolean {
  if (depth > 12) return true;
  let open = node.open;
  const type = node.child('type').string();
  if (type.state === 'unknown') open = true;
  const typeName = type.state === 'known' ? type.value : undefined;
  if (typeName === 'luks') {
    const name = node.child('name').string();
    luksName = name.state === 'known' ? name.value : undefined;
    device = luksName === undefined ? undefined : `/dev/mapper/${luksName}`;
  }
  // Only a luks passes its device to its content, and a disk's GPT table to its partitions' contents
  // (`gptPartitionDevice`): below anything else (lvm_pv, mdraid) the device is one we do not compute.
  if (typeName === 'btrfs') found.push(readFilesystem(node, device, luksName));
  const content = node.child('content');
  if (!content.absent) open = walk(content, found, typeName === 'luks' ? device : undefined, typeName === 'luks' ? luksName : undefined, depth + 1) || open;
  const partitions = node.child('partitions');
  if (!partitions.absent) {
    open ||= partitions.unknownNames().length > 0;
    for (const name of partitions.childNames()) {
      const partition = partitions.child(name).child('content');
      if (!partition.absent) open = walk(partition, found, gptPartitionDevice(node, name, parent), undefined, depth + 1) || open;
    }
  }
  return open;
}

function snapshotsOf(filesystem: BtrfsFilesystem): { snapshots: BtrfsSnapshotCreation[]; open: boolean } {
  const snapshots: BtrfsSnapshotCreation[] = [];
  let open = false;
  for (const hook of filesystem.hooks) {
    open ||= hook.open;
    for (const definition of hook.fragments) {
      if (definition.value.kind !== 'string') continue;
      const value = definition.value as StringValue;
      const text = scriptText(value);
      const roots = mountRoots(text);
      for (const invocation of btrfsInvocations(text)) {
        if (invocation.subcommand !== 'snapshot') continue;
        const [sourceWord, targetWord] = invocation.operands;
        const source = sourceWord && pathUnder(sourceWord, roots);
        const target = targetWord && pathUnder(targetWord, roots);
        if (!source || !target || source.name === undefined || target.name === undefined || source.root !== target.root) {
          open = true;
          continue;
        }
        snapshots.push({
          source: source.name,
          snapshot: target.name,
          readOnly: invocation.flags.some((flag) => flag.text === '-r'),
          bare: invocation.command.bare,
          filesystem,
          hook: hook.name,
          origin: originOfRange(value, targetWord.start, targetWord.end) ?? definition.origin,
          commandOrigin: originOfRange(value, invocation.command.start, invocation.command.end) ?? definition.origin,
          mountRoot: source.root,
          definition,
        });
      }
    }
  }
  return { snapshots, open };
}

export function readBtrfsLayout(devices: ConfigNode | undefined): BtrfsLayout {
  const filesystems: BtrfsFilesystem[] = [];
  let open = false;
  if (devices) {
    open = devices.open;
    for (const group of ['disk', 'mdadm']) {
      const groupNode = devices.child(group);
      open ||= groupNode.unknownNames().length > 0;
      for (const name of groupNode.childNames()) open = walk(groupNode.child(name).child('content'), filesystems, undefined, undefined, 0, group === 'disk' ? diskParent(groupNode.child(name), name) : undefined) || open;
    }
    const volumeGroups = devices.child('lvm_vg');
    open ||= volumeGroups.unknownNames().length > 0;
    for (const name of volumeGroups.childNames()) {
      const lvs = volumeGroups.child(name).child('lvs');
      for (const lv of lvs.childNames()) open = walk(lvs.child(lv).child('content'), filesystems, undefined, undefined) || open;
    }
  }
  const snapshots: BtrfsSnapshotCreation[] = [];
  let snapshotsOpen = false;
  for (const filesystem of filesystems) {
    const found = snapshotsOf(filesystem);
    snapshots.push(...found.snapshots);
    snapshotsOpen ||= found.open;
  }
  return { filesystems, subvolumes: filesystems.flatMap((filesystem) => filesystem.subvolumes), snapshots, snapshotsOpen, open };
}

export interface RootSubvolume {
  /** ROOTSV without a leading `/`. */
  name: string;
  /** The disko subvolume of that name, when disko declares it. */
  subvolume?: BtrfsSubvolume;
  /** Where the name is written: the `subvol=` option by hand, else the disko subvolume. */
  origin?: Origin;
}

/**
 * ROOTSV (RULES.md E0): the subvolume of `fileSystems."/"` read from its last `subvol=` option (disko emits one,
 * F60). Undefined when `/` is not btrfs, its options cannot be read, or it names a `subvolid=` or no subvolume at all
 * (the default subvolume, which `btrfs subvolume set-default` may have changed).
 */
export function rootSubvolumeOf(
  root: { fsType: Resolved<string>; options: string[] | undefined; node: ConfigNode } | undefined,
  layout: BtrfsLayout,
): RootSubvolume | undefined {
  if (!root || root.fsType.state !== 'known' || root.fsType.value !== 'btrfs' || !root.options) return undefined;
  const chosen = [...root.options].reverse().find((option) => option.startsWith('subvol=') || option.startsWith('subvolid='));
  if (!chosen || chosen.startsWith('subvolid=')) return undefined;
  const name = subvolumeName(chosen.slice('subvol='.length));
  if (name === '') return undefined;
  const subvolume = layout.subvolumes.find((candidate) => candidate.name === name && candidate.mountpoint.state === 'known' && candidate.mountpoint.value === '/');
  // A hand-written option points at itself; disko's at the subvolume.
  const written = root.node.child('options').definitions.find((definition) => definition.synthetic !== 'disko');
  return { name, subvolume, origin: written ? (written.origin ?? written.keyOrigin) : (subvolume?.origin ?? subvolume?.mountpoint.state === 'known' ? subvolume?.origin : undefined) };
}
