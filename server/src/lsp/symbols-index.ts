/**
 * Where each pool, dataset, snapshot, unit and mount point of a host is named: the index behind hover, definition,
 * references, rename, document symbols and the layout view.
 *
 * An occurrence is recorded with the exact characters of the name in the source. Names inside strings (a
 * `fileSystems` device, a `zfs rollback` operand in a unit script, a `zfs snapshot` in a disko hook, a
 * `zfs-import-<pool>.service` in a unit list) are mapped back through the string's pieces (`originOfRange`); where
 * the characters are not written literally inside that very string (an interpolation, a string built elsewhere and
 * passed in), the occurrence is *computed*: it still answers hover and references, but a rename refuses to run
 * rather than change some places and not others.
 *
 * Besides what the model reads, every string literal of the host's files is searched for `pool/dataset[@snapshot]`
 * words of the host's pools (a `grep '^rpool/x@blank$'` guard, a custom module's `"rpool/x" = "/";`): such
 * *mentions* are written literally, so a rename updates them too.
 */
import type { Definition } from '../model/config';
import { type Dataset, type DiskoLayout, type Pool, scriptText } from '../model/disko';
import { type HostModel, UNIT_LIST_FIELDS } from '../model/host-model';
import { findInvocations } from '../model/shell';
import { originOfRange } from '../model/strings';
import { type Origin, type StringValue, type Value, stringText } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { AnalysisResult } from '../rules/engine';
import type { SyntaxNode } from '../syntax/parser';
import { btrfsOccurrences } from './btrfs-symbols';

export type SymbolKind = 'pool' | 'dataset' | 'snapshot' | 'unit' | 'path' | 'subvolume';

export interface SymbolRef {
  kind: SymbolKind;
  /** `rpool`, `rpool/local/root`, `rpool/local/root@blank`, `sysroot.mount`, `/persist`. */
  name: string;
}

export type OccurrenceRole =
  /** A disko `zpool.<name>` / `datasets.<name>` attribute, or its `name = "…"`. */
  | 'declaration'
  /** `fileSystems.<mount>.device`. */
  | 'device'
  /** The operand of `zfs rollback`. */
  | 'rollback'
  /** The operand of `zfs snapshot`. */
  | 'snapshot'
  /** An operand of another `zfs` subcommand (`destroy`, `list`, …). */
  | 'zfs-command'
  /** The pool of `zpool import`. */
  | 'zpool-import'
  /** A unit named in `after`, `before`, `wantedBy`, … (or the pool inside `zfs-import-<pool>.service`). */
  | 'unit-list'
  /** A unit's own attribute name under `systemd.services` / `boot.initrd.systemd.services`. */
  | 'unit-name'
  /** `content = { type = "zfs"; pool = "<pool>"; }` of a disk partition. */
  | 'partition'
  /** `boot.zfs.extraPools` or `boot.zfs.pools.<pool>`. */
  | 'pool-option'
  /** `fileSystems."<mount>"`. */
  | 'mount-key'
  /** disko's `mountpoint = "<mount>"`. */
  | 'disko-mountpoint'
  /** `environment.persistence."<path>"` / `preservation.preserveAt."<path>"`. */
  | 'persist-key'
  /** The btrfs subvolume of a `fileSystems` entry's `subvol=` option (btrfs-symbols.ts). */
  | 'subvol-option'
  /** The name written in some other string literal. */
  | 'mention';

export interface Occurrence {
  host: string;
  symbol: SymbolRef;
  role: OccurrenceRole;
  /** The characters of the name (a dataset: all of `pool/a/b`, or the disko key `a/b`). */
  origin: Origin;
  /**
   * Where the renamable part starts in the source: a dataset's name inside its pool (`a/b`), a snapshot's name after
   * the `@`, a pool's name. Its length is that of the part (`relativeName`).
   */
  nameStart: number;
  /** Why the characters are not written literally here (then `origin` is the whole string holding them). */
  computed?: string;
  /** The name is an attribute written as a bare identifier (a new name that is no identifier must be quoted). */
  bareKey?: boolean;
  /** What holds it: `initrd unit rollback (after)`, `postCreateHook of rpool/local/root`, … */
  context?: string;
  /** The definition the occurrence comes from (unit lists, devices), for conditions. */
  conditional?: boolean;
}

