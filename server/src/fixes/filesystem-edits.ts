/**
 * Edits of `fileSystems` entries and of disko datasets, whatever style the file writes them in: an entry as one
 * attribute set (`fileSystems."/x" = { … };`, also under `lib.mkForce`), as dotted bindings
 * (`fileSystems."/x".neededForBoot = true;`) or inside `fileSystems = { … }`; and the entry disko would emit (F23).
 *
 * An entry that nixos-generate-config wrote (in `hardware-configuration.nix`, generated.ts) is never edited where it
 * stands. What merges is added from the host's own module instead: `neededForBoot` where none is written, and
 * `options = [ "zfsutil" ]`, which NixOS concatenates with the generated list. What would only take an override
 * (replacing a generated `false` or removing a generated list item) is not done: those edits are undefined.
 */
import type { Definition } from '../model/config';
import { type Dataset, type DiskoLayout, effectiveMountProperty } from '../model/disko';
import { type FileSystemEntry, type HostModel, PATHS_NEEDED_FOR_BOOT } from '../model/host-model';
import { type Origin, stringText } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { SourceFile, SyntaxNode } from '../syntax/parser';
import { type TextEdit, appendToList, bindingPath, bindingsOf, edit, enclosing, moduleBody, nixString, removeBinding, removeListElement, trySetAttribute, unwrapPriority } from './nix-edit';
import { isGenerated } from './generated';
import { targetsFor } from './targets';

/** Where a definition keeps its own bindings: an attribute set literal, or the set holding its dotted bindings. */
export interface Scope {
  file: SourceFile;
  body: SyntaxNode;
  /** The path from `body` down to the definition (empty for its own literal). */
  prefix: string[];
}

function parsed(workspace: Workspace, filePath: string): SourceFile | undefined {
  const file = workspace.source(filePath);
  return file && !file.unreadable && file.root && !file.root.hasError ? file : undefined;
}

/** A file fixes may edit: parsed, and not generated. */
function ownFile(workspace: Workspace, filePath: string): SourceFile | undefined {
  const file = parsed(workspace, filePath);
  return file && !isGenerated(file) ? file : undefined;
}

/** Whether a definition is written in a generated file, where no fix edits it. */
function inGeneratedFile(workspace: Workspace, definition: Definition): boolean {
  const origin = definition.keyOrigin ?? definition.origin;
  const file = origin && workspace.source(origin.file);
  return file !== undefined && isGenerated(file);
}

function isAttrset(node: SyntaxNode | undefined): node is SyntaxNode {
  return node?.type === 'attrset_expression' || node?.type === 'rec_attrset_expression';
}

/** The syntax node written exactly at an origin, of one of the given types. */
export function nodeAt(file: SourceFile, origin: Origin | undefined, types: string[]): SyntaxNode | undefined {
  if (!origin || origin.file !== file.path) return undefined;
  let node: SyntaxNode | null = file.root?.descendantForIndex(origin.start, Math.max(origin.start, origin.end - 1)) ?? null;
  while (node && !(node.startIndex === origin.start && node.endIndex === origin.end && types.includes(node.type))) {
    if (node.startIndex < origin.start || node.endIndex > origin.end) return undefined;
    node = node.parent;
  }
  return node ?? undefined;
}

/** A string literal without interpolation: safe to replace or drop whole. */
export function isPlainString(node: SyntaxNode | undefined): boolean {
  return node?.type === 'string_expression' && node.namedChildren.every((child) => child?.type === 'string_fragment' || child?.type === 'escape_sequence');
}

/**
 * The scope of one definition, from where its attribute name is written: `name = { … }` (through priority
 * wrappers) gives the literal; `a.name.b = …` gives the set holding that binding and the prefix `a.name`.
 */
export function definitionScope(workspace: Workspace, definition: Definition): Scope | undefined {
  const origin = definition.keyOrigin;
  const file = origin && parsed(workspace, origin.file);
  if (!file || !origin) return undefined;
  const binding = enclosing(file, origin.start, origin.end, ['binding']);
  const attrs = binding?.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
  const index = attrs.findIndex((attr) => attr?.startIndex === origin.start && attr.endIndex === origin.end);
  const names = binding && bindingPath(binding);
  if (!binding || index < 0 || !names) return undefined;
  if (index === attrs.length - 1) {
    const value = unwrapPriority(binding.childForFieldName('expression'));
    return isAttrset(value) ? { file, body: value, prefix: [] } : undefined;
  }
  const container = binding.parent?.parent;
  return isAttrset(container ?? undefined) ? { file, body: container!, prefix: names.slice(0, index + 1) } : undefined;
}

