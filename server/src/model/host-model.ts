/**
 * The host model: one host's merged configuration read into the things our rules talk about — the disko layout,
 * `fileSystems` (written by hand and emitted by disko, merged with priorities), what stage 1 mounts, the initrd
 * units, scripted hooks and every `zfs rollback` they run, systemd stage 1, hostId, boot.zfs and persistence.
 *
 * Every accessor is three-valued. Where a rule needs to know that something is absent, the model answers "unknown"
 * whenever an unreadable contribution (an opaque module, a computed attribute name, a value built by a function we do
 * not model) might supply it; the reasons are collected in `unknowns` for `--explain` and the JSON output.
 */
import path from 'node:path';
import type { ConfigNode, Cover, Definition, Resolved } from './config';
import { type DiskoLayout, type Dataset, snapshotCovers, scriptText } from './disko';
import type { LibraryModule, OpaqueModule, ImportFailure } from './modules';
import { type Release, releaseAtLeast } from './release';
import { findInvocations, hasFlag, UNKNOWN_CHAR, type ZfsInvocation } from './shell';
import { originOfRange } from './strings';
import { type BtrfsLayout, type RootSubvolume, readBtrfsLayout, rootSubvolumeOf } from './btrfs';
import { type BtrfsRollback, readBtrfsRollbacks } from './btrfs-rollback';
import { type ActivationConsumer, type ActivationMode, activationMode, earlyFor } from './activation';
import { type InputVersions, inputVersionsFromLock } from './input-versions';
import { type EphemeralRoot, type PathCover, type Persistence, coverOf, ephemeralRoot, readPersistence } from './persistence';
import { type Origin, type StringValue, type Value, stringText } from './values';

/** Mount points NixOS mounts in stage 1 whatever `neededForBoot` says (F1: exact match, no prefixes). */
export const PATHS_NEEDED_FOR_BOOT = ['/', '/nix', '/nix/store', '/var', '/var/log', '/var/lib', '/var/lib/nixos', '/etc', '/usr'];

export const SCRIPTED_HOOKS = [
  'preDeviceCommands',
  'postDeviceCommands',
  'postResumeCommands',
  'postMountCommands',
  'preLVMCommands',
  'preFailCommands',
  'extraUtilsCommands',
  'extraUtilsCommandsTest',
  'extraUdevRulesCommands',
  'network.postCommands',
] as const;
export type ScriptedHookName = (typeof SCRIPTED_HOOKS)[number];

/**
 * The unit options NixOS types as `listOf unitNameType` (nixos/lib/systemd-unit-options.nix, F33): a name without a
 * unit suffix fails evaluation there. `upholds` exists only in newer nixpkgs.
 */
export const UNIT_LIST_FIELDS = ['after', 'before', 'wants', 'requires', 'wantedBy', 'requiredBy', 'bindsTo', 'requisite', 'partOf', 'upheldBy', 'upholds', 'conflicts', 'onFailure'] as const;
export type UnitListField = (typeof UNIT_LIST_FIELDS)[number];

export interface UnitListEntry {
  name: string;
  origin?: Origin;
  definition: Definition;
  /** Read from `unitConfig.<Field> = "…"`, which NixOS does not type-check. */
  raw?: boolean;
}

export type HostKind = 'nixos' | 'disko-only' | 'fragment';

export interface UnknownNote {
  what: string;
  origin?: Origin;
}

export interface FileSystemEntry {
  /** The attribute name under `fileSystems`. */
  name: string;
  mountPoint: string;
  node: ConfigNode;
  device: Resolved<string>;
  fsType: Resolved<string>;
  /** Mount options, or undefined when some cannot be read. */
  options: string[] | undefined;
  neededForBootOption: Resolved<boolean>;
  /** Whether every definition of the entry is conditional (it may not exist). */
  conditional: boolean;
  /** Definitions that disko emits for this mount point. */
  diskoDefinitions: Definition[];
  /** Definitions written in the host's modules. */
  writtenDefinitions: Definition[];
  /** Where the entry is written (its attribute name), else where disko declares it. */
  origin?: Origin;
}

export interface ScriptFragment {
  /** `script`, `preStart`, `serviceConfig.ExecStart`, `postDeviceCommands`, … */
  field: string;
  value: StringValue;
  definition: Definition;
}

export interface Unit {
  name: string;
  stage: 'initrd' | 'stage2';
  node: ConfigNode;
  conditional: boolean;
  origin?: Origin;
  scripts: ScriptFragment[];
  /** Scripts of this unit that could not be read. */
  scriptsOpen: boolean;
}