/** The part of a symbol's name that a rename edits: the dataset inside its pool, the snapshot after `@`. */
export function relativeName(symbol: SymbolRef): string {
  if (symbol.kind === 'dataset') return symbol.name.slice(symbol.name.indexOf('/') + 1);
  if (symbol.kind === 'snapshot') return symbol.name.slice(symbol.name.indexOf('@') + 1);
  return symbol.name;
}

export function poolOfName(name: string): string {
  return name.split(/[/@]/)[0];
}

/** A ZFS name: `pool`, `pool/a/b`, `pool/a@snap` (the characters ZFS allows in components). */
const ZFS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(?:\/[A-Za-z0-9_.:-]+)*(?:@[A-Za-z0-9_.:-]+)?$/;
/** The same, found inside other text: not preceded by a name character or `/` (a path), not followed by one. */
const ZFS_WORD = /(?<![A-Za-z0-9_.:/@-])[A-Za-z0-9][A-Za-z0-9_.:-]*(?:\/[A-Za-z0-9_.:-]+)*(?:@[A-Za-z0-9_.:-]+)?(?![A-Za-z0-9_.:/@-])/g;

export function isZfsName(text: string): boolean {
  return ZFS_NAME.test(text);
}

export interface HostIndex {
  host: HostModel;
  occurrences: Occurrence[];
  byFile: Map<string, Occurrence[]>;
  /** Pool names the host knows of: declared in disko, used by a device, a rollback or a partition. */
  pools: Set<string>;
}

function sameOrigin(a: Origin, b: Origin): boolean {
  return a.file === b.file && a.start === b.start && a.end === b.end;
}

function overlaps(a: Origin, b: Origin): boolean {
  return a.file === b.file && a.start < b.end && b.start < a.end;
}

/** Where characters `from`–`to` of a string value are written, when they are written literally inside that string. */
export function literalRange(workspace: Workspace, value: StringValue, from: number, to: number): Origin | undefined {
  const origin = originOfRange(value, from, to);
  if (!origin) return undefined;
  const text = workspace.source(origin.file)?.text;
  if (text === undefined || text.slice(origin.start, origin.end) !== scriptText(value).slice(from, to)) return undefined;
  // Characters of another literal, interpolated or passed in, are not this string's: editing them edits every use.
  const holder = value.origin;
  if (!holder || holder.file !== origin.file || origin.start < holder.start || origin.end > holder.end) return undefined;
  return origin;
}

/** The characters of an attribute name written at `keyOrigin`: a bare identifier, or the inside of `"…"`. */
export function keyRange(workspace: Workspace, keyOrigin: Origin, name: string): { origin: Origin; bare: boolean } | undefined {
  const text = workspace.source(keyOrigin.file)?.text;
  if (text === undefined) return undefined;
  const written = text.slice(keyOrigin.start, keyOrigin.end);
  if (written === name) return { origin: keyOrigin, bare: true };
  if (written === JSON.stringify(name) && !name.includes('\\') && !name.includes('${')) {
    return { origin: { file: keyOrigin.file, start: keyOrigin.start + 1, end: keyOrigin.end - 1 }, bare: false };
  }
  return undefined;
}

class Builder {
  readonly occurrences: Occurrence[] = [];
  readonly pools = new Set<string>();

  constructor(
    readonly host: HostModel,
    readonly workspace: Workspace,
  ) {}

  add(occurrence: Omit<Occurrence, 'host'>): void {
    if (this.occurrences.some((existing) => existing.symbol.kind === occurrence.symbol.kind && existing.symbol.name === occurrence.symbol.name && sameOrigin(existing.origin, occurrence.origin))) return;
    this.occurrences.push({ ...occurrence, host: this.host.name });
  }