/** The host's own, unconditional definitions of an entry that are in effect (not dropped by priority). */
export function writtenEntryDefinitions(entry: FileSystemEntry): Definition[] {
  return entry.writtenDefinitions.filter((definition) => !definition.conditional);
}

/**
 * The host's files a `fileSystems` (or other NixOS) definition may go into, best first (`targetsFor`), without the
 * disko files: a disko layout is no place for the host's own mounts, even where NixOS would accept them.
 */
function hostTargets(host: HostModel, workspace: Workspace, path: string[]) {
  const disko = new Set(host.input.diskoFiles);
  return targetsFor(host, workspace, path).filter((target) => !disko.has(target.file.path));
}

/**
 * Sets `path = value;` somewhere in the host: in the first candidate file where it is safe (the file that defines
 * the closest part of the path, else the host's configuration, else its other files; never a disko file).
 */
export function setInHost(host: HostModel, workspace: Workspace, path: string[], value: string): TextEdit | undefined {
  for (const target of hostTargets(host, workspace, path)) {
    const result = trySetAttribute(target.file, target.body, path, value);
    if (result) return result;
  }
  return undefined;
}

/** Sets `path = value;` in one module file, when its body is a plain attribute set and the edit is safe there. */
export function setInFile(workspace: Workspace, filePath: string | undefined, path: string[], value: string): TextEdit | undefined {
  const file = filePath ? parsed(workspace, filePath) : undefined;
  const body = file && moduleBody(file);
  return file && body ? trySetAttribute(file, body, path, value) : undefined;
}

/**
 * Sets a field of a `fileSystems` entry: in the literal (or dotted bindings) the host writes for the entry, else as
 * `fileSystems."<mp>".<field> = …;` in the host's files.
 */
export function setEntryField(host: HostModel, workspace: Workspace, entry: FileSystemEntry, field: string[], value: string): TextEdit | undefined {
  for (const definition of writtenEntryDefinitions(entry)) {
    // The entry written in a generated file stays as it is: the field is added from the host's own module.
    if (inGeneratedFile(workspace, definition)) continue;
    const scope = definitionScope(workspace, definition);
    if (!scope) continue;
    const result = trySetAttribute(scope.file, scope.body, [...scope.prefix, ...field], value);
    if (result) return result;
  }
  return setInHost(host, workspace, ['fileSystems', entry.name, ...field], value);
}

/**
 * `neededForBoot = true` for a mount point: every written `false` becomes `true` (a `true` next to a `false` would be
 * a conflict), else the option is set in the entry (or the host, when disko alone defines the entry).
 */
export function setNeededForBoot(host: HostModel, workspace: Workspace, mountPoint: string): TextEdit[] | undefined {
  const entry = host.fileSystemAt(mountPoint);
  const node = entry ? entry.node.child('neededForBoot') : host.config.at('fileSystems', mountPoint, 'neededForBoot');
  const written = node.definitions.filter((definition) => definition.synthetic !== 'disko');
  if (written.some((definition) => definition.conditional)) return undefined;
  const falses = written.filter((definition) => !(definition.value.kind === 'bool' && definition.value.value));
  if (falses.length > 0) {
    const edits: TextEdit[] = [];
    for (const definition of falses) {
      // A generated `false` would take `lib.mkForce true` from another module: not done silently.
      const file = definition.origin && ownFile(workspace, definition.origin.file);
      const literal = file && nodeAt(file, definition.origin, ['variable_expression']);
      if (!file || !literal || literal.text !== 'false') return undefined;
      edits.push(edit(file, literal.startIndex, literal.endIndex, 'true'));
    }
    return edits;
  }
  if (written.length > 0) return undefined;
  const result = entry ? setEntryField(host, workspace, entry, ['neededForBoot'], 'true') : setInHost(host, workspace, ['fileSystems', mountPoint, 'neededForBoot'], 'true');
  return result && [result];
}

/** Whether a dataset must be mounted with `zfsutil` (its ZFS mountpoint is a path or none, F13), when known. */
export function needsZfsutil(dataset: Dataset, layout: DiskoLayout): boolean | undefined {
  const property = effectiveMountProperty(dataset, layout);
  return property && property.kind !== 'legacy';
}

