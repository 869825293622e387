/**
 * The disko half of a host: pools, datasets, the snapshots their hooks create, and the `fileSystems` entries disko
 * emits into the NixOS configuration (F21–F26).
 *
 * disko names a dataset `<pool>/<attribute name>` (the attribute may contain slashes, F22), creates missing parents
 * with `zfs create -p`, and emits `fileSystems.<mountpoint> = { device = "<pool>/<name>"; fsType = "zfs";
 * options = mountOptions ++ [ "zfsutil" unless options.mountpoint = "legacy" ]; }` for every dataset with a
 * `mountpoint`, unless `options.mountpoint = "none"` or `canmount = "off"` (F23). The pool's own root dataset is
 * the `__root` dataset with the pool's `mountpoint`, `rootFsOptions` and `mountOptions` (F21).
 */
import { ConfigNode, DEFAULT_ORDER, DEFAULT_PRIORITY, type Definition, type Resolved } from './config';
import { originOfRange } from './strings';
import { findInvocations, hasFlag, UNKNOWN_CHAR } from './shell';
import { type Origin, type StringValue, type Value, stringText } from './values';

export const HOOK_NAMES = ['preCreateHook', 'postCreateHook', 'preMountHook', 'postMountHook', 'preUnmountHook', 'postUnmountHook'] as const;

export interface DiskoHook {
  name: (typeof HOOK_NAMES)[number];
  fragments: Definition[];
  open: boolean;
}

export interface Dataset {
  /** `rpool/nixos/empty`; for a pool's root dataset, the pool name. */
  fullName: string;
  pool: Pool;
  /** The attribute name under `datasets` (or `__root`). */
  attrName: string;
  type: 'zfs_fs' | 'zfs_volume' | 'unknown';
  isPoolRoot: boolean;
  node: ConfigNode;
  /** disko's `mountpoint` attribute: a path, null/absent, or unknown. */
  mountpoint: Resolved<string | null>;
  /** The ZFS `mountpoint` property from `options.mountpoint` (or `rootFsOptions.mountpoint`). */
  zfsMountpoint: Resolved<string>;
  canmount: Resolved<string>;
  autoSnapshot: Resolved<string>;
  mountOptions: string[] | undefined;
  hooks: DiskoHook[];
  /** Where the dataset is declared (its attribute name). */
  origin?: Origin;
}

export interface Pool {
  name: string;
  attrName: string;
  node: ConfigNode;
  origin?: Origin;
  root: Dataset;
  datasets: Dataset[];
  /** Some datasets of this pool could not be read (computed names, unknown values). */
  datasetsOpen: boolean;
}

export interface SnapshotCreation {
  /** `pool/ds@snap` as written. */
  target: string;
  dataset: string;
  snapshot: string;
  recursive: boolean;
  /** Not guarded: a re-run of `disko --mode format` aborts on it (F25). */
  bare: boolean;
  /** The dataset or pool whose hook runs it. */
  owner: Dataset;
  hook: DiskoHook['name'];
  origin?: Origin;
  /** The whole hook definition, for quick fixes. */
  definition: Definition;
}

/** A mount disko emits into `fileSystems` (zfs datasets and other filesystems it formats). */
export interface EmittedMount {
  mountPoint: string;
  device?: string;
  fsType: string;
  options: string[];
  dataset?: Dataset;
  origin?: Origin;
}

export interface DiskoLayout {
  pools: Pool[];
  datasets: Dataset[];
  snapshots: SnapshotCreation[];
  /** True when a hook could not be read completely, so more snapshots may exist. */
  snapshotsOpen: boolean;
  emitted: EmittedMount[];
  /** Pool, dataset or content names we could not read. */
  open: boolean;
  /** Pool names referenced by disk partitions (`content.type = "zfs"; pool = …`). */
  referencedPools: string[];
  /**
   * Datasets (and pools' own datasets) declared under a computed name — `zpool."${diskName}-zfsos"`,
   * `datasets.${name}` — whose contents are still readable. Their names are unknown, so they are kept out of `pools`
   * and `datasets`: only rules about the shape of their hooks (a bare `zfs snapshot`) read them.
   */
  unnamedDatasets: Dataset[];
}

