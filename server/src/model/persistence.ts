/**
 * What survives a boot (RULES.md §E0): whether the root is ephemeral and how (EPH), and what keeps a given path
 * (COVER) — a separate mount, an impermanence `files`/`directories` entry, a preservation entry, or nothing.
 *
 * Both answers are three-valued. EPH is known only for a rollback (ZFS or btrfs) the host certainly runs in stage 1
 * and a tmpfs root; COVER is unknown whenever a `fileSystems` name, a persistence list or a persistence `enable` cannot be read,
 * because the entry we cannot see might be the one that keeps the path.
 */
import path from 'node:path';
import type { ConfigNode } from './config';
import { zfsMountPath } from './disko';
import type { FileSystemEntry, HostModel } from './host-model';
import { type Origin, type Value, stringText } from './values';

export type EphemeralKind = 'zfs' | 'btrfs' | 'tmpfs';

export interface EphemeralRoot {
  kind: EphemeralKind;
  /** What erases the root, for messages (`rolled back to rpool/local/root@blank on every boot`). */
  how: string;
  /** The rollback command or the tmpfs entry. */
  origin?: Origin;
}

export interface PersistedEntry {
  /** The absolute path the entry keeps (a user's relative entries are joined to the home directory). */
  path: string;
  type: 'file' | 'directory';
  /** preservation's `inInitrd`: false for a plain string, undefined when it cannot be read. Always false for impermanence. */
  inInitrd: boolean | undefined;
  /** The user an entry of `users.<name>` belongs to. */
  user?: string;
  origin?: Origin;
}

export interface PersistenceRoot {
  /** The storage path, `environment.persistence."<path>"` or `preservation.preserveAt."<path>"`. */
  path: string;
  module: 'impermanence' | 'preservation';
  /** Where the storage path is named. */
  origin?: Origin;
  node: ConfigNode;
  conditional: boolean;
  entries: PersistedEntry[];
  /** Some entry, or the root's `enable`, cannot be read. */
  open: boolean;
}

export interface Persistence {
  roots: PersistenceRoot[];
  /** Some storage path is computed, preservation's `enable` is unknown, or a root's entries are open. */
  open: boolean;
}

/** COVER(P): what keeps a path, first match wins (RULES.md §E0). */
export type PathCover =
  | { kind: 'mount'; entry: FileSystemEntry }
  | { kind: 'imp-file' | 'imp-dir' | 'pres-file' | 'pres-dir'; root: PersistenceRoot; entry: PersistedEntry }
  | { kind: 'none' };

/** The root file system is erased at every boot, and how — or undefined when that is not known. */
export function ephemeralRoot(host: HostModel): EphemeralRoot | undefined {
  if (!host.isNixosHost) return undefined;
  const root = host.rootDataset();
  if (root) {
    const rollback = host.certainStage1Rollbacks().find((candidate) => candidate.dataset === root.name);
    if (rollback) {
      // A rollback makes the root ephemeral only where it runs: an initrd unit needs systemd in stage 1, a scripted
      // hook needs the scripted initrd (the other combination fails the build or never runs; RULES.md clarifications).
      const systemd = host.systemdInitrd().state;
      const runs = rollback.place.kind === 'initrd-unit' ? systemd === 'on' : systemd === 'off';
      if (!runs) return undefined;
      return { kind: 'zfs', how: `is rolled back to ${rollback.target} on every boot`, origin: rollback.origin };
    }
  }
  if (host.rootIsTmpfs()) {
    const entry = host.fileSystemAt('/');
    return { kind: 'tmpfs', how: 'is a tmpfs, empty on every boot', origin: entry?.origin };
  }
  // A btrfs rollback of ROOTSV (§F), with the same reading: it erases the root only where it runs.
  const btrfs = host.btrfsRootRollback();
  if (btrfs) {
    const systemd = host.systemdInitrd().state;
    const runs = btrfs.place.kind === 'initrd-unit' ? systemd === 'on' : systemd === 'off';
    if (!runs) return undefined;
    const again = btrfs.recreate === 'restore' ? `restored from ${btrfs.blank ?? 'a snapshot'}` : 'created afresh';
    return { kind: 'btrfs', how: `is a btrfs subvolume deleted and ${again} on every boot`, origin: btrfs.removalCommandOrigin ?? btrfs.removalOrigin };
  }
  return undefined;
}

function persistedPath(text: string, prefix: string): string {
  return text.startsWith('/') ? path.posix.normalize(text) : path.posix.join(prefix, text);
}

