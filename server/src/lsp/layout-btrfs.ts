/**
 * The parts of the `ephemeralRoot/layout` answer beyond ZFS: the btrfs file systems of a host with their subvolumes
 * (erased or persisted, mounted where, needed for boot, the blank snapshot of which subvolume), the tmpfs root (always
 * erased; its mode and size), and per host what survives a boot and what does not (RULES.md §E0): every persisted
 * path, every secrets key and password file the host names, the sshd host keys, `/var/lib/nixos` and
 * `/etc/machine-id`, each with what keeps it — a mount, a bind, a link or nothing.
 *
 * Nothing is decided here: the subvolume facts come from btrfs-facts.ts (as the hover's), what keeps a path is the
 * host model's COVER (`host.coverOf`), whether it is there at activation its EARLY (`host.earlyFor`), and how the
 * root is erased its EPH (`host.ephemeralRoot`).
 */
import type { Location } from 'vscode-languageserver';
import type { HostModel } from '../model/host-model';
import { type PathCover, describeCover, isRuntimePath } from '../model/persistence';
import { agenixIdentities, agenixImported, hostKeys, opensshEnabled, sopsImported, sopsKeys } from '../model/secrets';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { HostFinding } from '../rules/engine';
import { subvolumeFacts, subvolumeNames, subvolumeStage, subvolumeVerdict, tmpfsFacts } from './btrfs-facts';
import { survivalPlaces } from './facts';
import { type FindingCounts, counts, location, tally } from './layout';
import { type HostIndex, bindingOf } from './symbols-index';

type Counted = { finding: HostFinding; severity: keyof FindingCounts }[];

export interface LayoutSubvolume {
  /** Without a leading `/`. */
  name: string;
  declared: boolean | null;
  location?: Location;
  /** Where NixOS mounts it (fileSystems entries whose `subvol=` names it), else disko's `mountpoint`. */
  mountPoints: string[];
  fate: 'erased' | 'persisted' | 'unknown';
  fateReason: string;
  neededForBoot: 'yes' | 'no' | 'unknown' | 'not-mounted';
  /** The subvolume it is the blank snapshot of, when a disko hook takes it as one. */
  snapshotOf?: string;
  /** "erased on every boot", "persisted · mounted in stage 1", "blank snapshot of root", … */
  verdict: string;
  findings: FindingCounts;
  codes: string[];
}

export interface LayoutBtrfs {
  /** The block device (`/dev/mapper/crypted`), when known. */
  device?: string;
  /** disko declares it; false for subvolumes the host names that no disko btrfs holds. */
  declared: boolean;
  location?: Location;
  findings: FindingCounts;
  subvolumes: LayoutSubvolume[];
}

export interface LayoutTmpfsRoot {
  location?: Location;
  /** Its mount options, or null when some cannot be read. */
  options: string[] | null;
  mode?: string;
  size?: string;
  /** `/` is writable by group or others (no `mode=`, or one with those bits): null when unknown. */
  worldWritable: boolean | null;
  fate: 'erased';
  verdict: string;
  findings: FindingCounts;
  codes: string[];
}

export interface LayoutSurvivalPath {
  path: string;
  /** What the path is: `environment.persistence."/persist".files`, `sshd host key`, `machine id`, … */
  what: string;
  location?: Location;
  /** What keeps it across a boot (COVER): a mount, a bind (impermanence/preservation directory or preservation file), impermanence's link of a file, nothing, or unknown. */
  keptBy: 'mount' | 'bind' | 'link' | 'nothing' | 'unknown';
  /** The cover in words (`the mount /persist`, `impermanence (the directory /var/lib/nixos of /persist)`). */
  keeper: string;
  /** It is still there after a reboot: no when nothing keeps it and the root is erased. */
  survives: 'yes' | 'no' | 'unknown';
  /** It exists when activation creates users (EARLY before-users); only asked when the root is erased. */
  atActivation?: 'yes' | 'no' | 'unknown';
}

export interface LayoutSurvival {
  /** How the root is erased (EPH), or null when that is not known. */
  ephemeral: { kind: 'zfs' | 'btrfs' | 'tmpfs'; how: string; location?: Location } | null;
  paths: LayoutSurvivalPath[];
}