  /**
   * A ZFS name written at `origin` (its first character at `origin.start`): the pool part, the dataset and the
   * snapshot, each as its own occurrence.
   */
  addName(text: string, origin: Origin, role: OccurrenceRole, extra: { computed?: string; context?: string; conditional?: boolean } = {}): void {
    if (!isZfsName(text)) return;
    const at = text.indexOf('@');
    const datasetName = at >= 0 ? text.slice(0, at) : text;
    const pool = poolOfName(text);
    this.pools.add(pool);
    const span = (from: number, to: number): Origin => (extra.computed ? origin : { file: origin.file, start: origin.start + from, end: origin.start + to });
    this.add({ symbol: { kind: 'pool', name: pool }, role, origin: span(0, pool.length), nameStart: origin.start, ...extra });
    if (datasetName !== pool) this.add({ symbol: { kind: 'dataset', name: datasetName }, role, origin: span(0, datasetName.length), nameStart: origin.start + pool.length + 1, ...extra });
    if (at >= 0) this.add({ symbol: { kind: 'snapshot', name: text }, role, origin: span(0, text.length), nameStart: origin.start + at + 1, ...extra });
  }

  /** Characters `from`–`to` of a string value hold a ZFS name. */
  addNameIn(value: StringValue, from: number, to: number, role: OccurrenceRole, fallback: Origin | undefined, extra: { context?: string; conditional?: boolean } = {}): void {
    const text = scriptText(value).slice(from, to);
    const literal = literalRange(this.workspace, value, from, to);
    if (literal) this.addName(text, literal, role, extra);
    else {
      const origin = value.origin ?? fallback;
      if (origin) this.addName(text, origin, role, { ...extra, computed: 'the name is built from other values (an interpolation or a string passed in)' });
    }
  }

  /** A whole string value that is a name of `kind` (a unit, a mount point). */
  addWhole(value: Value, symbol: (text: string) => SymbolRef | undefined, role: OccurrenceRole, fallback: Origin | undefined, extra: { context?: string; conditional?: boolean } = {}): void {
    if (value.kind !== 'string') return;
    const text = stringText(value);
    if (text === undefined) return;
    const ref = symbol(text);
    if (!ref) return;
    const literal = literalRange(this.workspace, value, 0, text.length);
    const origin = literal ?? value.origin ?? fallback;
    if (!origin) return;
    this.add({ symbol: ref, role, origin, nameStart: origin.start, computed: literal ? undefined : 'the name is built from other values', ...extra });
    if (ref.kind === 'unit') this.addImportUnitPool(text, literal, origin, role, extra);
  }

  /** The pool inside `zfs-import-<pool>.service` (or the unit attribute `zfs-import-<pool>`). */
  addImportUnitPool(text: string, literal: Origin | undefined, origin: Origin, role: OccurrenceRole, extra: { context?: string; conditional?: boolean } = {}): void {
    const match = /^zfs-import-(.+?)(\.service)?$/.exec(text);
    if (!match || !isZfsName(match[1]) || match[1].includes('/') || match[1].includes('@')) return;
    const pool = match[1];
    const prefix = 'zfs-import-'.length;
    const at = literal ? { file: literal.file, start: literal.start + prefix, end: literal.start + prefix + pool.length } : origin;
    this.add({ symbol: { kind: 'pool', name: pool }, role, origin: at, nameStart: at.start, computed: literal ? undefined : 'the unit name is built from other values', ...extra });
  }

  /** An attribute key naming something (its characters, or the whole key when written otherwise). */
  addKey(keyOrigin: Origin | undefined, name: string, symbol: SymbolRef, role: OccurrenceRole, extra: { context?: string; conditional?: boolean; nameOffset?: number; nameLength?: number } = {}): void {
    if (!keyOrigin) return;
    const key = keyRange(this.workspace, keyOrigin, name);
    const { nameOffset = 0, nameLength, ...rest } = extra;
    if (key) {
      const origin = nameLength === undefined ? key.origin : { file: key.origin.file, start: key.origin.start + nameOffset, end: key.origin.start + nameOffset + nameLength };
      this.add({ symbol, role, origin, nameStart: origin.start, bareKey: key.bare, ...rest });
    } else this.add({ symbol, role, origin: keyOrigin, nameStart: keyOrigin.start, computed: 'the attribute name is computed or escaped', ...rest });
  }
}

