/**
 * `ephemeralRoot/vmHosts`: what the client's "Run disko on a VM image" command needs to know about the hosts of a
 * workspace, read from the model (the client does no analysis of its own):
 *
 * - every host that can be built: a flake host with its `nixosConfigurations` attribute and flake folder, a
 *   `configuration.nix` host, or a disko file alone (run through the project's standalone wrapper);
 * - its disks (one image per `disko.devices.disk.<name>`, named `<imageName>.<format>`, F27);
 * - the paths a "prove the ephemeral root" VM test writes to: `/` (and tmpfs mounts), which must be empty after a
 *   reboot, and the persisted paths (impermanence/preservation roots and their entries, every other mount point),
 *   which must keep what was written;
 * - for one file, where its `disko.devices` are defined (the places for a code lens).
 */
import path from 'node:path';
import type { HostModel } from '../model/host-model';
import type { Analyses } from './analysis';
import { uriToPath } from './documents';

export const VM_HOSTS_REQUEST = 'ephemeralRoot/vmHosts';

export interface VmHostsParams {
  /** Workspace folders (URIs) to list the hosts of. */
  folders?: string[];
  /** A file: its folder is listed too, and the result carries the lens places of this file. */
  uri?: string;
}

export interface VmDisk {
  /** The attribute name under `disko.devices.disk`. */
  name: string;
  /** `imageName` (default: the attribute name): images are `<imageName>.<format>`. */
  imageName: string;
  /** `imageSize` when written (disko's default is "2G"). */
  imageSize?: string;
}

export interface VmHost {
  name: string;
  kind: 'flake' | 'configuration' | 'disko-only';
  /** For a flake host: the folder of flake.nix and the `nixosConfigurations` attribute name. */
  flake?: { dir: string; attribute: string };
  /** The host's entry file (configuration.nix, or the disko file of a disko-only host). */
  root: string;
  /** The files holding the layout (`disko.devices`). */
  diskoFiles: string[];
  disks: VmDisk[];
  /** Whether some disk or zpool of the layout could not be read. */
  disksOpen: boolean;
  zfs: boolean;
  /** The root dataset and whether a stage-1 rollback (ZFS or btrfs) resets it (what the VM test proves). */
  rootDataset?: string;
  rootRolledBack: boolean;
  /** Paths whose content must be gone after a reboot. */
  ephemeral: string[];
  /** Paths whose content must survive a reboot. */
  persisted: string[];
  /** Some persisted paths could not be read (computed lists, conditional roots). */
  persistedOpen: boolean;
}

export interface VmLens {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** Hosts whose layout this definition belongs to. */
  hosts: string[];
}

export interface VmHostsResult {
  hosts: VmHost[];
  /** Where `uri` defines `disko.devices` (only when `uri` was given). */
  lenses: VmLens[];
}

function isUnder(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

function vmHost(host: HostModel): VmHost | undefined {
  const devices = host.input.diskoDevices;
  const flakeFile = host.kind === 'nixos' ? host.files.find((file) => path.basename(file) === 'flake.nix') : undefined;
  let kind: VmHost['kind'];
  if (host.kind === 'nixos') kind = flakeFile ? 'flake' : 'configuration';
  else if (host.kind === 'disko-only') kind = 'disko-only';
  else return undefined;
  if (!devices || devices.definitions.length === 0) return undefined;

  const diskNode = devices.child('disk');
  const disks: VmDisk[] = [];
  for (const name of diskNode.childNames().sort()) {
    const disk = diskNode.child(name);
    const imageName = disk.child('imageName').string();
    const imageSize = disk.child('imageSize').string();
    disks.push({ name, imageName: imageName.state === 'known' ? imageName.value : name, imageSize: imageSize.state === 'known' ? imageSize.value : undefined });
  }

  const ephemeral = ['/'];
  const persisted: string[] = [];
  let persistedOpen = false;
  const add = (list: string[], item: string) => {
    const normal = item.length > 1 ? item.replace(/\/+$/, '') : item;
    if (normal.startsWith('/') && !list.includes(normal)) list.push(normal);
  };
  if (host.kind === 'nixos') {
    const fileSystems = host.fileSystems();
    persistedOpen ||= fileSystems.open;
    for (const entry of fileSystems.entries) {
      if (entry.conditional || entry.mountPoint === '/') continue;
      // The VM test bind-mounts the host's store; nothing is written there.
      if (isUnder(entry.mountPoint, '/nix/store')) continue;
      const fsType = entry.fsType.state === 'known' ? entry.fsType.value : undefined;
      if (fsType === 'tmpfs') add(ephemeral, entry.mountPoint);
      else if (fsType !== 'swap') add(persisted, entry.mountPoint);
    }
    for (const root of host.persistence()) {
      if (root.conditional) {
        persistedOpen = true;
        continue;
      }
      add(persisted, root.path);
      for (const entry of root.entries) add(persisted, entry);
      persistedOpen ||= root.entriesOpen;
    }
  } else {
    for (const mount of host.layout?.emitted ?? []) if (mount.mountPoint !== '/' && !isUnder(mount.mountPoint, '/nix/store')) add(persisted, mount.mountPoint);
  }

  const root = host.kind === 'nixos' ? host.rootDataset() : undefined;
  return {
    name: host.name,
    kind,
    flake: flakeFile ? { dir: path.dirname(flakeFile), attribute: host.name } : undefined,
    root: host.root,
    diskoFiles: [...host.input.diskoFiles],
    disks,
    disksOpen: diskNode.open || (host.layout?.open ?? false),
    zfs: (host.layout?.pools.length ?? 0) > 0 || (host.layout?.referencedPools.length ?? 0) > 0,
    rootDataset: root?.name,
    // A ZFS rollback of the root dataset, or a btrfs one of the root subvolume that runs in stage 1 (EPH btrfs).
    rootRolledBack: host.kind === 'nixos' ? host.rootIsRolledBack() || host.ephemeralRoot()?.kind === 'btrfs' : false,
    ephemeral,
    persisted: persisted.sort(),
    persistedOpen,
  };
}

/** Answers `ephemeralRoot/vmHosts` from the current analysis of the folders asked for. */
export async function vmHosts(analyses: Analyses, params: VmHostsParams): Promise<VmHostsResult> {
  const folders = new Set<string>();
  for (const uri of params.folders ?? []) {
    const folder = uriToPath(uri);
    if (folder) folders.add(folder);
  }
  const filePath = params.uri ? uriToPath(params.uri) : undefined;
  if (filePath) folders.add(analyses.folderOf(filePath));
  const hosts: VmHost[] = [];
  const lenses = new Map<string, VmLens>();
  for (const folder of folders) {
    const { result, workspace } = await analyses.analysisOf(folder);
    for (const host of result.hosts) {
      const item = vmHost(host);
      if (!item) continue;
      if (!hosts.some((other) => other.name === item.name && other.root === item.root)) hosts.push(item);
      if (!filePath) continue;
      for (const definition of host.input.diskoDevices?.definitions ?? []) {
        const origin = definition.keyOrigin ?? definition.origin;
        if (definition.file !== filePath || !origin || origin.file !== filePath) continue;
        const range = workspace.range(origin);
        const key = `${range.start.line}:${range.start.character}`;
        const lens = lenses.get(key) ?? { range, hosts: [] };
        if (!lens.hosts.includes(item.name)) lens.hosts.push(item.name);
        lenses.set(key, lens);
      }
    }
  }
  return { hosts, lenses: [...lenses.values()].sort((a, b) => a.range.start.line - b.range.start.line) };
}