export type RollbackPlace =
  | { kind: 'initrd-unit'; unit: Unit }
  | { kind: 'stage2-unit'; unit: Unit }
  | { kind: 'hook'; hook: ScriptedHookName; order: number }
  | { kind: 'activation'; name: string };

export interface Rollback {
  /** `pool/ds@snap`, or undefined when the target is computed at run time. */
  target?: string;
  dataset?: string;
  snapshot?: string;
  /** `-r` or `-R` given (F14). */
  destroysNewer: boolean;
  place: RollbackPlace;
  conditional: boolean;
  /** The target word (or the command when the target is unknown). */
  origin?: Origin;
  /** The whole `zfs rollback …` command. */
  commandOrigin?: Origin;
  fragment: ScriptFragment;
  invocation: ZfsInvocation;
}

export interface RootDataset {
  name: string;
  origin?: Origin;
  /** The disko dataset, when disko declares it. */
  dataset?: Dataset;
  /** Where the name comes from. */
  source: 'fileSystems' | 'disko';
}

export interface PersistRoot {
  /** `environment.persistence."<path>"` or `preservation.preserveAt."<path>"`. */
  path: string;
  module: 'impermanence' | 'preservation';
  origin?: Origin;
  conditional: boolean;
  /** Persisted directories and files (absolute paths), when readable. */
  entries: string[];
  entriesOpen: boolean;
  /**
   * preservation entries with `inInitrd = true`, which are set up in the initrd and need their source mounted in
   * stage 1 (F37); `initrdOpen` when some entry's `inInitrd` cannot be read.
   */
  initrdEntries: string[];
  initrdOpen: boolean;
}

export interface HostInput {
  name: string;
  kind: HostKind;
  root: string;
  files: string[];
  config: ConfigNode;
  /** The disko devices the host's layout comes from (imported, beside it, or the disko file alone). */
  diskoDevices?: ConfigNode;
  diskoFiles: string[];
  diskoImported: boolean;
  layout?: DiskoLayout;
  release?: Release;
  opaque: OpaqueModule[];
  library: LibraryModule[];
  missing: ImportFailure[];
  /** The text of flake.nix and other host files mention `vmWithDisko`. */
  usesVmWithDisko: boolean;
  /** lastModified (seconds) of the impermanence input in flake.lock, when known. */
  impermanenceLastModified?: number;
  /** The text of the flake.lock beside the host's flake.nix, read through the workspace. */
  flakeLockText?: string;
  /** Set when the evaluation-backed mode asked Nix for the host's values and Nix could not evaluate it. */
  evaluationFailure?: EvaluationFailure;
}

/** Nix's answer when it could not evaluate a host (its first error, mapped back to a workspace file when it can be). */
export interface EvaluationFailure {
  message: string;
  /** Where Nix says the error is, in a file of the host; else the finding sits on the host's root file. */
  origin?: Origin;
}

function stringsOf(node: ConfigNode): { values: string[]; open: boolean; definitions: Definition[] } {
  const result = node.list();
  const values: string[] = [];
  let open = result.open;
  for (const item of result.items) {
    if (item.definition.conditional) {
      open = true;
      continue;
    }
    const text = stringText(item.thunk.force());
    if (text === undefined) open = true;
    else values.push(text);
  }
  return { values, open, definitions: result.items.map((item) => item.definition) };
}

export class HostModel {
  readonly name: string;
  readonly kind: HostKind;
  readonly root: string;
  readonly files: string[];
  readonly config: ConfigNode;
  readonly layout?: DiskoLayout;
  readonly release?: Release;
  private readonly notes = new Map<string, UnknownNote>();
  private cache = new Map<string, unknown>();

  constructor(readonly input: HostInput) {
    this.name = input.name;
    this.kind = input.kind;
    this.root = input.root;
    this.files = input.files;
    this.config = input.config;
    this.layout = input.layout;
    this.release = input.release;
    // A module that might set anything is an unknown from the start. One of a well-known input (input-modules.ts)
    // covers only the options it may set: it is noted when a rule reads one of them, as any other cover is.
    for (const module of input.opaque) if (!module.paths) this.noteUnknown({ what: module.what, origin: module.origin });
  }

  /** Remembers why something could not be decided (listed by `--explain` and in the JSON `unknown`). */
  noteUnknown(note: UnknownNote | Cover | undefined): void {
    if (!note) return;
    const key = `${note.origin?.file}:${note.origin?.start}:${note.what}`;
    if (!this.notes.has(key)) this.notes.set(key, { what: note.what, origin: note.origin });
  }