/** Attribute keys of a config node: one per definition that wrote it (several modules may extend one dataset). */
function keyOrigins(definitions: Definition[]): Origin[] {
  const result: Origin[] = [];
  for (const definition of definitions) if (definition.keyOrigin && !result.some((origin) => sameOrigin(origin, definition.keyOrigin!))) result.push(definition.keyOrigin);
  return result;
}

function declarePool(builder: Builder, pool: Pool): void {
  builder.pools.add(pool.name);
  const nameNode = pool.node.child('name');
  const explicit = nameNode.scalar();
  if (explicit.state === 'known' && explicit.value.kind === 'string') {
    for (const definition of explicit.definitions) builder.addWhole(definition.value, () => ({ kind: 'pool', name: pool.name }), 'declaration', definition.origin, { context: 'disko zpool name' });
    return;
  }
  for (const origin of keyOrigins(pool.node.definitions)) builder.addKey(origin, pool.attrName, { kind: 'pool', name: pool.name }, 'declaration', { context: 'disko zpool' });
}

function declareDataset(builder: Builder, dataset: Dataset): void {
  const symbol: SymbolRef = { kind: 'dataset', name: dataset.fullName };
  const explicit = dataset.node.child('name').scalar();
  if (explicit.state === 'known' && explicit.value.kind === 'string') {
    for (const definition of explicit.definitions) {
      if (definition.value.kind !== 'string') continue;
      const text = stringText(definition.value);
      if (text === undefined) continue;
      const literal = literalRange(builder.workspace, definition.value, 0, text.length);
      const origin = literal ?? definition.origin;
      if (origin) builder.add({ symbol, role: 'declaration', origin, nameStart: origin.start, computed: literal ? undefined : 'the name is built from other values', context: `disko dataset of ${dataset.pool.name}` });
    }
    return;
  }
  for (const origin of keyOrigins(dataset.node.definitions)) builder.addKey(origin, dataset.attrName, symbol, 'declaration', { context: `disko dataset of ${dataset.pool.name}` });
}

/** Attribute keys written by hand for the same disko zpool/dataset (a second `"local/root".x = …` in one set). */
function syntacticDiskoKeys(builder: Builder, layout: DiskoLayout, files: string[]): void {
  for (const file of files) {
    const source = builder.workspace.source(file);
    const root = source?.root;
    if (!root) continue;
    const visit = (node: SyntaxNode, prefix: string[]) => {
      if (node.type === 'binding') {
        const attrpath = node.childForFieldName('attrpath');
        const attrs = attrpath ? attrpath.childrenForFieldName('attr').filter((attr): attr is SyntaxNode => attr !== null) : [];
        const path = [...prefix];
        let readable = true;
        for (const attr of attrs) {
          const name = attr.type === 'identifier' ? attr.text : attr.type === 'string_expression' && attr.namedChildren.every((child) => child?.type === 'string_fragment') ? attr.namedChildren.map((child) => child!.text).join('') : undefined;
          if (name === undefined) {
            readable = false;
            break;
          }
          path.push(name);
          const origin = { file, start: attr.startIndex, end: attr.endIndex };
          const n = path.length;
          if (n >= 3 && path[n - 3] === 'devices' && path[n - 2] === 'zpool') {
            const pool = layout.pools.find((candidate) => candidate.attrName === name);
            if (pool && pool.node.child('name').absent) builder.addKey(origin, name, { kind: 'pool', name: pool.name }, 'declaration', { context: 'disko zpool' });
          }
          if (n >= 4 && path[n - 4] === 'zpool' && path[n - 2] === 'datasets') {
            const pool = layout.pools.find((candidate) => candidate.attrName === path[n - 3]);
            const dataset = pool?.datasets.find((candidate) => candidate.attrName === name);
            if (dataset && dataset.node.child('name').absent) builder.addKey(origin, name, { kind: 'dataset', name: dataset.fullName }, 'declaration', { context: `disko dataset of ${pool!.name}` });
          }
        }
        const value = node.childForFieldName('expression');
        if (value && readable) visit(value, path[0] === 'config' ? path.slice(1) : path);
        return;
      }
      for (const child of node.namedChildren) if (child) visit(child, prefix);
    };
    visit(root, []);
  }
}