/** Adds `"zfsutil"` to the options the host writes for an entry, or writes `options = [ "zfsutil" ];`. */
export function addZfsutil(host: HostModel, workspace: Workspace, entry: FileSystemEntry): TextEdit | undefined {
  const options = entry.node.child('options');
  const written = options.effective().definitions.filter((definition) => definition.synthetic !== 'disko');
  if (written.some((definition) => definition.conditional)) return undefined;
  for (const definition of written) {
    const file = definition.origin && ownFile(workspace, definition.origin.file);
    const list = file && nodeAt(file, definition.origin, ['list_expression']);
    if (file && list) return appendToList(file, list, nixString('zfsutil'));
  }
  // Options written some other way (a variable, `++`): nothing we can add to safely. Options written only in
  // generated files get a list of the host's own, which NixOS concatenates with theirs.
  if (written.some((definition) => !inGeneratedFile(workspace, definition))) return undefined;
  if (written.length > 0) return setInHost(host, workspace, ['fileSystems', entry.name, 'options'], '[ "zfsutil" ]');
  return setEntryField(host, workspace, entry, ['options'], '[ "zfsutil" ]');
}

/**
 * Removes every `"zfsutil"` item the host writes in an entry's options, each only that list element. A list that
 * holds nothing else goes with its binding: `options = [ ];` would fail NixOS's non-empty list type where no other
 * definition adds to it (under a wrapper such as `lib.mkForce`, the item becomes `"defaults"` instead).
 */
export function removeZfsutil(workspace: Workspace, entry: FileSystemEntry): TextEdit[] | undefined {
  const edits: TextEdit[] = [];
  for (const item of entry.node.child('options').list().items) {
    if (item.definition.synthetic === 'disko') continue;
    const value = item.thunk.force();
    if (stringText(value) !== 'zfsutil') continue;
    const origin = item.thunk.origin ?? value.origin;
    // A generated list keeps its item: removing it from another module would take `lib.mkForce` over the whole list.
    const file = origin && ownFile(workspace, origin.file);
    const element = file && nodeAt(file, origin, ['string_expression']);
    const list = element?.parent;
    if (!file || !element || !isPlainString(element) || list?.type !== 'list_expression') return undefined;
    const elements = list.childrenForFieldName('element').filter((child) => child !== null);
    if (elements.length > 1) {
      edits.push(removeListElement(file, list, element));
      continue;
    }
    const binding = list.parent;
    if (binding?.type === 'binding' && binding.childForFieldName('expression')?.startIndex === list.startIndex) edits.push(removeBinding(file, binding));
    else edits.push(edit(file, element.startIndex, element.endIndex, nixString('defaults')));
  }
  return edits.length > 0 ? edits : undefined;
}

/**
 * The zfsutil edit an entry needs once it mounts `dataset` (F13): add it, remove it, or nothing. Undefined when the
 * entry's options cannot be read or the edit cannot be made; `[]` when nothing is needed.
 */
export function zfsutilFor(host: HostModel, workspace: Workspace, entry: FileSystemEntry, dataset: Dataset | undefined): TextEdit[] | undefined {
  if (!dataset || !host.layout) return [];
  const needs = needsZfsutil(dataset, host.layout);
  if (needs === undefined) return [];
  if (!entry.options) return undefined;
  const has = entry.options.includes('zfsutil');
  if (needs && !has) {
    const added = addZfsutil(host, workspace, entry);
    return added && [added];
  }
  if (!needs && has) return removeZfsutil(workspace, entry);
  return [];
}

export interface EntryFields {
  device: string;
  fsType: string;
  options?: string[];
  neededForBoot?: boolean;
}

/** The Nix text of a `fileSystems` entry, on one line or one binding per line. */
export function entryText(fields: EntryFields, oneLine: boolean): string {
  const bindings = [`device = ${nixString(fields.device)};`, `fsType = ${nixString(fields.fsType)};`];
  if (fields.options && fields.options.length > 0) bindings.push(`options = [ ${fields.options.map(nixString).join(' ')} ];`);
  if (fields.neededForBoot) bindings.push('neededForBoot = true;');
  return oneLine ? `{ ${bindings.join(' ')} }` : ['{', ...bindings.map((binding) => `  ${binding}`), '}'].join('\n');
}

/** Whether a file writes its `fileSystems` entries on one line each (`{ device = …; fsType = …; }`). */
export function writesEntriesOnOneLine(file: SourceFile): boolean {
  const stack: SyntaxNode[] = file.root ? [file.root] : [];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isAttrset(node) && bindingsOf(node).some((binding) => bindingPath(binding)?.join('.') === 'fsType')) return !node.text.includes('\n');
    for (const child of [...node.namedChildren].reverse()) if (child) stack.push(child);
  }
  return false;
}

