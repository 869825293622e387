/**
 * What a host says about one dataset or pool, three-valued: how it is mounted (disko `mountpoint`, the ZFS
 * `mountpoint` property and where it is inherited from, legacy or zfsutil), whether stage 1 mounts it and why,
 * and whether its contents are erased on every boot or persist. Hover, code lens and the layout view all read these
 * facts, so the three always agree. "unknown" is an answer: it comes with the reason, never with a guess.
 */
import { type Dataset, type MountProperty, type Pool, type SnapshotCreation, effectiveMountProperty, snapshotCovers, zfsMountPath } from '../model/disko';
import type { ConfigNode } from '../model/config';
import { type FileSystemEntry, type HostModel, PATHS_NEEDED_FOR_BOOT, type PersistRoot, type Rollback, type Unit } from '../model/host-model';
import type { EphemeralRoot, PathCover } from '../model/persistence';
import { type KeyPath, agenixIdentities, agenixImported, sopsImported, sopsKeys } from '../model/secrets';
import { type Origin, type StringValue, stringText } from '../model/values';

export interface Fact<S extends string> {
  state: S;
  /** One sentence: why. */
  reason: string;
  origin?: Origin;
}

export interface MountFacts {
  entry: FileSystemEntry;
  /** Only disko's module defines the entry (F23, F26). */
  fromDisko: boolean;
  /** `zfsutil` among the options (ZFS-managed mountpoint), false for a legacy mount, undefined when unreadable. */
  zfsutil: boolean | undefined;
  neededForBoot: Fact<'yes' | 'no' | 'unknown'>;
  /** Persistent storage roots (impermanence, preservation) that live on this mount. */
  persistence: PersistRoot[];
}

export type FateState = 'erased' | 'persisted' | 'unknown';
export type StageState = 'stage1' | 'stage2' | 'zfs-mount' | 'not-mounted' | 'unknown';

export interface DatasetFacts {
  host: HostModel;
  name: string;
  pool: string;
  /** The disko declaration, when disko declares it. */
  dataset?: Dataset;
  /** Declared in the host's disko layout: undefined when the layout is partly unreadable or absent. */
  declared: boolean | undefined;
  /** The effective ZFS `mountpoint` property (undefined: unknown, or no disko layout). */
  property?: MountProperty & { path?: string; pathFrom?: Dataset; inherited: boolean };
  mounts: MountFacts[];
  /** Why more mounts of this dataset may exist than `mounts` lists. */
  mountsOpen?: string;
  fate: Fact<FateState> & { rollbacks: Rollback[] };
  stage: Fact<StageState>;
  /** `zfs snapshot`s in disko hooks that create a snapshot of this dataset. */
  snapshots: SnapshotCreation[];
}

export interface PoolFacts {
  host: HostModel;
  name: string;
  pool?: Pool;
  declared: boolean | undefined;
  /** When NixOS imports the pool (F6–F8). */
  import: Fact<'stage1' | 'stage2' | 'none' | 'unknown'> & { mounts: FileSystemEntry[] };
}