/** `content.pool = "<pool>"` of disk, mdadm and LVM contents (disko's `type = "zfs"` partitions). */
function partitionPools(builder: Builder): void {
  const devices = builder.host.input.diskoDevices;
  if (!devices) return;
  const visit = (node: ReturnType<typeof devices.child>, depth: number) => {
    if (depth > 12 || node.absent) return;
    const type = node.child('type').string();
    if (type.state === 'known' && type.value === 'zfs') {
      for (const definition of node.child('pool').definitions) builder.addWhole(definition.value, (text) => (isZfsName(text) && !text.includes('/') ? { kind: 'pool', name: text } : undefined), 'partition', definition.origin, { context: 'disko partition content' });
    }
    visit(node.child('content'), depth + 1);
    const partitions = node.child('partitions');
    for (const name of partitions.childNames()) visit(partitions.child(name).child('content'), depth + 1);
  };
  for (const group of ['disk', 'mdadm']) {
    const groupNode = devices.child(group);
    for (const name of groupNode.childNames()) visit(groupNode.child(name).child('content'), 0);
  }
  const vgs = devices.child('lvm_vg');
  for (const name of vgs.childNames()) {
    const lvs = vgs.child(name).child('lvs');
    for (const lv of lvs.childNames()) visit(lvs.child(lv).child('content'), 0);
  }
}

/** Every `zfs …` and `zpool import` in a script: the datasets, pools and snapshots it names. */
function scanScript(builder: Builder, value: StringValue, fallback: Origin | undefined, context: string, conditional: boolean): void {
  const text = scriptText(value);
  for (const invocation of findInvocations(text, 'zfs')) {
    const role: OccurrenceRole = invocation.subcommand === 'rollback' ? 'rollback' : invocation.subcommand === 'snapshot' ? 'snapshot' : 'zfs-command';
    const operands = role === 'rollback' ? invocation.operands.slice(0, 1) : invocation.operands;
    for (const word of operands) {
      if (word.dynamic) continue;
      const range = wordRange(text, word);
      if (!range || !isZfsName(word.text)) continue;
      // Other subcommands take more than names (`zfs set a=b x`): only words naming a known pool count there.
      if (role === 'zfs-command' && !builder.pools.has(poolOfName(word.text))) continue;
      builder.addNameIn(value, range.from, range.to, role, fallback, { context: `zfs ${invocation.subcommand} in ${context}`, conditional });
    }
  }
  for (const invocation of findInvocations(text, 'zpool')) {
    if (invocation.subcommand !== 'import') continue;
    const word = invocation.operands[0];
    if (!word || word.dynamic || !/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(word.text)) continue;
    const range = wordRange(text, word);
    if (range) builder.addNameIn(value, range.from, range.to, 'zpool-import', fallback, { context: `zpool import in ${context}`, conditional });
  }
}

/** A shell word's own characters: the word itself, or the inside of quotes around all of it. */
function wordRange(script: string, word: { text: string; start: number; end: number }): { from: number; to: number } | undefined {
  const raw = script.slice(word.start, word.end);
  if (raw === word.text) return { from: word.start, to: word.end };
  const quote = raw[0];
  if ((quote === "'" || quote === '"') && raw.length >= 2 && raw.endsWith(quote) && raw.slice(1, -1) === word.text) return { from: word.start + 1, to: word.end - 1 };
  return undefined;
}

function scripts(builder: Builder): void {
  const host = builder.host;
  for (const dataset of host.layout?.datasets ?? []) {
    for (const hook of dataset.hooks) {
      for (const fragment of hook.fragments) {
        if (fragment.value.kind === 'string') scanScript(builder, fragment.value, fragment.origin, `${hook.name} of ${dataset.fullName}`, fragment.conditional);
      }
    }
  }
  for (const units of [host.initrdUnits().units, host.stage2Units().units]) {
    for (const unit of units) {
      for (const fragment of unit.scripts) scanScript(builder, fragment.value, fragment.definition.origin, `${unit.stage === 'initrd' ? 'initrd unit' : 'unit'} ${unit.name}`, unit.conditional || fragment.definition.conditional);
    }
  }
  for (const hook of host.scriptedHooks()) {
    for (const fragment of hook.fragments) if (fragment.value.kind === 'string') scanScript(builder, fragment.value, fragment.origin, `boot.initrd.${hook.hook}`, fragment.conditional);
  }
  for (const script of host.activationScripts()) {
    for (const fragment of script.fragments) scanScript(builder, fragment.value, fragment.definition.origin, `system.activationScripts.${script.name}`, fragment.definition.conditional);
  }
}