/** Inserts a whole `fileSystems."<mp>"` entry into the host (where its fileSystems are written), in that file's style. */
export function insertEntry(host: HostModel, workspace: Workspace, mountPoint: string, fields: EntryFields): TextEdit | undefined {
  const path = ['fileSystems', mountPoint];
  for (const target of hostTargets(host, workspace, path)) {
    const result = trySetAttribute(target.file, target.body, path, entryText(fields, writesEntriesOnOneLine(target.file)));
    if (result) return result;
  }
  return undefined;
}


/**
 * Whether a mount point has to be mounted in stage 1 because persistence lives on it: a persistent storage path at
 * or below it (F31a), or a persisted path below it (impermanence's parent check, F31b). The fixed stage-1 paths
 * need nothing (F1).
 */
export function persistenceNeedsBoot(host: HostModel, mountPoint: string): boolean {
  if (PATHS_NEEDED_FOR_BOOT.includes(mountPoint)) return false;
  const under = (path: string) => path === mountPoint || path.startsWith(`${mountPoint}/`);
  return host.persistence().some((root) => !root.conditional && (under(root.path) || (root.module === 'impermanence' && root.entries.some((entry) => entry.startsWith(`${mountPoint}/`)))));
}

/** Where a disko dataset is declared: its binding, the attribute set holding it, and the names before its own. */
export interface DatasetBinding {
  file: SourceFile;
  container: SyntaxNode;
  binding: SyntaxNode;
  /** `["datasets"]` for `datasets."local/root" = …` written at the pool level; empty inside `datasets = { … }`. */
  prefix: string[];
  /** The dataset's own attribute set literal, when the binding holds one. */
  body?: SyntaxNode;
}

export function datasetBinding(workspace: Workspace, dataset: Dataset): DatasetBinding | undefined {
  const origin = dataset.origin;
  const file = origin && parsed(workspace, origin.file);
  if (!file || !origin || dataset.isPoolRoot) return undefined;
  const binding = enclosing(file, origin.start, origin.end, ['binding']);
  const attrs = binding?.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
  const index = attrs.findIndex((attr) => attr?.startIndex === origin.start && attr.endIndex === origin.end);
  const names = binding && bindingPath(binding);
  const container = binding?.parent?.parent ?? undefined;
  if (!binding || index < 0 || !names || !isAttrset(container)) return undefined;
  const value = index === attrs.length - 1 ? unwrapPriority(binding.childForFieldName('expression')) : undefined;
  return { file, container, binding, prefix: names.slice(0, index), body: isAttrset(value) ? value : undefined };
}

/**
 * The plain string literal an entry's field is written as, at `origin`, when it is the value of that field's own
 * binding (`device = "…";` or `fileSystems."/x".device = "…";`): never a string shared through a `let`.
 */
export function fieldLiteral(workspace: Workspace, origin: Origin | undefined, field: string): { file: SourceFile; literal: SyntaxNode; binding: SyntaxNode } | undefined {
  const file = origin && parsed(workspace, origin.file);
  const literal = file && nodeAt(file, origin, ['string_expression']);
  const binding = literal?.parent;
  if (!file || !literal || !isPlainString(literal) || binding?.type !== 'binding' || binding.childForFieldName('expression')?.startIndex !== literal.startIndex) return undefined;
  return bindingPath(binding)?.at(-1) === field ? { file, literal, binding } : undefined;
}

/**
 * The mount point a dataset's name suggests: its name below the pool, without a first level that only groups
 * datasets (a container: mountpoint=none or canmount=off) — `rpool/safe/home` → `/home`, `rpool/local/var/log` →
 * `/var/log`, `tank/srv` → `/srv`. A guess from a naming habit, for fixes that say so (never written on its own).
 */
export function mountPointByName(layout: DiskoLayout, dataset: Dataset): string | undefined {
  const relative = dataset.fullName.split('/').slice(1);
  if (relative.length === 0) return undefined;
  const first = layout.datasets.find((candidate) => candidate.fullName === `${dataset.pool.name}/${relative[0]}`);
  const grouping =
    relative.length > 1 && first !== undefined && ((first.zfsMountpoint.state === 'known' && first.zfsMountpoint.value === 'none') || (first.canmount.state === 'known' && first.canmount.value === 'off'));
  return `/${(grouping ? relative.slice(1) : relative).join('/')}`;
}