/** The stand-in for a name we could not compute; it never equals a real dataset name. */
const UNNAMED = UNKNOWN_CHAR;

/**
 * The attribute sets written under computed names below `node` (`zpool.${name} = { … }`), as nodes of their own.
 * A value that is not a plain attribute set (a `lib.mkIf`, a function call) is left out: it stays unknown.
 */
function computedChildren(node: ConfigNode): ConfigNode[] {
  const children: ConfigNode[] = [];
  const parents = node.elementLevel ? node.effective().definitions : node.definitions;
  for (const parent of parents) {
    if (parent.value.kind !== 'attrs') continue;
    for (const unknownKey of parent.value.unknownKeys) {
      const value = unknownKey.thunk.force();
      if (value.kind !== 'attrs') continue;
      const definition: Definition = {
        value,
        file: parent.file,
        conditional: parent.conditional,
        priority: DEFAULT_PRIORITY,
        order: DEFAULT_ORDER,
        keyOrigin: unknownKey.keyOrigin,
        origin: unknownKey.thunk.origin ?? value.origin,
        wrappers: parent.wrappers,
      };
      children.push(new ConfigNode([...node.path, UNNAMED], [definition], []));
    }
  }
  return children;
}

function known<T>(resolved: Resolved<T>): T | undefined {
  return resolved.state === 'known' ? resolved.value : undefined;
}

function nullableString(node: ConfigNode): Resolved<string | null> {
  const resolved = node.scalar();
  if (resolved.state !== 'known') return resolved;
  if (resolved.value.kind === 'null') return { state: 'known', value: null, definitions: resolved.definitions };
  const text = stringText(resolved.value);
  if (text === undefined) return { state: 'unknown', what: `${node.path.join('.')} is computed`, origin: resolved.definitions[0].origin };
  return { state: 'known', value: text, definitions: resolved.definitions };
}

function stringList(node: ConfigNode): string[] | undefined {
  const result = node.list();
  if (result.open) return undefined;
  const items: string[] = [];
  for (const item of result.items) {
    if (item.definition.conditional) return undefined;
    const text = stringText(item.thunk.force());
    if (text === undefined) return undefined;
    items.push(text);
  }
  return items;
}

function hooksOf(node: ConfigNode): DiskoHook[] {
  return HOOK_NAMES.map((name) => {
    const lines = node.child(name).lines();
    return { name, fragments: lines.fragments, open: lines.open };
  });
}

function datasetOf(pool: Pool, node: ConfigNode, attrName: string, isPoolRoot: boolean): Dataset {
  const optionsNode = isPoolRoot ? node.child('rootFsOptions') : node.child('options');
  const nameResolved = isPoolRoot ? undefined : node.child('name').string();
  const name = nameResolved?.state === 'known' ? nameResolved.value : attrName;
  const typeResolved = node.child('type').string();
  const type = isPoolRoot ? 'zfs_fs' : typeResolved.state === 'known' && (typeResolved.value === 'zfs_fs' || typeResolved.value === 'zfs_volume') ? typeResolved.value : typeResolved.state === 'absent' ? 'zfs_fs' : 'unknown';
  const mountOptions = node.child('mountOptions');
  return {
    fullName: isPoolRoot ? pool.name : `${pool.name}/${name}`,
    pool,
    attrName,
    type,
    isPoolRoot,
    node,
    mountpoint: nullableString(node.child('mountpoint')),
    zfsMountpoint: optionsNode.child('mountpoint').string(),
    canmount: optionsNode.child('canmount').string(),
    autoSnapshot: optionsNode.child('com.sun:auto-snapshot').string(),
    mountOptions: mountOptions.absent ? ['defaults'] : stringList(mountOptions),
    hooks: hooksOf(node),
    origin: isPoolRoot ? pool.origin : firstKeyOrigin(node),
  };
}

function firstKeyOrigin(node: ConfigNode): Origin | undefined {
  return node.definitions.find((definition) => definition.keyOrigin)?.keyOrigin;
}

/**
 * The text of a script fragment, with unknown parts replaced by a marker the shell reader understands. An
 * interpolated symbol (`${config.fileSystems."/".device}`, `${pkgs.zfs}`) is unknown text too: its value is not
 * known, only that `${pkgs.zfs}/bin/zfs` still names `zfs`. Positions match `originOfRange`.
 */