function fileSystems(builder: Builder): void {
  const host = builder.host;
  for (const entry of host.fileSystems().entries) {
    for (const origin of keyOrigins(entry.writtenDefinitions)) builder.addKey(origin, entry.name, { kind: 'path', name: entry.mountPoint }, 'mount-key', { context: 'fileSystems', conditional: entry.conditional });
    const fsType = entry.fsType;
    if (fsType.state === 'known' && fsType.value !== 'zfs') continue;
    for (const definition of entry.node.child('device').definitions) {
      if (definition.synthetic || definition.value.kind !== 'string') continue;
      const text = scriptText(definition.value);
      // Without a known fsType, only a device that reads as a dataset of a pool the host knows counts.
      if (fsType.state !== 'known' && !(isZfsName(text) && builder.pools.has(poolOfName(text)))) continue;
      if (text.includes('@')) continue;
      builder.addNameIn(definition.value, 0, text.length, 'device', definition.origin, { context: `fileSystems."${entry.mountPoint}".device`, conditional: definition.conditional });
    }
  }
  for (const dataset of host.layout?.datasets ?? []) {
    if (dataset.isPoolRoot) continue;
    for (const definition of dataset.node.child('mountpoint').definitions) {
      builder.addWhole(definition.value, (text) => (text.startsWith('/') ? { kind: 'path', name: text } : undefined), 'disko-mountpoint', definition.origin, { context: `disko mountpoint of ${dataset.fullName}` });
    }
  }
  for (const root of host.persistence()) {
    if (!root.origin) continue;
    const name = builder.workspace.source(root.origin.file)?.text.slice(root.origin.start, root.origin.end);
    const key = name && keyRange(builder.workspace, root.origin, root.path);
    if (key) builder.add({ symbol: { kind: 'path', name: root.path }, role: 'persist-key', origin: key.origin, nameStart: key.origin.start, bareKey: key.bare, context: root.module === 'impermanence' ? 'environment.persistence' : 'preservation.preserveAt', conditional: root.conditional });
  }
}

function units(builder: Builder): void {
  const host = builder.host;
  for (const unit of [...host.initrdUnits().units, ...host.stage2Units().units]) {
    const stage = unit.stage === 'initrd' ? 'initrd unit' : 'unit';
    for (const origin of keyOrigins(unit.node.definitions)) {
      const key = keyRange(builder.workspace, origin, unit.name);
      builder.add({ symbol: { kind: 'unit', name: `${unit.name}.service` }, role: 'unit-name', origin: key?.origin ?? origin, nameStart: (key?.origin ?? origin).start, bareKey: key?.bare, computed: key ? undefined : 'the attribute name is computed', context: stage, conditional: unit.conditional });
      builder.addImportUnitPool(unit.name, key?.origin, origin, 'unit-name', { context: stage, conditional: unit.conditional });
    }
    for (const field of UNIT_LIST_FIELDS) {
      const context = `${stage} ${unit.name} (${field})`;
      for (const item of unit.node.child(field).list().items) {
        builder.addWhole(item.thunk.force(), (text) => (/^[^\s/]+\.(service|target|mount|socket|device|path|timer|slice|scope|swap|automount)$/.test(text) ? { kind: 'unit', name: text } : undefined), 'unit-list', item.thunk.origin, {
          context,
          conditional: unit.conditional || item.definition.conditional,
        });
      }
      const raw = unit.node.at('unitConfig', field.charAt(0).toUpperCase() + field.slice(1)).scalar();
      if (raw.state !== 'known' || raw.value.kind !== 'string') continue;
      const value = raw.value;
      const text = scriptText(value);
      for (const match of text.matchAll(/\S+/g)) {
        const name = match[0];
        const literal = literalRange(builder.workspace, value, match.index, match.index + name.length);
        const origin = literal ?? value.origin;
        if (!origin) continue;
        builder.add({ symbol: { kind: 'unit', name }, role: 'unit-list', origin, nameStart: origin.start, computed: literal ? undefined : 'the name is built from other values', context: `${stage} ${unit.name} (unitConfig.${field})`, conditional: unit.conditional });
        builder.addImportUnitPool(name, literal, origin, 'unit-list', { context, conditional: unit.conditional });
      }
    }
  }
}