function describeRollbackPlace(rollback: Rollback): string {
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

export function rollbackPlace(rollback: Rollback): string {
  return describeRollbackPlace(rollback);
}

function stage1(rollback: Rollback): boolean {
  return rollback.place.kind === 'initrd-unit' || rollback.place.kind === 'hook';
}

/** An interpolation that cannot hide a rollback: a package's store path. */
function harmlessSymbol(path: string[]): boolean {
  return path[0] === 'pkgs' || (path[0] === 'config' && path[1] === 'boot' && path[2] === 'zfs' && path[3] === 'package');
}

function scriptOpenness(value: StringValue): boolean {
  return value.pieces.some((piece) => piece.unknown || (piece.symbol && !harmlessSymbol(piece.symbol)));
}

/**
 * Whether a `lines` option may hold text we cannot read: a contribution we cannot see into, or a value that is not
 * a string. A definition under an unknown condition is read like any other (its rollbacks are conditional).
 */
function linesOpen(node: ConfigNode): boolean {
  return node.covers.length > 0 || node.definitions.some((definition) => definition.value.kind !== 'string');
}

function execOpen(node: ConfigNode): boolean {
  return (
    node.covers.length > 0 ||
    node.definitions.some((definition) => {
      const value = definition.value;
      if (value.kind === 'string') return false;
      return value.kind !== 'list' || value.items.some((item) => item.force().kind !== 'string');
    })
  );
}

function unitOpen(unit: Unit): boolean {
  return ['script', 'preStart', 'postStart'].some((field) => linesOpen(unit.node.child(field))) || ['ExecStart', 'ExecStartPre', 'ExecStartPost'].some((field) => execOpen(unit.node.at('serviceConfig', field)));
}

/**
 * Why some rollback of the host may be missing from what we read (undefined: every script that could roll back is
 * readable). Stricter than "anything unknown": a `${pkgs.zfs}` in a script hides nothing, and a script under an
 * unknown condition is still read (its rollbacks count as conditional).
 */
export function rollbackOpenness(host: HostModel): string | undefined {
  if (host.kind !== 'nixos') return 'the rest of the host is not in reach (this file is analysed on its own)';
  const unknownTarget = host.rollbacks().rollbacks.find((rollback) => rollback.target === undefined);
  if (unknownTarget) return `the target of the \`zfs rollback\` in ${describeRollbackPlace(unknownTarget)} is computed`;
  for (const { units, open } of [host.initrdUnits(), host.stage2Units()]) {
    if (open) return 'some systemd services are defined under computed names';
    for (const unit of units) {
      if (unitOpen(unit)) return `the script of unit \`${unit.name}\` cannot be read`;
      if (unit.scripts.some((fragment) => scriptOpenness(fragment.value))) return `part of the script of unit \`${unit.name}\` is computed`;
    }
  }
  for (const hook of host.scriptedHooks()) {
    if (linesOpen(host.config.at('boot', 'initrd', ...hook.hook.split('.')))) return `\`boot.initrd.${hook.hook}\` cannot be read`;
    if (hook.fragments.some((fragment) => fragment.value.kind === 'string' && scriptOpenness(fragment.value))) return `part of \`boot.initrd.${hook.hook}\` is computed`;
  }
  for (const script of host.activationScripts()) {
    if (script.open || script.fragments.some((fragment) => scriptOpenness(fragment.value))) return `activation script \`${script.name}\` is partly computed`;
  }
  return undefined;
}

function neededForBootFact(entry: FileSystemEntry): Fact<'yes' | 'no' | 'unknown'> {
  const option = entry.neededForBootOption;
  const explicit = option.state === 'known' ? option.definitions.find((definition) => definition.origin)?.origin : undefined;
  if (PATHS_NEEDED_FOR_BOOT.includes(entry.mountPoint)) {
    return { state: 'yes', reason: `\`${entry.mountPoint}\` is one of the paths NixOS always mounts in stage 1, whatever \`neededForBoot\` says (F1)`, origin: explicit };
  }
  if (option.state === 'known') return { state: option.value ? 'yes' : 'no', reason: `\`neededForBoot = ${option.value}\``, origin: explicit };
  if (option.state === 'unknown') return { state: 'unknown', reason: option.what, origin: option.origin };
  if (entry.node.child('neededForBoot').covers.length > 0) return { state: 'unknown', reason: entry.node.child('neededForBoot').covers[0].what, origin: entry.node.child('neededForBoot').covers[0].origin };
  return { state: 'no', reason: '`neededForBoot` is not set (false by default; disko never sets it, F23)' };
}

function mountFacts(host: HostModel, entry: FileSystemEntry): MountFacts {
  const persistence = host.persistence().filter((root) => !root.conditional && host.mountHolding(root.path) === entry);
  return {
    entry,
    fromDisko: entry.writtenDefinitions.length === 0 && entry.diskoDefinitions.length > 0,
    zfsutil: entry.options ? entry.options.includes('zfsutil') : undefined,
    neededForBoot: neededForBootFact(entry),
    persistence,
  };
}

/** Why the set of fileSystems entries is open: the most specific contribution we cannot read. */
export function fileSystemsCover(host: HostModel): string {
  const covers = host.config.child('fileSystems').unknownNames();
  return (covers.find((cover) => cover.what.includes('fileSystems')) ?? covers[0])?.what ?? 'their names cannot be read';
}

/** The fileSystems entries that mount a dataset, and why there may be more. */
export function mountsOf(host: HostModel, name: string): { mounts: MountFacts[]; open?: string } {
  const { entries, open } = host.fileSystems();
  const mounts: MountFacts[] = [];
  let why: string | undefined;
  for (const entry of entries) {
    if (entry.device.state === 'known') {
      if (entry.device.value !== name) continue;
      if (entry.conditional) {
        why ??= `\`fileSystems."${entry.mountPoint}"\` mounts it only under a condition`;
        continue;
      }
      mounts.push(mountFacts(host, entry));
    } else if (entry.device.state === 'unknown') why ??= `the device of \`fileSystems."${entry.mountPoint}"\` is computed (${entry.device.what})`;
  }
  if (open) why ??= `some fileSystems entries are computed (${fileSystemsCover(host)})`;
  if (host.kind !== 'nixos') why ??= 'the rest of the host is not in reach (this file is analysed on its own)';
  return { mounts, open: why };
}

/**
 * Why a rollback that is written may not reset the dataset: it never runs (an initrd unit without systemd stage 1),
 * or whether it works is open (a snapshot no disko hook takes, a scripted hook that systemd stage 1 refuses, F16).
 */
function rollbackProblem(host: HostModel, name: string, rollback: Rollback): { kind: 'never' | 'unknown'; text: string } | undefined {
  if (host.snapshotCreated(name, rollback.snapshot!) === false) return { kind: 'unknown', text: 'no disko hook takes that snapshot: the rollback fails at boot unless it was taken by hand' };
  const systemd = host.systemdInitrd();
  if (rollback.place.kind === 'initrd-unit') {
    if (systemd.state === 'off') return { kind: 'never', text: `systemd stage 1 is off (${systemd.reason}), so the unit never runs` };
    if (systemd.state === 'unknown') return { kind: 'unknown', text: `whether systemd stage 1 runs the unit is unknown (${systemd.reason})` };
  }
  if (rollback.place.kind === 'hook') {
    if (systemd.state === 'on') return { kind: 'unknown', text: `systemd stage 1 is on (${systemd.reason}), which refuses scripted hooks: the configuration does not build (F16)` };
    if (systemd.state === 'unknown') return { kind: 'unknown', text: `whether stage 1 is scripted, and runs the hook, is unknown (${systemd.reason})` };
  }
  return undefined;
}

function fateOf(host: HostModel, name: string): DatasetFacts['fate'] {
  const all = host.rollbacks().rollbacks;
  const own = all.filter((rollback) => rollback.dataset === name);
  const certain = own.filter((rollback) => !rollback.conditional);
  const root = host.rootDataset();
  if (certain.length > 0) {
    const checked = certain.map((rollback) => ({ rollback, problem: rollbackProblem(host, name, rollback) }));
    const working = checked.filter((item) => !item.problem).map((item) => item.rollback);
    if (working.length > 0) {
      const first = working.find(stage1) ?? working[0];
      const withRoot = root?.name === name ? ' (the root file system)' : '';
      const when = stage1(first) ? 'on every boot, before it is mounted' : 'on every boot, in stage 2';
      return { state: 'erased', reason: `rolled back to \`@${first.snapshot}\`${withRoot} by ${describeRollbackPlace(first)} ${when}`, origin: first.origin, rollbacks: certain };
    }
    const unsure = checked.find((item) => item.problem!.kind === 'unknown') ?? checked[0];
    const what = `rolled back to \`@${unsure.rollback.snapshot}\` by ${describeRollbackPlace(unsure.rollback)}, but ${unsure.problem!.text}`;
    // Every rollback of it is known never to run: its contents stay.
    if (unsure.problem!.kind === 'never') return { state: 'persisted', reason: what, origin: unsure.rollback.origin, rollbacks: certain };
    return { state: 'unknown', reason: what, origin: unsure.rollback.origin, rollbacks: certain };
  }
  if (own.length > 0) {
    return { state: 'unknown', reason: `rolled back to \`@${own[0].snapshot}\` by ${describeRollbackPlace(own[0])} only under a condition`, origin: own[0].origin, rollbacks: own };
  }
  const open = rollbackOpenness(host);
  if (open) return { state: 'unknown', reason: `no rollback of it is in reach, but ${open}`, rollbacks: [] };
  const ancestor = all.find((rollback) => !rollback.conditional && rollback.dataset && name.startsWith(`${rollback.dataset}/`));
  if (ancestor) {
    return { state: 'persisted', reason: `its own dataset: the rollback of \`${ancestor.dataset}\` does not recurse into child datasets (F14)`, origin: ancestor.origin, rollbacks: [] };
  }
  return { state: 'persisted', reason: 'its own dataset, and nothing rolls it back', rollbacks: [] };
}

function stageOf(host: HostModel, facts: Pick<DatasetFacts, 'mounts' | 'mountsOpen' | 'dataset'>): Fact<StageState> {
  const early = facts.mounts.filter((mount) => mount.neededForBoot.state === 'yes');
  if (early.length > 0) return { state: 'stage1', reason: `mounted in stage 1 at \`${early[0].entry.mountPoint}\`: ${early[0].neededForBoot.reason}`, origin: early[0].entry.origin };
  const unknown = facts.mounts.find((mount) => mount.neededForBoot.state === 'unknown');
  if (unknown) return { state: 'unknown', reason: `whether stage 1 mounts \`${unknown.entry.mountPoint}\` is unknown: ${unknown.neededForBoot.reason}`, origin: unknown.entry.origin };
  if (facts.mounts.length > 0) {
    const late = facts.mounts[0];
    if (facts.mountsOpen) return { state: 'unknown', reason: `mounted in stage 2 at \`${late.entry.mountPoint}\`, but ${facts.mountsOpen}`, origin: late.entry.origin };
    return { state: 'stage2', reason: `mounted in stage 2 at \`${late.entry.mountPoint}\` (${late.neededForBoot.reason})`, origin: late.entry.origin };
  }
  if (facts.mountsOpen) return { state: 'unknown', reason: `no fileSystems entry in reach mounts it, but ${facts.mountsOpen}` };
  const dataset = facts.dataset;
  const layout = host.layout;
  if (dataset && layout) {
    if (dataset.type === 'zfs_volume') return { state: 'not-mounted', reason: 'a volume (zvol): only its content is mounted' };
    const zfsPath = zfsMountPath(dataset, layout);
    const canmount = dataset.canmount;
    if (canmount.state === 'unknown') return { state: 'unknown', reason: `its \`canmount\` is computed (${canmount.what})` };
    if (zfsPath && !(canmount.state === 'known' && (canmount.value === 'off' || canmount.value === 'noauto'))) {
      return { state: 'zfs-mount', reason: `no fileSystems entry; ZFS mounts it at \`${zfsPath.path}\` through zfs-mount.service in stage 2, once its pool is imported` };
    }
    const property = effectiveMountProperty(dataset, layout);
    if (!property) return { state: 'unknown', reason: 'its ZFS `mountpoint` property is computed' };
    return { state: 'not-mounted', reason: `no fileSystems entry, and ZFS does not mount it (${property.kind === 'path' ? `canmount=${canmount.state === 'known' ? canmount.value : 'off'}` : `mountpoint=${property.kind}`})` };
  }
  return { state: 'not-mounted', reason: 'no fileSystems entry mounts it' };
}

export function datasetFacts(host: HostModel, name: string): DatasetFacts {
  const layout = host.layout;
  const dataset = layout?.datasets.find((candidate) => candidate.fullName === name);
  const declared = dataset ? true : !layout || layout.open ? undefined : false;
  let property: DatasetFacts['property'];
  if (dataset && layout) {
    const effective = effectiveMountProperty(dataset, layout);
    if (effective) {
      const zfsPath = effective.kind === 'path' ? zfsMountPath(dataset, layout) : undefined;
      property = { ...effective, path: zfsPath?.path, pathFrom: zfsPath?.from, inherited: effective.from !== dataset };
    }
  }
  const { mounts, open } = mountsOf(host, name);
  const snapshots = (layout?.snapshots ?? []).filter((created) => snapshotCovers(created, name, created.snapshot));
  const partial = { mounts, mountsOpen: open, dataset };
  return { host, name, pool: name.split('/')[0], dataset, declared, property, mounts, mountsOpen: open, fate: fateOf(host, name), stage: stageOf(host, partial), snapshots };
}

export function poolFacts(host: HostModel, name: string): PoolFacts {
  const layout = host.layout;
  const pool = layout?.pools.find((candidate) => candidate.name === name);
  const declared = pool ? true : !layout || layout.open ? undefined : false;
  const { entries, open } = host.fileSystems();
  const ofPool = entries.filter((entry) => entry.device.state === 'known' && entry.device.value.split('/')[0] === name && !(entry.fsType.state === 'known' && entry.fsType.value !== 'zfs'));
  const certain = ofPool.filter((entry) => !entry.conditional);
  const early = certain.filter((entry) => host.neededForBoot(entry) === true);
  if (early.length > 0) {
    return {
      host,
      name,
      pool,
      declared,
      import: { state: 'stage1', reason: `a root pool: stage 1 imports it (\`zfs-import-${name}.service\`) because it mounts ${early.map((entry) => `\`${entry.mountPoint}\``).join(', ')} (F6, F8)`, mounts: early },
    };
  }
  const undecided = certain.find((entry) => host.neededForBoot(entry) === undefined);
  const computedDevice = entries.find((entry) => entry.device.state === 'unknown');
  const why = undecided
    ? `whether stage 1 mounts \`${undecided.mountPoint}\` is unknown`
    : ofPool.some((entry) => entry.conditional)
      ? 'some of its fileSystems entries exist only under a condition'
      : computedDevice
        ? `the device of \`fileSystems."${computedDevice.mountPoint}"\` is computed`
        : open
          ? `some fileSystems entries are computed (${fileSystemsCover(host)})`
          : host.kind !== 'nixos'
            ? 'the rest of the host is not in reach (this file is analysed on its own)'
            : undefined;
  if (why) return { host, name, pool, declared, import: { state: 'unknown', reason: why, mounts: certain } };
  if (certain.length > 0) {
    return { host, name, pool, declared, import: { state: 'stage2', reason: `a data pool: imported in stage 2 (\`zfs-import-${name}.service\`) for ${certain.map((entry) => `\`${entry.mountPoint}\``).join(', ')}; none of its mounts is needed for boot (F6, F8)`, mounts: certain } };
  }
  const extra = host.config.at('boot', 'zfs', 'extraPools').list();
  const listed = extra.items.some((item) => item.thunk.force().kind === 'string' && (item.thunk.force() as StringValue).pieces.map((piece) => piece.text).join('') === name);
  if (listed) return { host, name, pool, declared, import: { state: 'stage2', reason: 'imported in stage 2 because `boot.zfs.extraPools` lists it (F11)', mounts: [] } };
  if (extra.open) return { host, name, pool, declared, import: { state: 'unknown', reason: '`boot.zfs.extraPools` is computed', mounts: [] } };
  return { host, name, pool, declared, import: { state: 'none', reason: 'no fileSystems entry uses it and `boot.zfs.extraPools` does not list it, so NixOS never imports it (F6, F11)', mounts: [] } };
}

/** The short verdict of a code lens and the layout view: "erased on every boot", "persisted · mounted in stage 1". */
export function verdict(facts: DatasetFacts): string {
  if (facts.dataset?.type === 'zfs_volume') return 'volume';
  const fate = facts.fate.state === 'erased' ? 'erased on every boot' : facts.fate.state === 'persisted' ? 'persisted' : 'erased or persisted: unknown';
  const stage =
    facts.stage.state === 'stage1'
      ? 'mounted in stage 1'
      : facts.stage.state === 'stage2'
        ? 'mounted in stage 2'
        : facts.stage.state === 'zfs-mount'
          ? 'mounted by zfs-mount in stage 2'
          : facts.stage.state === 'not-mounted'
            ? 'not mounted'
            : 'stage unknown';
  if (facts.fate.state === 'erased' && facts.stage.state === 'stage1') return fate;
  return `${fate} · ${stage}`;
}

/** The snapshot hooks of a host create `dataset@snap`: true, false, or undefined when unknown. */
export function snapshotFacts(host: HostModel, target: string): { created: SnapshotCreation[]; state: boolean | undefined; rollbacks: Rollback[] } {
  const at = target.indexOf('@');
  const dataset = target.slice(0, at);
  const snapshot = target.slice(at + 1);
  const created = (host.layout?.snapshots ?? []).filter((creation) => snapshotCovers(creation, dataset, snapshot));
  return { created, state: host.snapshotCreated(dataset, snapshot), rollbacks: host.rollbacks().rollbacks.filter((rollback) => rollback.target === target) };
}

/** A place that names a path whose survival matters: a persisted entry, a secrets key, a password file. */
export interface SurvivalPlace {
  /** The string (or entry) as written. */
  origin: Origin;
  path: string;
  /** The option that names it, for the hover title: `environment.persistence."/persist".files`, `sops.age.keyFile`. */
  option: string;
}

function writtenKeys(keys: KeyPath[], option: (key: KeyPath) => string, into: SurvivalPlace[]): void {
  // A key derived from the sshd defaults is written nowhere: nothing to hover on.
  for (const key of keys) if (key.origin && !key.derived) into.push({ origin: key.origin, path: key.path, option: option(key) });
}

/**
 * The places of a host that name a path which must survive the rollback (RULES.md §E0): entries of impermanence and
 * preservation lists, the keys sops-nix and agenix decrypt with, and users' password files written as plain paths.
 */
export function survivalPlaces(host: HostModel): SurvivalPlace[] {
  const places: SurvivalPlace[] = [];
  if (!host.isNixosHost) return places;
  for (const root of host.persistenceDetails().roots) {
    const prefix = root.module === 'impermanence' ? `environment.persistence."${root.path}"` : `preservation.preserveAt."${root.path}"`;
    for (const entry of root.entries) {
      if (!entry.origin) continue;
      const list = entry.type === 'file' ? 'files' : 'directories';
      places.push({ origin: entry.origin, path: entry.path, option: entry.user ? `${prefix}.users.${entry.user}.${list}` : `${prefix}.${list}` });
    }
  }
  if (sopsImported(host)) {
    const keys = sopsKeys(host);
    if (keys.known) writtenKeys([...(keys.value.keyFile ? [keys.value.keyFile] : []), ...keys.value.sshKeys], (key) => key.source, places);
  }
  if (agenixImported(host)) {
    const identities = agenixIdentities(host);
    if (identities.known) writtenKeys(identities.value, (key) => key.source, places);
  }
  for (const user of host.config.at('users', 'users').childNames()) {
    for (const option of ['hashedPasswordFile', 'passwordFile']) {
      for (const definition of host.config.at('users', 'users', user, option).definitions) {
        const text = stringText(definition.value);
        if (definition.origin && text?.startsWith('/')) places.push({ origin: definition.origin, path: text, option: `users.users.${user}.${option}` });
      }
    }
  }
  return places;
}

export interface SurvivalFacts {
  path: string;
  /** What keeps the path across a boot (COVER); undefined when that cannot be known. */
  cover: PathCover | undefined;
  /** How the root is erased; undefined when it is not known to be. */
  ephemeral: EphemeralRoot | undefined;
  /** EARLY for what runs before users are created (users, sops-nix setupSecretsForUsers, agenixInstall). */
  beforeUsers: boolean | undefined;
  /** EARLY for sops-nix's setupSecrets (regular secrets), which runs after impermanence links its files. */
  sopsRegular: boolean | undefined;
}

export function survivalFacts(host: HostModel, target: string): SurvivalFacts {
  return {
    path: target,
    cover: host.coverOf(target),
    ephemeral: host.ephemeralRoot(),
    beforeUsers: host.earlyFor(target, 'before-users'),
    sopsRegular: host.earlyFor(target, 'sops-regular'),
  };
}