export function scriptText(value: StringValue): string {
  return value.pieces.map((piece) => (piece.unknown || piece.symbol ? UNKNOWN_CHAR.repeat(Math.max(1, piece.text.length)) : piece.text)).join('');
}

function snapshotsOf(dataset: Dataset): { snapshots: SnapshotCreation[]; open: boolean } {
  const snapshots: SnapshotCreation[] = [];
  let open = false;
  for (const hook of dataset.hooks) {
    open ||= hook.open;
    for (const fragment of hook.fragments) {
      if (fragment.value.kind !== 'string') continue;
      const text = scriptText(fragment.value);
      for (const invocation of findInvocations(text, 'zfs')) {
        if (invocation.subcommand !== 'snapshot') continue;
        for (const operand of invocation.operands) {
          if (operand.dynamic || operand.text.includes(UNKNOWN_CHAR)) {
            open = true;
            continue;
          }
          const at = operand.text.indexOf('@');
          if (at <= 0) continue;
          snapshots.push({
            target: operand.text,
            dataset: operand.text.slice(0, at),
            snapshot: operand.text.slice(at + 1),
            recursive: hasFlag(invocation.flags, 'r'),
            bare: invocation.command.bare,
            owner: dataset,
            hook: hook.name,
            origin: originOfRange(fragment.value, operand.start, operand.end) ?? fragment.origin,
            definition: fragment,
          });
        }
      }
    }
  }
  return { snapshots, open };
}

/** True when `zfs snapshot` of `created` also creates `dataset@snap` (same or, with -r, an ancestor). */
export function snapshotCovers(created: SnapshotCreation, dataset: string, snapshot: string): boolean {
  if (created.snapshot !== snapshot) return false;
  if (created.dataset === dataset) return true;
  return created.recursive && dataset.startsWith(`${created.dataset}/`);
}

/** The disk a partition table lies on: its `type` (`disk`) and `name` (default the attribute name). */
export interface TableParent {
  type: 'disk';
  name: string;
}

/** The parent a disk's content gets, or undefined when its `name` cannot be read. */
export function diskParent(disk: ConfigNode, attrName: string): TableParent | undefined {
  const name = disk.child('name').string();
  if (name.state === 'unknown') return undefined;
  return { type: 'disk', name: name.state === 'known' ? name.value : attrName };
}

/**
 * The device disko gives a GPT partition (lib/types/gpt.nix @878ec37, F60): its own `device`, else
 * `/dev/disk/by-partuuid/<uuid>` when a `uuid` is set, else `/dev/disk/by-partlabel/<label>` with the label defaulting
 * to `<disk type>-<disk name>-<partition name>` (`disk-main-root`). Undefined whenever we cannot be sure: an unreadable
 * option, a table that is not a disk's GPT (mdadm partitions get a `by-id/md-name-any:` name), or a default label that
 * disko versions spell differently — longer than 36 characters (newer disko hashes it) or holding a character newer
 * disko escapes as `\xNN` for udev.
 */