function poolOptions(builder: Builder): void {
  const host = builder.host;
  for (const item of host.config.at('boot', 'zfs', 'extraPools').list().items) {
    builder.addWhole(item.thunk.force(), (text) => (isZfsName(text) && !text.includes('/') ? { kind: 'pool', name: text } : undefined), 'pool-option', item.thunk.origin, { context: 'boot.zfs.extraPools', conditional: item.definition.conditional });
  }
  const pools = host.config.at('boot', 'zfs', 'pools');
  for (const name of pools.childNames()) {
    builder.pools.add(name);
    for (const origin of keyOrigins(pools.child(name).definitions)) builder.addKey(origin, name, { kind: 'pool', name }, 'pool-option', { context: 'boot.zfs.pools' });
  }
}

/**
 * `pool/dataset[@snap]` words of known pools in every string literal (and string attribute name) of the files. The
 * words are found in the text first and kept when the tree puts them inside one string fragment (not a comment),
 * so files that never name a pool cost a text search only.
 */
function mentions(builder: Builder, files: string[]): void {
  const modelled = builder.occurrences.slice();
  const pools = [...builder.pools];
  for (const file of files) {
    const source = builder.workspace.source(file);
    const root = source?.root;
    if (!source || !root || !pools.some((pool) => source.text.includes(`${pool}/`) || source.text.includes(`${pool}@`))) continue;
    for (const match of source.text.matchAll(ZFS_WORD)) {
      const word = match[0];
      if (!word.includes('/') && !word.includes('@')) continue;
      if (!builder.pools.has(poolOfName(word))) continue;
      const origin = { file, start: match.index, end: match.index + word.length };
      const node = root.descendantForIndex(origin.start, origin.end - 1);
      if (node?.type !== 'string_fragment' || node.startIndex > origin.start || node.endIndex < origin.end) continue;
      if (modelled.some((occurrence) => overlaps(occurrence.origin, origin))) continue;
      builder.addName(word, origin, 'mention', { context: 'a string' });
    }
  }
}

export function buildHostIndex(host: HostModel, workspace: Workspace): HostIndex {
  const builder = new Builder(host, workspace);
  const layout = host.layout;
  const files = [...new Set([...host.files, ...host.input.diskoFiles])];
  if (layout) {
    for (const pool of layout.pools) declarePool(builder, pool);
    for (const name of layout.referencedPools) builder.pools.add(name);
    for (const dataset of layout.datasets) if (!dataset.isPoolRoot) declareDataset(builder, dataset);
    syntacticDiskoKeys(builder, layout, host.input.diskoFiles);
  }
  partitionPools(builder);
  poolOptions(builder);
  for (const rollback of host.rollbacks().rollbacks) if (rollback.dataset) builder.pools.add(poolOfName(rollback.dataset));
  for (const entry of host.fileSystems().entries) {
    if (entry.fsType.state === 'known' && entry.fsType.value === 'zfs' && entry.device.state === 'known' && isZfsName(entry.device.value)) builder.pools.add(poolOfName(entry.device.value));
  }
  scripts(builder);
  fileSystems(builder);
  units(builder);
  btrfsOccurrences(host, workspace, (occurrence) => builder.add(occurrence));
  mentions(builder, files);
  const byFile = new Map<string, Occurrence[]>();
  for (const occurrence of builder.occurrences) {
    const list = byFile.get(occurrence.origin.file) ?? [];
    list.push(occurrence);
    byFile.set(occurrence.origin.file, list);
  }
  return { host, occurrences: builder.occurrences, byFile, pools: builder.pools };
}

const PRIORITY: Record<SymbolKind, number> = { dataset: 0, subvolume: 0, snapshot: 1, unit: 2, path: 3, pool: 4 };

export interface Hit {
  index: HostIndex;
  occurrence: Occurrence;
}