  get unknowns(): UnknownNote[] {
    return [...this.notes.values()];
  }

  private memo<T>(key: string, compute: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, compute());
    return this.cache.get(key) as T;
  }

  /** Whether the host is a full NixOS configuration (host-level rules apply). */
  get isNixosHost(): boolean {
    return this.kind === 'nixos';
  }

  get hasLibrary(): (name: string) => boolean {
    return (name) => this.input.library.some((module) => module.name === name || module.name.endsWith(name));
  }

  /** Whether disko's fileSystems are part of the host (F26): imported and `disko.enableConfig` not false. */
  diskoInEffect(): boolean | undefined {
    if (!this.input.diskoImported) return false;
    const enable = this.config.at('disko', 'enableConfig').bool();
    if (enable.state === 'known') return enable.value;
    return enable.state === 'absent' ? true : undefined;
  }

  // ---------------------------------------------------------------------------------------------- fileSystems

  fileSystems(): { entries: FileSystemEntry[]; open: boolean } {
    return this.memo('fileSystems', () => {
      const node = this.config.child('fileSystems');
      const entries: FileSystemEntry[] = [];
      const unknownNames = node.unknownNames();
      for (const cover of unknownNames) this.noteUnknown(cover);
      for (const name of node.childNames()) {
        const entry = node.child(name);
        if (entry.dropped) continue;
        const mountPoint = entry.child('mountPoint').string();
        const definitions = entry.effective().definitions;
        const disko = definitions.filter((definition) => definition.synthetic === 'disko');
        const written = definitions.filter((definition) => definition.synthetic !== 'disko');
        entries.push({
          name,
          mountPoint: mountPoint.state === 'known' ? mountPoint.value : name,
          node: entry,
          device: entry.child('device').string(),
          fsType: entry.child('fsType').string(),
          options: (() => {
            const options = stringsOf(entry.child('options'));
            return options.open ? undefined : options.values;
          })(),
          neededForBootOption: entry.child('neededForBoot').bool(),
          conditional: definitions.length > 0 && definitions.every((definition) => definition.conditional),
          diskoDefinitions: disko,
          writtenDefinitions: written,
          origin: (written.find((definition) => definition.keyOrigin) ?? definitions[0])?.keyOrigin ?? definitions[0]?.origin,
        });
      }
      return { entries, open: unknownNames.length > 0 };
    });
  }

  /**
   * The fileSystems entries by mount point and by known device, in their order, built once per model: rules look a
   * mount up here instead of walking every entry (a large host has thousands).
   */
  private mountIndex(): { byMountPoint: Map<string, FileSystemEntry[]>; byDevice: Map<string, FileSystemEntry[]> } {
    return this.memo('mountIndex', () => {
      const byMountPoint = new Map<string, FileSystemEntry[]>();
      const byDevice = new Map<string, FileSystemEntry[]>();
      for (const entry of this.fileSystems().entries) {
        pushTo(byMountPoint, entry.mountPoint, entry);
        if (entry.device.state === 'known') pushTo(byDevice, entry.device.value, entry);
      }
      return { byMountPoint, byDevice };
    });
  }

  fileSystemAt(mountPoint: string): FileSystemEntry | undefined {
    return this.mountIndex().byMountPoint.get(mountPoint)?.find((entry) => !entry.conditional);
  }

  /** The first unconditional mount whose device is known to be `device`. */
  mountOfDevice(device: string): FileSystemEntry | undefined {
    return this.mountIndex().byDevice.get(device)?.find((entry) => !entry.conditional);
  }

  /**
   * Whether some mount is at exactly `mountPoint`: true, false, or undefined when an unreadable fileSystems
   * contribution (or one under a condition) might add it.
   */
  hasMountAt(mountPoint: string): boolean | undefined {
    const { open } = this.fileSystems();
    const matching = this.mountIndex().byMountPoint.get(mountPoint) ?? [];
    if (matching.some((entry) => !entry.conditional)) return true;
    if (matching.length > 0 || open) return undefined;
    if (this.kind !== 'nixos') return undefined;
    return false;
  }

  /**
   * Whether the mount at `mountPoint` is mounted in stage 1 (F1–F3): `neededForBoot = true` or one of the fixed
   * paths. Undefined when unknown.
   */
  neededForBoot(entry: FileSystemEntry): boolean | undefined {
    if (PATHS_NEEDED_FOR_BOOT.includes(entry.mountPoint)) return true;
    const option = entry.neededForBootOption;
    if (option.state === 'known') return option.value;
    if (option.state === 'unknown') {
      this.noteUnknown(option);
      return undefined;
    }
    // No definition: the default is false, unless something unreadable might set it.
    if (entry.node.child('neededForBoot').covers.length > 0) return undefined;
    return false;
  }

  /** The mount that holds a path: the longest mount point that is a prefix of it. */
  mountHolding(target: string): FileSystemEntry | undefined {
    // The mount points that hold the path, longest first: the path itself, each part before one of its slashes,
    // "/" (which holds everything), and "" (a path that starts with a slash is "" followed by one).
    const index = this.mountIndex().byMountPoint;
    const first = (mountPoint: string) => index.get(mountPoint)?.find((entry) => !entry.conditional);
    const exact = first(target);
    if (exact) return exact;
    for (let slash = target.lastIndexOf('/'); slash > 1; slash = target.lastIndexOf('/', slash - 1)) {
      const entry = first(target.slice(0, slash));
      if (entry) return entry;
    }
    // One character before a slash is as long as "/": of two such mounts the one listed first holds the path.
    const short = target[1] === '/' ? first(target[0]) : undefined;
    const root = first('/');
    if (short && root) return this.fileSystems().entries.indexOf(short) < this.fileSystems().entries.indexOf(root) ? short : root;
    return short ?? root ?? (target.startsWith('/') ? first('') : undefined);
  }

  /** The disko layout's datasets by full name, and its mounts by mount point and by device, built once per model. */
  private layoutIndex(): { datasets: Map<string, Dataset>; emittedAt: Map<string, DiskoLayout['emitted']>; emittedOf: Map<string, DiskoLayout['emitted']> } {
    return this.memo('layoutIndex', () => {
      const datasets = new Map<string, Dataset>();
      const emittedAt = new Map<string, DiskoLayout['emitted']>();
      const emittedOf = new Map<string, DiskoLayout['emitted']>();
      for (const dataset of this.layout?.datasets ?? []) if (!datasets.has(dataset.fullName)) datasets.set(dataset.fullName, dataset);
      for (const mount of this.layout?.emitted ?? []) {
        pushTo(emittedAt, mount.mountPoint, mount);
        if (mount.device !== undefined) pushTo(emittedOf, mount.device, mount);
      }
      return { datasets, emittedAt, emittedOf };
    });
  }

  /** The disko dataset with this full name (the first, as a search of the layout's list finds it). */
  datasetNamed(fullName: string): Dataset | undefined {
    return this.layoutIndex().datasets.get(fullName);
  }

  /** The mounts disko emits at a mount point, in the layout's order. */
  emittedAt(mountPoint: string): DiskoLayout['emitted'] {
    return this.layoutIndex().emittedAt.get(mountPoint) ?? [];
  }

  /** The mounts disko emits of a device, in the layout's order. */
  emittedOf(device: string): DiskoLayout['emitted'] {
    return this.layoutIndex().emittedOf.get(device) ?? [];
  }

  // ---------------------------------------------------------------------------------------------- root dataset

  /** ROOTDS: `fileSystems."/".device` when it is zfs, else the disko dataset mounted at "/". */
  rootDataset(): RootDataset | undefined {
    return this.memo('rootDataset', () => {
      const root = this.fileSystemAt('/');
      const device = root?.device;
      if (root && root.fsType.state === 'known' && root.fsType.value === 'zfs' && device?.state === 'known') {
        const dataset = this.datasetNamed(device.value);
        return { name: device.value, origin: device.definitions[0]?.origin, dataset, source: 'fileSystems' as const };
      }
      if (root && root.fsType.state === 'known' && root.fsType.value !== 'zfs') return undefined;
      const fromDisko = this.layout && this.emittedAt('/');
      if (fromDisko && fromDisko.length === 1 && fromDisko[0].dataset && (!root || root.device.state !== 'unknown')) {
        const dataset = fromDisko[0].dataset;
        return { name: dataset.fullName, origin: dataset.origin, dataset, source: 'disko' as const };
      }
      return undefined;
    });
  }

  /** The root file system is a tmpfs (an ephemeral root without rollback). */
  rootIsTmpfs(): boolean {
    const root = this.fileSystemAt('/');
    return root?.fsType.state === 'known' && root.fsType.value === 'tmpfs';
  }

  // ---------------------------------------------------------------------------------------------- btrfs (§F)

  /** The disko btrfs file systems, their subvolumes and the snapshots their hooks take (btrfs.ts). */
  btrfsLayout(): BtrfsLayout {
    return this.memo('btrfsLayout', () => readBtrfsLayout(this.input.diskoDevices));
  }

  /** ROOTSV: the subvolume mounted at "/" (its `subvol=` option); undefined when unknown or not btrfs. */
  rootSubvolume(): RootSubvolume | undefined {
    return this.memo('rootSubvolume', () => rootSubvolumeOf(this.fileSystemAt('/'), this.btrfsLayout()));
  }

  /** Every btrfs rollback BR (delete X, then restore or create it) in units, hooks and activation scripts. */
  btrfsRollbacks(): { rollbacks: BtrfsRollback[]; open: boolean } {
    return this.memo('btrfsRollbacks', () => readBtrfsRollbacks(this));
  }

  /** The BR of ROOTSV that certainly runs in stage 1 (an initrd unit or a scripted hook), if any. */
  btrfsRootRollback(): BtrfsRollback | undefined {
    const root = this.rootSubvolume();
    if (!root) return undefined;
    return this.btrfsRollbacks().rollbacks.find((rollback) => !rollback.conditional && rollback.subvolume === root.name && (rollback.place.kind === 'initrd-unit' || rollback.place.kind === 'hook'));
  }

  // ---------------------------------------------------------------------------------------------- units and hooks

  private units(stage: 'initrd' | 'stage2'): { units: Unit[]; open: boolean } {
    return this.memo(`units:${stage}`, () => {
      const node = stage === 'initrd' ? this.config.at('boot', 'initrd', 'systemd', 'services') : this.config.at('systemd', 'services');
      const units: Unit[] = [];
      const unknownNames = node.unknownNames();
      for (const cover of unknownNames) this.noteUnknown(cover);
      for (const name of node.childNames()) {
        const unitNode = node.child(name);
        if (unitNode.dropped) continue;
        const definitions = unitNode.effective().definitions;
        const scripts: ScriptFragment[] = [];
        let scriptsOpen = false;
        for (const field of ['script', 'preStart', 'postStart']) {
          const lines = unitNode.child(field).lines();
          scriptsOpen ||= lines.open;
          for (const fragment of lines.fragments) scripts.push({ field, value: fragment.value as StringValue, definition: fragment });
        }
        for (const field of ['ExecStart', 'ExecStartPre', 'ExecStartPost']) {
          const execNode = unitNode.at('serviceConfig', field);
          const { definitions: execDefinitions } = execNode.effective();
          scriptsOpen ||= execNode.covers.length > 0;
          for (const definition of execDefinitions) {
            const values = definition.value.kind === 'list' ? definition.value.items.map((item) => item.force()) : [definition.value];
            for (const value of values) {
              if (value.kind === 'string') scripts.push({ field: `serviceConfig.${field}`, value, definition });
              else scriptsOpen = true;
            }
          }
        }
        units.push({
          name,
          stage,
          node: unitNode,
          conditional: definitions.length > 0 && definitions.every((definition) => definition.conditional),
          origin: definitions.find((definition) => definition.keyOrigin)?.keyOrigin,
          scripts,
          scriptsOpen,
        });
      }
      return { units, open: unknownNames.length > 0 };
    });
  }

  initrdUnits(): { units: Unit[]; open: boolean } {
    return this.units('initrd');
  }

  stage2Units(): { units: Unit[]; open: boolean } {
    return this.units('stage2');
  }

  /**
   * Names listed in a unit's `after`, `before`, … (with the place of each), and whether more may exist. Names read
   * from the raw `unitConfig.After = "…"` spelling carry `raw`: NixOS checks the typed list against its unit-name
   * pattern at evaluation, but passes the raw string to systemd unchecked (F33).
   */
  unitList(unit: Unit, field: UnitListField): { values: UnitListEntry[]; open: boolean } {
    const result = unit.node.child(field).list();
    const values: UnitListEntry[] = [];
    let open = result.open;
    for (const cover of result.unknowns) this.noteUnknown(cover);
    for (const item of result.items) {
      const value = item.thunk.force();
      const text = stringText(value);
      if (text === undefined || item.definition.conditional) {
        open = true;
        continue;
      }
      values.push({ name: text, origin: item.thunk.origin ?? value.origin, definition: item.definition });
    }
    // `unitConfig.After = "…"` spells the same dependency in raw systemd syntax.
    const raw = unit.node.at('unitConfig', field.charAt(0).toUpperCase() + field.slice(1)).scalar();
    if (raw.state === 'known') {
      const text = stringText(raw.value);
      if (text === undefined) open = true;
      else {
        // Each name points at its own characters when the string is written literally.
        for (const match of text.matchAll(/\S+/g)) {
          const at = raw.value.kind === 'string' ? originOfRange(raw.value, match.index, match.index + match[0].length) : undefined;
          values.push({ name: match[0], origin: at ?? raw.definitions[0].origin, definition: raw.definitions[0], raw: true });
        }
      }
    } else if (raw.state === 'unknown') open = true;
    return { values, open };
  }

  scriptedHooks(): { hook: ScriptedHookName; fragments: Definition[]; open: boolean }[] {
    return this.memo('scriptedHooks', () =>
      SCRIPTED_HOOKS.map((hook) => {
        const node = this.config.at('boot', 'initrd', ...hook.split('.'));
        const lines = node.lines();
        for (const cover of lines.unknowns) this.noteUnknown(cover);
        return { hook, fragments: lines.fragments, open: lines.open };
      }),
    );
  }

  activationScripts(): { name: string; fragments: ScriptFragment[]; open: boolean }[] {
    return this.memo('activation', () => {
      const node = this.config.at('system', 'activationScripts');
      return node.childNames().map((name) => {
        const script = node.child(name);
        const fragments: ScriptFragment[] = [];
        let open = false;
        for (const definition of script.effective().definitions) {
          if (definition.value.kind === 'string') fragments.push({ field: `system.activationScripts.${name}`, value: definition.value, definition });
          else if (definition.value.kind === 'attrs') {
            const text = script.child('text').lines();
            open ||= text.open;
            for (const fragment of text.fragments) fragments.push({ field: `system.activationScripts.${name}.text`, value: fragment.value as StringValue, definition: fragment });
            break;
          } else open = true;
        }
        return { name, fragments, open };
      });
    });
  }

  /** Every `zfs rollback` in initrd units, scripted hooks, stage-2 units and activation scripts. */
  rollbacks(): { rollbacks: Rollback[]; open: boolean } {
    return this.memo('rollbacks', () => {
      const rollbacks: Rollback[] = [];
      let open = false;
      const scan = (fragment: ScriptFragment, place: RollbackPlace, conditional: boolean) => {
        const text = scriptText(fragment.value);
        for (const invocation of findInvocations(text, 'zfs')) {
          if (invocation.subcommand !== 'rollback') continue;
          const operand = invocation.operands[0];
          const known = operand && !operand.dynamic && !operand.text.includes(UNKNOWN_CHAR) && operand.text.includes('@');
          const commandOrigin = originOfRange(fragment.value, invocation.command.start, invocation.command.end) ?? fragment.definition.origin;
          rollbacks.push({
            target: known ? operand.text : undefined,
            dataset: known ? operand.text.slice(0, operand.text.indexOf('@')) : undefined,
            snapshot: known ? operand.text.slice(operand.text.indexOf('@') + 1) : undefined,
            destroysNewer: hasFlag(invocation.flags, 'r') || hasFlag(invocation.flags, 'R'),
            place,
            conditional: conditional || fragment.definition.conditional,
            origin: (operand && originOfRange(fragment.value, operand.start, operand.end)) ?? commandOrigin,
            commandOrigin,
            fragment,
            invocation,
          });
        }
        // A script we could only partly read might hide a rollback.
        if (text.includes(UNKNOWN_CHAR)) open = true;
      };
      for (const stage of ['initrd', 'stage2'] as const) {
        const { units, open: unitsOpen } = this.units(stage);
        open ||= unitsOpen;
        for (const unit of units) {
          open ||= unit.scriptsOpen;
          for (const fragment of unit.scripts) scan(fragment, stage === 'initrd' ? { kind: 'initrd-unit', unit } : { kind: 'stage2-unit', unit }, unit.conditional);
        }
      }
      for (const hook of this.scriptedHooks()) {
        open ||= hook.open;
        for (const definition of hook.fragments) {
          scan({ field: hook.hook, value: definition.value as StringValue, definition }, { kind: 'hook', hook: hook.hook, order: definition.order }, false);
        }
      }
      for (const script of this.activationScripts()) {
        open ||= script.open;
        for (const fragment of script.fragments) scan(fragment, { kind: 'activation', name: script.name }, false);
      }
      if (this.kind !== 'nixos') open = true;
      return { rollbacks, open };
    });
  }

  /** Rollbacks that run in stage 1 and are not conditional. */
  certainStage1Rollbacks(): Rollback[] {
    return this.rollbacks().rollbacks.filter((rollback) => !rollback.conditional && (rollback.place.kind === 'initrd-unit' || rollback.place.kind === 'hook'));
  }

  /** The root dataset is rolled back on every boot (by a rollback we can read). */
  rootIsRolledBack(): boolean {
    const root = this.rootDataset();
    if (!root) return false;
    return this.certainStage1Rollbacks().some((rollback) => rollback.dataset === root.name);
  }

  /** Whether a snapshot `dataset@snap` is created by a disko hook: true, false, or undefined when unknown. */
  snapshotCreated(dataset: string, snapshot: string): boolean | undefined {
    const layout = this.layout;
    if (!layout) return undefined;
    if (layout.snapshots.some((created) => snapshotCovers(created, dataset, snapshot))) return true;
    return layout.snapshotsOpen ? undefined : false;
  }

  // ---------------------------------------------------------------------------------------------- settings

  /** systemd in stage 1: explicitly set, or the release default (on since 26.05, F15). */
  systemdInitrd(): { state: 'on' | 'off' | 'unknown'; explicit: boolean; definitions: Definition[]; reason: string; releaseUnknown?: boolean } {
    return this.memo('systemdInitrd', () => {
      const option = this.config.at('boot', 'initrd', 'systemd', 'enable').bool();
      if (option.state === 'known') {
        return { state: option.value ? ('on' as const) : ('off' as const), explicit: true, definitions: option.definitions, reason: `boot.initrd.systemd.enable = ${option.value}` };
      }
      if (option.state === 'unknown') {
        this.noteUnknown(option);
        return { state: 'unknown' as const, explicit: false, definitions: [], reason: option.what };
      }
      if (this.kind !== 'nixos') return { state: 'unknown' as const, explicit: false, definitions: [], reason: 'the rest of the host is not in reach' };
      const since = releaseAtLeast(this.release, '26.05');
      if (since === undefined) {
        return { state: 'unknown' as const, explicit: false, definitions: [], reason: 'unset, and the nixpkgs release is unknown (on by default since 26.05)', releaseUnknown: true };
      }
      return {
        state: since ? ('on' as const) : ('off' as const),
        explicit: false,
        definitions: [],
        reason: `unset: ${since ? 'on' : 'off'} by default on ${this.release?.evidence}`,
      };
    });
  }

  hostId(): Resolved<string> {
    const resolved = this.config.at('networking', 'hostId').string();
    if (resolved.state === 'unknown') this.noteUnknown(resolved);
    if (resolved.state === 'absent' && this.kind !== 'nixos') return { state: 'unknown', what: 'networking.hostId belongs to the configuration that imports this file' };
    if (resolved.state === 'absent' && this.config.covers.length > 0) return { state: 'unknown', what: this.config.covers[0].what, origin: this.config.covers[0].origin };
    return resolved;
  }

  zfsPackage(): Resolved<Value> {
    return this.config.at('boot', 'zfs', 'package').scalar();
  }

  devNodes(): Resolved<string> {
    return this.config.at('boot', 'zfs', 'devNodes').string();
  }

  /** Whether ZFS is in use: zfs fileSystems, a disko zpool, or `boot.supportedFilesystems` naming zfs. */
  zfsInUse(): boolean | undefined {
    if (this.fileSystems().entries.some((entry) => !entry.conditional && entry.fsType.state === 'known' && entry.fsType.value === 'zfs')) return true;
    if (this.layout && this.layout.pools.length > 0) return true;
    for (const option of [['boot', 'supportedFilesystems'], ['boot', 'initrd', 'supportedFilesystems']]) {
      const node = this.config.at(...option);
      const asList = stringsOf(node);
      if (asList.values.includes('zfs')) return true;
      const asAttr = node.child('zfs').bool();
      if (asAttr.state === 'known' && asAttr.value) return true;
    }
    return undefined;
  }

  /** Persistent storage roots declared for impermanence or preservation. */
  persistence(): PersistRoot[] {
    return this.memo('persistence', () => {
      const roots: PersistRoot[] = [];
      const read = (node: ConfigNode, module: PersistRoot['module']) => {
        for (const cover of node.unknownNames()) this.noteUnknown(cover);
        for (const name of node.childNames()) {
          const root = node.child(name);
          if (root.dropped) continue;
          const enable = root.child('enable').bool();
          if (enable.state === 'known' && !enable.value) continue;
          const storagePath = root.child('persistentStoragePath').string();
          const definitions = root.effective().definitions;
          const entries: string[] = [];
          const initrdEntries: string[] = [];
          let entriesOpen = enable.state === 'unknown';
          let initrdOpen = false;
          const collect = (listNode: ConfigNode, prefix: string) => {
            const result = listNode.list();
            entriesOpen ||= result.open;
            for (const item of result.items) {
              const value = item.thunk.force();
              const text = stringText(value) ?? (value.kind === 'attrs' ? stringText(value.entries.get('directory')?.thunk.force() ?? value.entries.get('file')?.thunk.force() ?? { kind: 'null' }) : undefined);
              if (text === undefined) {
                entriesOpen = true;
                continue;
              }
              const entryPath = text.startsWith('/') ? text : path.posix.join(prefix, text);
              entries.push(entryPath);
              // `{ file = "/etc/machine-id"; inInitrd = true; }`; a plain string is `inInitrd = false` (its default).
              const inInitrd = value.kind === 'attrs' ? value.entries.get('inInitrd')?.thunk.force() : undefined;
              if (value.kind === 'attrs' && value.unknownKeys.length > 0) initrdOpen = true;
              if (inInitrd === undefined) continue;
              if (inInitrd.kind === 'bool') {
                if (inInitrd.value) initrdEntries.push(entryPath);
              } else initrdOpen = true;
            }
          };
          collect(root.child('directories'), '/');
          collect(root.child('files'), '/');
          const users = root.child('users');
          for (const user of users.childNames()) {
            const home = users.child(user).child('home').string();
            const prefix = home.state === 'known' ? home.value : user === 'root' ? '/root' : `/home/${user}`;
            collect(users.child(user).child('directories'), prefix);
            collect(users.child(user).child('files'), prefix);
          }
          roots.push({
            path: storagePath.state === 'known' ? storagePath.value : name,
            module,
            origin: definitions.find((definition) => definition.keyOrigin)?.keyOrigin,
            conditional: definitions.length > 0 && definitions.every((definition) => definition.conditional),
            entries,
            entriesOpen,
            initrdEntries,
            initrdOpen: initrdOpen || entriesOpen,
          });
        }
      };
      read(this.config.at('environment', 'persistence'), 'impermanence');
      const preservation = this.config.at('preservation', 'enable').bool();
      if (preservation.state !== 'known' || preservation.value) read(this.config.at('preservation', 'preserveAt'), 'preservation');
      return roots;
    });
  }

  // ---------------------------------------------------------------------------------------------- what survives a boot (RULES.md §E0)

  /** EPH: the root is erased at every boot, and how; undefined when unknown (persistence.ts). */
  ephemeralRoot(): EphemeralRoot | undefined {
    return this.memo('ephemeralRoot', () => ephemeralRoot(this));
  }

  /** impermanence and preservation roots with typed entries (files, directories, per user, inInitrd). */
  persistenceDetails(): Persistence {
    return this.memo('persistenceDetails', () => readPersistence(this));
  }

  /** COVER(P): what keeps a path across a boot; undefined when unknown. */
  coverOf(target: string): PathCover | undefined {
    return this.memo(`cover:${target}`, () => coverOf(this, target, this.persistenceDetails()));
  }

  /** EARLY(P, consumer): whether the path exists when an activation-time consumer reads it. */
  earlyFor(target: string, consumer: ActivationConsumer): boolean | undefined {
    const cover = this.coverOf(target);
    return cover ? earlyFor(this, cover, consumer, this.inputVersions()) : undefined;
  }

  /** How sops-nix, agenix or user creation runs: in the activation script or as systemd units (F43, F47). */
  activationMode(tool: 'sops' | 'agenix' | 'users'): ActivationMode {
    return this.memo(`activationMode:${tool}`, () => activationMode(this, tool));
  }

  /** Revisions of impermanence, sops-nix, agenix and preservation in the flake.lock beside the host's flake.nix. */
  inputVersions(): InputVersions {
    return this.memo('inputVersions', () => {
      // The lock text comes through the workspace (hosts.ts), which reads only inside the analysed folders.
      const versions = this.input.flakeLockText ? inputVersionsFromLock(this.input.flakeLockText) : {};
      // hosts.ts reads impermanence's revision itself; prefer it when the lock beside flake.nix said nothing.
      if (!versions.impermanence && this.input.impermanenceLastModified !== undefined) versions.impermanence = { lastModified: this.input.impermanenceLastModified };
      return versions;
    });
  }
}

/** Appends to the list kept under a key (the indexes above keep every entry, in order). */
function pushTo<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}