export function gptPartitionDevice(table: ConfigNode, partitionAttr: string, parent: TableParent | undefined): string | undefined {
  const type = table.child('type').string();
  if (type.state !== 'known' || type.value !== 'gpt') return undefined;
  const partition = table.child('partitions').child(partitionAttr);
  const device = partition.child('device').string();
  if (device.state !== 'absent') return device.state === 'known' ? device.value : undefined;
  const uuid = nullableString(partition.child('uuid'));
  if (uuid.state === 'unknown') return undefined;
  if (uuid.state === 'known' && uuid.value !== null) return `/dev/disk/by-partuuid/${uuid.value}`;
  if (!parent) return undefined;
  const label = partition.child('label').string();
  if (label.state === 'unknown') return undefined;
  let text: string;
  if (label.state === 'known') text = label.value;
  else {
    const name = partition.child('name').string();
    if (name.state === 'unknown') return undefined;
    text = `${parent.type}-${parent.name}-${name.state === 'known' ? name.value : partitionAttr}`;
    if (text.length > 36) return undefined;
  }
  if (/[^0-9A-Za-z#+,\-.:=@_/]/.test(text)) return undefined;
  return `/dev/disk/by-partlabel/${text}`;
}

/** What disko emits for one dataset (F23), or undefined when it emits nothing or we cannot tell. */
function emittedFor(dataset: Dataset): EmittedMount | 'none' | undefined {
  if (dataset.type !== 'zfs_fs') return dataset.type === 'zfs_volume' ? 'none' : undefined;
  const mountpoint = dataset.mountpoint;
  if (mountpoint.state === 'absent' || (mountpoint.state === 'known' && mountpoint.value === null)) return 'none';
  if (mountpoint.state !== 'known' || mountpoint.value === null) return undefined;
  const property = dataset.zfsMountpoint;
  const canmount = dataset.canmount;
  if (property.state === 'unknown' || canmount.state === 'unknown') return undefined;
  if (known(property) === 'none' || known(canmount) === 'off') return 'none';
  if (!dataset.mountOptions) return undefined;
  const legacy = known(property) === 'legacy';
  return {
    mountPoint: mountpoint.value,
    device: dataset.fullName,
    fsType: 'zfs',
    options: [...dataset.mountOptions, ...(legacy ? [] : ['zfsutil'])],
    dataset,
    origin: mountpoint.definitions[0]?.origin ?? dataset.origin,
  };
}

/**
 * Mounts of non-ZFS contents: filesystems on partitions, LUKS, LVM, mdadm, btrfs subvolumes, tmpfs nodev.
 * `device` is the block device the content lies on when we know it: the inside of a disko `luks`, which disko
 * opens as `/dev/mapper/<name>`, or a disk's GPT partition (`gptPartitionDevice`, F60); a btrfs subvolume's entry
 * carries it as its `device`.
 */
function contentMounts(node: ConfigNode, emitted: EmittedMount[], referencedPools: string[], depth = 0, device?: string, parent?: TableParent): boolean {
  if (depth > 12) return true;
  let open = node.open;
  const type = node.child('type').string();
  const typeName = type.state === 'known' ? type.value : undefined;
  if (type.state === 'unknown') open = true;
  if (typeName === 'luks') {
    const name = node.child('name').string();
    device = name.state === 'known' ? `/dev/mapper/${name.value}` : undefined;
  }
  if (typeName === 'zfs') {
    const pool = node.child('pool').string();
    if (pool.state === 'known') referencedPools.push(pool.value);
  }
  if (typeName === 'filesystem' || typeName === 'btrfs') {
    const mountpoint = nullableString(node.child('mountpoint'));
    const format = node.child('format').string();
    if (mountpoint.state === 'known' && mountpoint.value) {
      emitted.push({
        mountPoint: mountpoint.value,
        fsType: typeName === 'btrfs' ? 'btrfs' : format.state === 'known' ? format.value : 'unknown',
        options: stringList(node.child('mountOptions')) ?? [],
        origin: mountpoint.definitions[0]?.origin,
      });
    } else if (mountpoint.state === 'unknown') open = true;
  }
  if (typeName === 'btrfs') {
    // disko emits `options = subvol.mountOptions ++ [ "subvol=${subvol.name}" ]` and `device = config.device`
    // (lib/types/btrfs.nix, F60); mountOptions default to [ "defaults" ].
    const ownDevice = node.child('device').string();
    const subvolumeDevice = ownDevice.state === 'known' ? ownDevice.value : ownDevice.state === 'absent' ? device : undefined;
    const subvolumes = node.child('subvolumes');
    for (const name of subvolumes.childNames()) {
      const subvolume = subvolumes.child(name);
      const mountpoint = nullableString(subvolume.child('mountpoint'));
      const subvolumeName = subvolume.child('name').string();
      if (mountpoint.state === 'known' && mountpoint.value) {
        const optionsNode = subvolume.child('mountOptions');
        const options = optionsNode.absent ? ['defaults'] : (stringList(optionsNode) ?? []);
        if (subvolumeName.state !== 'unknown') options.push(`subvol=${subvolumeName.state === 'known' ? subvolumeName.value : name}`);
        emitted.push({ mountPoint: mountpoint.value, device: subvolumeDevice, fsType: 'btrfs', options, origin: mountpoint.definitions[0]?.origin });
      } else if (mountpoint.state === 'unknown') open = true;
    }
  }
  const content = node.child('content');
  if (!content.absent) open = contentMounts(content, emitted, referencedPools, depth + 1, device) || open;
  const partitions = node.child('partitions');
  if (!partitions.absent) {
    for (const name of partitions.childNames()) {
      const partition = partitions.child(name).child('content');
      if (!partition.absent) open = contentMounts(partition, emitted, referencedPools, depth + 1, gptPartitionDevice(node, name, parent)) || open;
    }
    open ||= partitions.open;
  }
  return open;
}

export function readDiskoLayout(devices: ConfigNode): DiskoLayout {
  const pools: Pool[] = [];
  const datasets: Dataset[] = [];
  const snapshots: SnapshotCreation[] = [];
  const emitted: EmittedMount[] = [];
  const referencedPools: string[] = [];
  const unnamedDatasets: Dataset[] = [];
  let open = devices.open;
  let snapshotsOpen = false;

  const zpools = devices.child('zpool');
  open ||= zpools.unknownNames().length > 0;
  // Pools under a computed name: their hooks still have a shape to check, but no name.
  for (const node of computedChildren(zpools)) {
    const pool = { name: UNNAMED, attrName: UNNAMED, node, origin: firstKeyOrigin(node), datasets: [], datasetsOpen: true } as unknown as Pool;
    pool.root = datasetOf(pool, node, '__root', true);
    unnamedDatasets.push(pool.root);
    const datasetsNode = node.child('datasets');
    for (const datasetName of datasetsNode.childNames().sort()) unnamedDatasets.push(datasetOf(pool, datasetsNode.child(datasetName), datasetName, false));
    for (const datasetNode of computedChildren(datasetsNode)) unnamedDatasets.push(datasetOf(pool, datasetNode, UNNAMED, false));
  }
  for (const attrName of zpools.childNames().sort()) {
    const node = zpools.child(attrName);
    const nameResolved = node.child('name').string();
    const name = nameResolved.state === 'known' ? nameResolved.value : attrName;
    const pool = { name, attrName, node, origin: firstKeyOrigin(node), datasets: [], datasetsOpen: false } as unknown as Pool;
    pool.root = datasetOf(pool, node, '__root', true);
    const datasetsNode = node.child('datasets');
    pool.datasetsOpen = datasetsNode.unknownNames().length > 0;
    for (const datasetName of datasetsNode.childNames().sort()) {
      pool.datasets.push(datasetOf(pool, datasetsNode.child(datasetName), datasetName, false));
    }
    for (const datasetNode of computedChildren(datasetsNode)) unnamedDatasets.push(datasetOf(pool, datasetNode, UNNAMED, false));
    open ||= pool.datasetsOpen;
    pools.push(pool);
    for (const dataset of [pool.root, ...pool.datasets]) {
      datasets.push(dataset);
      const found = snapshotsOf(dataset);
      snapshots.push(...found.snapshots);
      snapshotsOpen ||= found.open;
      const mount = emittedFor(dataset);
      if (mount === undefined) open = true;
      else if (mount !== 'none') emitted.push(mount);
      if (dataset.type === 'zfs_volume') open = contentMounts(dataset.node.child('content'), emitted, referencedPools) || open;
    }
  }
  for (const group of ['disk', 'mdadm', 'lvm_vg']) {
    const groupNode = devices.child(group);
    open ||= groupNode.unknownNames().length > 0;
    for (const name of groupNode.childNames()) {
      const device = groupNode.child(name);
      if (group === 'lvm_vg') {
        const lvs = device.child('lvs');
        for (const lv of lvs.childNames()) open = contentMounts(lvs.child(lv).child('content'), emitted, referencedPools) || open;
      } else open = contentMounts(device.child('content'), emitted, referencedPools, 0, undefined, group === 'disk' ? diskParent(device, name) : undefined) || open;
    }
  }
  const nodev = devices.child('nodev');
  for (const name of nodev.childNames()) {
    const device = nodev.child(name);
    const mountpoint = nullableString(device.child('mountpoint'));
    const fsType = device.child('fsType').string();
    const mountPoint = mountpoint.state === 'known' ? mountpoint.value : mountpoint.state === 'absent' ? name : undefined;
    if (mountPoint && fsType.state === 'known') {
      // nodev's mountOptions default to [ "defaults" ] (lib/types/nodev.nix, F58).
      const optionsNode = device.child('mountOptions');
      const options = optionsNode.absent ? ['defaults'] : (stringList(optionsNode) ?? []);
      emitted.push({ mountPoint, fsType: fsType.value, options, origin: firstKeyOrigin(device) });
    } else open = true;
  }
  return { pools, datasets, snapshots, snapshotsOpen, emitted, open, referencedPools, unnamedDatasets };
}

/** The value of a definition as a Nix string, for fixes and messages. */
export function definitionText(definition: Definition): string | undefined {
  return stringText(definition.value as Value);
}

/** The kind of a dataset's effective ZFS `mountpoint` property. */
export type MountProperty = { kind: 'legacy' | 'none' | 'path'; from: Dataset };

/**
 * The ZFS `mountpoint` property a dataset ends up with (F22: `options.mountpoint` wins over disko's `mountpoint`;
 * without either it is inherited from the parent). Undefined when it cannot be told.
 */
export function effectiveMountProperty(dataset: Dataset, layout: DiskoLayout, depth = 0): MountProperty | undefined {
  if (depth > 32) return undefined;
  const classify = (value: string): MountProperty['kind'] => (value === 'legacy' ? 'legacy' : value === 'none' ? 'none' : 'path');
  if (dataset.zfsMountpoint.state === 'known') return { kind: classify(dataset.zfsMountpoint.value), from: dataset };
  if (dataset.zfsMountpoint.state === 'unknown') return undefined;
  if (dataset.mountpoint.state === 'known' && dataset.mountpoint.value) return { kind: 'path', from: dataset };
  if (dataset.mountpoint.state === 'unknown') return undefined;
  if (dataset.isPoolRoot) {
    if (dataset.canmount.state === 'known' && dataset.canmount.value === 'off') return { kind: 'none', from: dataset };
    return dataset.canmount.state === 'unknown' ? undefined : { kind: 'path', from: dataset };
  }
  const parent = parentDataset(dataset, layout);
  return parent ? effectiveMountProperty(parent, layout, depth + 1) : undefined;
}

/** The nearest declared ancestor of a dataset (the pool's root dataset at the top). */
export function parentDataset(dataset: Dataset, layout: DiskoLayout): Dataset | undefined {
  if (dataset.isPoolRoot) return undefined;
  const parts = dataset.fullName.split('/');
  for (let length = parts.length - 1; length >= 1; length--) {
    const name = parts.slice(0, length).join('/');
    const found = layout.datasets.find((candidate) => candidate.fullName === name);
    if (found) return found;
  }
  return undefined;
}

/**
 * The path ZFS itself mounts a dataset at (`zfs mount`, `zfs-mount.service`): its effective `mountpoint` property
 * when that is a path — `options.mountpoint`, else disko's `mountpoint` (F22), else the nearest declared ancestor's
 * path with the rest of the name appended, as ZFS inheritance does. A pool's root counts only with an explicit
 * `rootFsOptions.mountpoint`. Undefined for legacy/none or when it cannot be told; `from` is the dataset that sets it.
 */
export function zfsMountPath(dataset: Dataset, layout: DiskoLayout, depth = 0): { path: string; from: Dataset } | undefined {
  if (depth > 32) return undefined;
  if (dataset.zfsMountpoint.state === 'known') return dataset.zfsMountpoint.value.startsWith('/') ? { path: dataset.zfsMountpoint.value, from: dataset } : undefined;
  if (dataset.zfsMountpoint.state === 'unknown' || dataset.isPoolRoot) return undefined;
  if (dataset.mountpoint.state === 'known' && dataset.mountpoint.value) return { path: dataset.mountpoint.value, from: dataset };
  if (dataset.mountpoint.state === 'unknown') return undefined;
  const parent = parentDataset(dataset, layout);
  const inherited = parent ? zfsMountPath(parent, layout, depth + 1) : undefined;
  if (!parent || !inherited) return undefined;
  const rest = dataset.fullName.slice(parent.fullName.length + 1);
  return { path: inherited.path === '/' ? `/${rest}` : `${inherited.path}/${rest}`, from: inherited.from };
}