/** The occurrences of every host under an analysis, built on first use and kept with the analysis. */
export class SymbolIndex {
  private readonly hosts = new Map<string, HostIndex>();

  constructor(
    readonly result: AnalysisResult,
    readonly workspace: Workspace,
  ) {}

  hostIndex(host: HostModel): HostIndex {
    let index = this.hosts.get(host.name);
    if (!index) {
      index = buildHostIndex(host, this.workspace);
      this.hosts.set(host.name, index);
    }
    return index;
  }

  /** Hosts that read a file. */
  hostsOf(file: string): HostModel[] {
    return this.result.hosts.filter((host) => host.files.includes(file) || host.input.diskoFiles.includes(file));
  }

  /**
   * The occurrence at an offset in each host that reads the file: the narrowest one containing it (the pool part of
   * `rpool/local/root` is the pool; the rest the dataset), else one ending right there (the cursor after a word).
   */
  at(file: string, offset: number): Hit[] {
    const hits: Hit[] = [];
    for (const host of this.hostsOf(file)) {
      const index = this.hostIndex(host);
      const candidates = index.byFile.get(file) ?? [];
      const inside = candidates.filter((occurrence) => occurrence.origin.start <= offset && offset < occurrence.origin.end);
      const pool = inside.length > 0 ? inside : candidates.filter((occurrence) => occurrence.origin.end === offset && occurrence.origin.start < offset);
      // Narrowest first; on a tie (a computed name: one range for all its parts) the dataset is what is meant.
      const best = pool.sort((a, b) => a.origin.end - a.origin.start - (b.origin.end - b.origin.start) || PRIORITY[a.symbol.kind] - PRIORITY[b.symbol.kind])[0];
      if (best) hits.push({ index, occurrence: best });
    }
    return hits;
  }

  /** Every occurrence of a symbol in the hosts of the given hits (deduplicated by place). */
  occurrencesOf(symbol: SymbolRef, hosts: HostModel[], options: { descendants?: boolean } = {}): Occurrence[] {
    const result: Occurrence[] = [];
    for (const host of hosts) {
      for (const occurrence of this.hostIndex(host).occurrences) {
        if (!matches(occurrence.symbol, symbol, options.descendants === true)) continue;
        if (result.some((existing) => existing.symbol.name === occurrence.symbol.name && existing.symbol.kind === occurrence.symbol.kind && sameOrigin(existing.origin, occurrence.origin))) continue;
        result.push(occurrence);
      }
    }
    return result;
  }
}

/** Whether an occurrence's symbol is `symbol`, or (with descendants) a dataset or snapshot below it. */
export function matches(candidate: SymbolRef, symbol: SymbolRef, descendants: boolean): boolean {
  if (candidate.kind === symbol.kind && candidate.name === symbol.name) return true;
  if (!descendants) return false;
  if (symbol.kind === 'dataset') {
    return (candidate.kind === 'dataset' && candidate.name.startsWith(`${symbol.name}/`)) || (candidate.kind === 'snapshot' && (candidate.name.startsWith(`${symbol.name}@`) || candidate.name.startsWith(`${symbol.name}/`)));
  }
  return false;
}

const INDEXES = new WeakMap<AnalysisResult, SymbolIndex>();

/** The index of an analysis (built once per analysis: a new analysis after an edit gets a new one). */
export function symbolIndex(result: AnalysisResult, workspace: Workspace): SymbolIndex {
  let index = INDEXES.get(result);
  if (!index) {
    index = new SymbolIndex(result, workspace);
    INDEXES.set(result, index);
  }
  return index;
}

/** The binding an attribute key belongs to (`"local/root" = { … };`): the range a declaration spans. */
export function bindingOf(workspace: Workspace, keyOrigin: Origin): Origin | undefined {
  let node: SyntaxNode | null = workspace.source(keyOrigin.file)?.root?.descendantForIndex(keyOrigin.start, Math.max(keyOrigin.start, keyOrigin.end - 1)) ?? null;
  while (node && node.type !== 'binding') node = node.parent;
  return node ? { file: keyOrigin.file, start: node.startIndex, end: node.endIndex } : undefined;
}