function readList(node: ConfigNode, type: PersistedEntry['type'], prefix: string, user: string | undefined, module: PersistenceRoot['module'], into: PersistedEntry[]): boolean {
  const result = node.list();
  let open = result.open;
  for (const item of result.items) {
    if (item.definition.conditional) {
      open = true;
      continue;
    }
    const value = item.thunk.force();
    let text = stringText(value);
    let inInitrd: boolean | undefined = false;
    if (value.kind === 'attrs') {
      const named = value.entries.get(type)?.thunk.force() ?? value.entries.get(type === 'file' ? 'file' : 'directory')?.thunk.force();
      text = named ? stringText(named) : undefined;
      if (module === 'preservation') {
        const flag: Value | undefined = value.entries.get('inInitrd')?.thunk.force();
        inInitrd = flag === undefined ? (value.unknownKeys.length > 0 || value.open ? undefined : false) : flag.kind === 'bool' ? flag.value : undefined;
      }
    } else if (text === undefined) {
      open = true;
      continue;
    }
    if (text === undefined) {
      open = true;
      continue;
    }
    into.push({ path: persistedPath(text, prefix), type, inInitrd, user, origin: item.thunk.origin ?? value.origin });
  }
  return open;
}

function readRoots(host: HostModel, node: ConfigNode, module: PersistenceRoot['module'], roots: PersistenceRoot[]): boolean {
  let open = node.unknownNames().length > 0;
  for (const name of node.childNames()) {
    const rootNode = node.child(name);
    if (rootNode.dropped) continue;
    const enable = rootNode.child('enable').bool();
    if (enable.state === 'known' && !enable.value) continue;
    const definitions = rootNode.effective().definitions;
    const storagePath = rootNode.child('persistentStoragePath').string();
    const entries: PersistedEntry[] = [];
    let rootOpen = enable.state === 'unknown';
    rootOpen = readList(rootNode.child('directories'), 'directory', '/', undefined, module, entries) || rootOpen;
    rootOpen = readList(rootNode.child('files'), 'file', '/', undefined, module, entries) || rootOpen;
    const users = rootNode.child('users');
    if (users.unknownNames().length > 0) rootOpen = true;
    for (const user of users.childNames()) {
      const userNode = users.child(user);
      const home = userNode.child('home').string();
      // impermanence and preservation both default a user's home to users.users.<name>.home.
      const declaredHome = host.config.at('users', 'users', user, 'home').string();
      const prefix = home.state === 'known' ? home.value : declaredHome.state === 'known' ? declaredHome.value : user === 'root' ? '/root' : `/home/${user}`;
      if (home.state === 'unknown' || (home.state === 'absent' && declaredHome.state === 'unknown')) rootOpen = true;
      rootOpen = readList(userNode.child('directories'), 'directory', prefix, user, module, entries) || rootOpen;
      rootOpen = readList(userNode.child('files'), 'file', prefix, user, module, entries) || rootOpen;
    }
    if (storagePath.state === 'unknown') rootOpen = true;
    roots.push({
      path: storagePath.state === 'known' ? storagePath.value : name,
      module,
      origin: definitions.find((definition) => definition.keyOrigin)?.keyOrigin,
      node: rootNode,
      conditional: definitions.length > 0 && definitions.every((definition) => definition.conditional),
      entries,
      open: rootOpen,
    });
    open ||= rootOpen;
  }
  return open;
}

/** Every impermanence and preservation root of a host, with typed entries. */
export function readPersistence(host: HostModel): Persistence {
  const roots: PersistenceRoot[] = [];
  let open = readRoots(host, host.config.at('environment', 'persistence'), 'impermanence', roots);
  const preservation = host.config.at('preservation', 'enable').bool();
  if (preservation.state === 'unknown') open = true;
  if (preservation.state !== 'known' || preservation.value) {
    const before = roots.length;
    open = readRoots(host, host.config.at('preservation', 'preserveAt'), 'preservation', roots) || open;
    // Unset `preservation.enable` is false: its roots are declared but nothing is kept.
    if (preservation.state === 'absent') roots.splice(before);
  }
  return { roots, open };
}

function within(parent: string, target: string): boolean {
  return parent === '/' || target === parent || target.startsWith(`${parent}/`);
}

/**
 * The mount that holds a path other than `/`, or `null` when only the root holds it — undefined when a
 * `fileSystems` name is unknown, disko's output is unknown, or a conditional entry might be the holder.
 */