function three(value: boolean | undefined): 'yes' | 'no' | 'unknown' {
  return value === true ? 'yes' : value === false ? 'no' : 'unknown';
}

/** The places that concern a subvolume: its occurrences, and the whole binding of its declaration. */
function subvolumeRegions(workspace: Workspace, index: HostIndex, name: string): Origin[] {
  const result: Origin[] = [];
  for (const occurrence of index.occurrences) {
    if (occurrence.symbol.kind !== 'subvolume' || occurrence.symbol.name !== name) continue;
    result.push(occurrence.origin);
    if (occurrence.role === 'declaration') {
      const binding = bindingOf(workspace, occurrence.origin);
      if (binding) result.push(binding);
    }
  }
  return result;
}


function subvolumeEntry(workspace: Workspace, index: HostIndex, name: string, own: Counted): LayoutSubvolume {
  const host = index.host;
  const facts = subvolumeFacts(host, name);
  const neededForBoot = subvolumeStage(host, facts);
  const diskoMountpoints = facts.declarations.map((subvolume) => (subvolume.mountpoint.state === 'known' ? subvolume.mountpoint.value : null)).filter((value): value is string => typeof value === 'string');
  const declaration = index.occurrences.find((occurrence) => occurrence.symbol.kind === 'subvolume' && occurrence.symbol.name === name && occurrence.role === 'declaration')?.origin ?? facts.snapshotOf[0]?.commandOrigin ?? facts.snapshotOf[0]?.origin;
  const tallied = tally(own, subvolumeRegions(workspace, index, name));
  return {
    name,
    declared: facts.declared ?? null,
    location: location(workspace, declaration),
    mountPoints: facts.mounts.length > 0 ? facts.mounts.map((entry) => entry.mountPoint) : diskoMountpoints,
    fate: facts.fate.state,
    fateReason: facts.fate.reason.replace(/`/g, ''),
    neededForBoot,
    ...(facts.snapshotOf.length > 0 ? { snapshotOf: facts.snapshotOf[0].source } : {}),
    verdict: subvolumeVerdict(host, facts),
    findings: tallied.counts,
    codes: tallied.codes,
  };
}

/** The btrfs file systems of a host with their subvolumes; subvolumes no disko btrfs holds come last, together. */
export function btrfsEntries(workspace: Workspace, index: HostIndex, own: Counted): LayoutBtrfs[] {
  const host = index.host;
  const layout = host.btrfsLayout();
  const names = subvolumeNames(host);
  const placed = new Set<string>();
  const result: LayoutBtrfs[] = [];
  for (const filesystem of layout.filesystems) {
    const own_ = [...new Set([...filesystem.subvolumes.map((subvolume) => subvolume.name), ...layout.snapshots.filter((creation) => creation.filesystem === filesystem).map((creation) => creation.snapshot)])].filter((name) => !placed.has(name));
    for (const name of own_) placed.add(name);
    const subvolumes = own_.sort().map((name) => subvolumeEntry(workspace, index, name, own));
    const total = counts();
    for (const subvolume of subvolumes) for (const key of Object.keys(total) as (keyof FindingCounts)[]) total[key] += subvolume.findings[key];
    result.push({ ...(filesystem.device ? { device: filesystem.device } : {}), declared: true, location: location(workspace, filesystem.origin), findings: total, subvolumes });
  }
  const rest = names.filter((name) => !placed.has(name));
  if (rest.length > 0) {
    const subvolumes = rest.map((name) => subvolumeEntry(workspace, index, name, own));
    const total = counts();
    for (const subvolume of subvolumes) for (const key of Object.keys(total) as (keyof FindingCounts)[]) total[key] += subvolume.findings[key];
    const devices = [...new Set(host.fileSystems().entries.filter((entry) => entry.fsType.state === 'known' && entry.fsType.value === 'btrfs' && entry.device.state === 'known').map((entry) => (entry.device.state === 'known' ? entry.device.value : '')))];
    result.push({ ...(devices.length === 1 ? { device: devices[0] } : {}), declared: false, findings: total, subvolumes });
  }
  return result;
}

/** The tmpfs root of a host, or undefined when `/` is not a tmpfs. */
export function tmpfsRootEntry(workspace: Workspace, index: HostIndex, own: Counted): LayoutTmpfsRoot | undefined {
  const facts = tmpfsFacts(index.host);
  if (!facts) return undefined;
  const entry = facts.root.entry;
  const regions = [entry.origin, facts.origin].filter((origin): origin is Origin => origin !== undefined);
  for (const occurrence of index.occurrences) {
    if (occurrence.symbol.kind !== 'path' || occurrence.symbol.name !== '/') continue;
    regions.push(occurrence.origin);
    const binding = occurrence.role === 'disko-mountpoint' || occurrence.role === 'mount-key' ? bindingOf(workspace, occurrence.origin) : undefined;
    if (binding) regions.push(binding);
  }
  const tallied = tally(own, regions);
  return {
    location: location(workspace, entry.origin),
    options: facts.root.options ?? null,
    ...(facts.mode !== undefined ? { mode: facts.mode } : {}),
    ...(facts.size !== undefined ? { size: facts.size } : {}),
    worldWritable: facts.worldWritable ?? null,
    fate: 'erased',
    verdict: 'erased on every boot (tmpfs)',
    findings: tallied.counts,
    codes: tallied.codes,
  };
}

function keptBy(cover: PathCover | undefined): LayoutSurvivalPath['keptBy'] {
  if (!cover) return 'unknown';
  switch (cover.kind) {
    case 'mount':
      return 'mount';
    case 'imp-file':
      return 'link';
    case 'imp-dir':
    case 'pres-file':
    case 'pres-dir':
      return 'bind';
    case 'none':
      return 'nothing';
  }
}

/**
 * What survives a boot on a NixOS host: undefined when the host names nothing to keep and its root is not known to be
 * erased (nothing worth a list).
 */
export function survivalEntry(workspace: Workspace, host: HostModel): LayoutSurvival | undefined {
  if (!host.isNixosHost) return undefined;
  const ephemeral = host.ephemeralRoot();
  const candidates: { path: string; what: string; origin?: Origin }[] = survivalPlaces(host).map((place) => ({ path: place.path, what: place.option, origin: place.origin }));
  if (candidates.length === 0 && !ephemeral) return undefined;
  // Keys the host reads without writing their paths: sops-nix and agenix defaults derived from the sshd host keys.
  if (sopsImported(host)) {
    const keys = sopsKeys(host);
    if (keys.known) for (const key of [...(keys.value.keyFile ? [keys.value.keyFile] : []), ...keys.value.sshKeys]) candidates.push({ path: key.path, what: key.source, origin: key.origin });
  }
  if (agenixImported(host)) {
    const identities = agenixIdentities(host);
    if (identities.known) for (const key of identities.value) candidates.push({ path: key.path, what: key.source, origin: key.origin });
  }
  if (opensshEnabled(host) === true) {
    const keys = hostKeys(host);
    if (keys.known) for (const key of keys.value) candidates.push({ path: key.path, what: `sshd host key${key.derived ? ' (services.openssh.hostKeys default)' : ''}`, origin: key.origin });
  }
  candidates.push({ path: '/var/lib/nixos', what: "NixOS's record of uids and gids" }, { path: '/etc/machine-id', what: 'machine id' });
  const paths: LayoutSurvivalPath[] = [];
  for (const candidate of candidates) {
    if (isRuntimePath(candidate.path)) continue;
    const existing = paths.find((item) => item.path === candidate.path);
    if (existing) {
      // One row per path: the first description, and a place to reveal when a later one has it.
      existing.location ??= location(workspace, candidate.origin);
      continue;
    }
    const cover = host.coverOf(candidate.path);
    const kept = keptBy(cover);
    const survives: LayoutSurvivalPath['survives'] = kept === 'unknown' ? 'unknown' : kept === 'nothing' ? (ephemeral ? 'no' : 'unknown') : 'yes';
    paths.push({
      path: candidate.path,
      what: candidate.what,
      location: location(workspace, candidate.origin),
      keptBy: kept,
      keeper: cover ? describeCover(cover) : 'unknown: a fileSystems entry or a persistence list cannot be read',
      survives,
      ...(ephemeral ? { atActivation: three(host.earlyFor(candidate.path, 'before-users')) } : {}),
    });
  }
  return {
    ephemeral: ephemeral ? { kind: ephemeral.kind, how: ephemeral.how, ...(ephemeral.origin ? { location: location(workspace, ephemeral.origin) } : {}) } : null,
    paths,
  };
}