export function separateMountHolding(host: HostModel, target: string): FileSystemEntry | null | undefined {
  const { entries, open } = host.fileSystems();
  if (open || host.diskoInEffect() === undefined) return undefined;
  let best: FileSystemEntry | undefined;
  let conditionalBest = 0;
  for (const entry of entries) {
    if (entry.mountPoint === '/' || !within(entry.mountPoint, target)) continue;
    if (entry.conditional) conditionalBest = Math.max(conditionalBest, entry.mountPoint.length);
    else if (!best || entry.mountPoint.length > best.mountPoint.length) best = entry;
  }
  if (conditionalBest > (best?.mountPoint.length ?? 0)) return undefined;
  // A dataset whose ZFS mountpoint property holds the path is mounted by zfs-mount.service in stage 2 even without a
  // fileSystems entry: what is written after that mount survives, so "nothing keeps it" would be false.
  const layout = host.layout;
  if (layout) {
    for (const dataset of layout.datasets) {
      const managed = zfsMountPath(dataset, layout)?.path;
      if (managed && managed !== '/' && within(managed, target) && managed.length > (best?.mountPoint.length ?? 0)) return undefined;
    }
  }
  return best ?? null;
}

/** A fileSystems entry that only carries flags (`fileSystems."/etc/ssh".neededForBoot = true;`): no device, no fsType. */
export function isFlagOnlyEntry(entry: FileSystemEntry): boolean {
  return entry.device.state === 'absent' && entry.fsType.state === 'absent' && entry.diskoDefinitions.length === 0;
}

/** COVER(P) for an absolute path, or undefined when it cannot be known. */
export function coverOf(host: HostModel, target: string, persistence: Persistence = readPersistence(host)): PathCover | undefined {
  const mount = separateMountHolding(host, target);
  if (mount === undefined) return undefined;
  // A flag-only entry at a persisted directory is impermanence's own business (the sops-nix README advice, F46):
  // what keeps the path is the directory entry, and EARLY decides by impermanence's version.
  if (mount && !isFlagOnlyEntry(mount)) return { kind: 'mount', entry: mount };
  if (mount && !persistence.roots.some((root) => root.entries.some((entry) => entry.type === 'directory' && entry.path === mount.mountPoint))) return undefined;
  if (persistence.open) return undefined;
  const order: [PathCover['kind'], (root: PersistenceRoot, entry: PersistedEntry) => boolean][] = [
    ['imp-file', (root, entry) => root.module === 'impermanence' && entry.type === 'file' && entry.path === target],
    ['imp-dir', (root, entry) => root.module === 'impermanence' && entry.type === 'directory' && within(entry.path, target)],
    ['pres-file', (root, entry) => root.module === 'preservation' && entry.type === 'file' && entry.path === target],
    ['pres-dir', (root, entry) => root.module === 'preservation' && entry.type === 'directory' && within(entry.path, target)],
  ];
  for (const [kind, test] of order) {
    for (const root of persistence.roots) {
      if (root.conditional) continue;
      const entry = root.entries.find((candidate) => test(root, candidate));
      if (entry) return { kind, root, entry } as PathCover;
    }
  }
  // A conditional root might keep it.
  if (persistence.roots.some((root) => root.conditional)) return undefined;
  return { kind: 'none' };
}

/** A short description of a cover for messages and hovers. */
export function describeCover(cover: PathCover): string {
  switch (cover.kind) {
    case 'mount':
      return `the mount ${cover.entry.mountPoint}`;
    case 'imp-file':
      return `impermanence (a file of ${cover.root.path})`;
    case 'imp-dir':
      return `impermanence (the directory ${cover.entry.path} of ${cover.root.path})`;
    case 'pres-file':
    case 'pres-dir':
      return `preservation (${cover.kind === 'pres-file' ? 'a file' : `the directory ${cover.entry.path}`} of ${cover.root.path}${cover.entry.inInitrd ? ', in the initrd' : ''})`;
    case 'none':
      return 'nothing: it lies on the root file system';
  }
}

/** Paths a secrets tool, the Nix store or the kernel provide at run time: never "on the root" (RULES.md §E0). */
export function isRuntimePath(target: string): boolean {
  return target.startsWith('/run/') || target.startsWith('/nix/store/') || target.startsWith('/proc/') || target.startsWith('/sys/') || target.startsWith('/dev/');
}
