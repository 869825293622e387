/**
 * Completions of names inside strings, from the host's layout: dataset names in `device = "…"`, `zfs rollback`
 * targets and snapshot names after `@` in scripts, import and mount units in `after`/`before`/…, and the mount
 * points disko declares as `fileSystems` keys. Each item says what the host makes of the name.
 */
import { type CompletionItem, CompletionItemKind, type CompletionParams, MarkupKind, type Range } from 'vscode-languageserver';
import type { HostModel } from '../model/host-model';
import { UNIT_LIST_FIELDS } from '../model/host-model';
import { escapeSystemdPath, initrdMountUnit } from '../rules/support';
import type { SourceFile, SyntaxNode } from '../syntax/parser';
import { datasetFacts, poolFacts, verdict } from './facts';
import { unitDoc } from './unit-docs';

/** The string literal the cursor is in, if any (`"…"` or `''…''`). */
function stringAt(file: SourceFile, offset: number): SyntaxNode | undefined {
  let node: SyntaxNode | null = file.root?.descendantForIndex(Math.max(0, offset - 1), offset) ?? null;
  while (node && node.type !== 'string_expression' && node.type !== 'indented_string_expression') node = node.parent;
  if (!node) return undefined;
  const open = node.type === 'string_expression' ? 1 : 2;
  const close = node.text.endsWith(node.type === 'string_expression' ? '"' : "''") ? open : 0;
  return offset >= node.startIndex + open && offset <= node.endIndex - close ? node : undefined;
}

/** The binding a string belongs to: `device = "…"` → `device`; `after = [ "…" ]` → `after`. */
function bindingName(node: SyntaxNode): { name: string; inList: boolean } | undefined {
  let current: SyntaxNode | null = node.parent;
  let inList = false;
  if (current?.type === 'list_expression') {
    inList = true;
    current = current.parent;
  }
  while (current && (current.type === 'apply_expression' || current.type === 'parenthesized_expression')) current = current.parent;
  if (current?.type !== 'binding') return undefined;
  const attrs = current.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
  const last = attrs[attrs.length - 1];
  return last ? { name: last.text.replace(/^"|"$/g, ''), inList } : undefined;
}

function item(label: string, kind: CompletionItemKind, detail: string, documentation: string, range: Range, sortText: string, preselect = false): CompletionItem {
  return { label, kind, detail, documentation: { kind: MarkupKind.Markdown, value: documentation }, textEdit: { range, newText: label }, sortText, filterText: label, ...(preselect ? { preselect: true } : {}) };
}

function datasetItems(hosts: HostModel[], range: Range, mountPoint: string | undefined): CompletionItem[] {
  const items = new Map<string, CompletionItem>();
  for (const host of hosts) {
    for (const dataset of host.layout?.datasets ?? []) {
      if (dataset.type === 'zfs_volume' || items.has(dataset.fullName)) continue;
      const facts = datasetFacts(host, dataset.fullName);
      const mp = dataset.mountpoint.state === 'known' ? dataset.mountpoint.value : undefined;
      const property = facts.property ? (facts.property.kind === 'path' ? (facts.property.path ?? 'path') : facts.property.kind) : 'unknown';
      const matching = mountPoint !== undefined && mp === mountPoint;
      items.set(
        dataset.fullName,
        item(dataset.fullName, CompletionItemKind.Folder, `${mp ? `disko mountpoint ${mp}` : 'no disko mountpoint'} · ${property}`, `${verdict(facts)} (host \`${host.name}\`)`, range, `${matching ? '0' : '1'}${dataset.fullName}`, matching),
      );
    }
  }
  return [...items.values()];
}

function snapshotItems(hosts: HostModel[], dataset: string | undefined, range: Range, full: boolean): CompletionItem[] {
  const items = new Map<string, CompletionItem>();
  for (const host of hosts) {
    for (const created of host.layout?.snapshots ?? []) {
      // A recursive snapshot of an ancestor also names this dataset's snapshot.
      const covers = dataset === undefined || created.dataset === dataset || (created.recursive && dataset.startsWith(`${created.dataset}/`));
      if (!covers) continue;
      const target = dataset === undefined ? created.target : `${dataset}@${created.snapshot}`;
      const label = full ? target : created.snapshot;
      if (items.has(label)) continue;
      items.set(label, item(label, CompletionItemKind.Constant, `taken by ${created.hook} of ${created.owner.fullName}`, `A snapshot disko's hook takes (host \`${host.name}\`).`, range, `0${label}`));
    }
    for (const rollback of host.rollbacks().rollbacks) {
      if (!rollback.target || (dataset !== undefined && rollback.dataset !== dataset)) continue;
      const label = full ? rollback.target : rollback.snapshot!;
      if (!items.has(label)) items.set(label, item(label, CompletionItemKind.Constant, 'rolled back to by this host', 'No disko hook in reach takes this snapshot.', range, `1${label}`));
    }
  }
  return [...items.values()];
}

const ORDER_FIRST: Record<string, RegExp> = {
  after: /^zfs-import/,
  requires: /^zfs-import/,
  before: /^sysroot\.mount$/,
  requiredBy: /^sysroot\.mount$/,
  wantedBy: /^initrd\.target$|^multi-user\.target$/,
};

function unitItems(hosts: HostModel[], initrd: boolean, field: string, range: Range): CompletionItem[] {
  const units = new Map<string, string>();
  for (const host of hosts) {
    const pools = new Set<string>([...(host.layout?.pools.map((pool) => pool.name) ?? [])]);
    for (const entry of host.fileSystems().entries) if (entry.fsType.state === 'known' && entry.fsType.value === 'zfs' && entry.device.state === 'known') pools.add(entry.device.value.split('/')[0]);
    for (const pool of pools) {
      const facts = poolFacts(host, pool);
      const note = facts.import.state === 'stage1' ? 'root pool: runs in stage 1' : facts.import.state === 'stage2' ? (initrd ? 'data pool: does not exist in stage 1' : 'data pool') : facts.import.state === 'none' ? 'pool never imported' : 'import stage unknown';
      units.set(`zfs-import-${pool}.service`, note);
    }
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional) continue;
      const needed = host.neededForBoot(entry);
      if (initrd && needed !== true) continue;
      const device = entry.device.state === 'known' ? entry.device.value : 'computed device';
      units.set(initrd ? initrdMountUnit(entry.mountPoint) : `${escapeSystemdPath(entry.mountPoint)}.mount`, `mounts ${entry.mountPoint} (${device})`);
    }
  }
  const fixed = initrd
    ? ['zfs-import.target', 'sysroot.mount', 'initrd-root-device.target', 'initrd-root-fs.target', 'initrd-fs.target', 'initrd.target', 'systemd-udev-settle.service']
    : ['zfs-import.target', 'zfs-mount.service', 'zfs.target', 'local-fs.target', 'multi-user.target'];
  for (const name of fixed) if (!units.has(name)) units.set(name, unitDoc(name)?.summary.replace(/`/g, '') ?? '');
  const first = ORDER_FIRST[field];
  return [...units.entries()].map(([name, note]) => {
    const doc = unitDoc(name);
    return item(name, CompletionItemKind.Event, note, doc ? [doc.summary, '', ...doc.details.map((detail) => `- ${detail}`)].join('\n') : note, range, `${first?.test(name) ? '0' : '1'}${name}`);
  });
}

function mountPointItems(hosts: HostModel[], range: Range): CompletionItem[] {
  const items = new Map<string, CompletionItem>();
  for (const host of hosts) {
    for (const mount of host.layout?.emitted ?? []) {
      if (items.has(mount.mountPoint)) continue;
      const present = host.hasMountAt(mount.mountPoint) === true;
      const what = mount.device ? `${mount.device} (${mount.fsType})` : mount.fsType;
      items.set(mount.mountPoint, item(mount.mountPoint, CompletionItemKind.Folder, `${what} · declared in disko${present ? ' · already in fileSystems' : ''}`, `disko declares a ${mount.fsType} mount at \`${mount.mountPoint}\`.`, range, `${present ? '1' : '0'}${mount.mountPoint}`));
    }
  }
  return [...items.values()];
}

/** Name completions at an offset inside a string, or undefined when the cursor is in no such context. */
export function nameCompletions(file: SourceFile, offset: number, hosts: HostModel[], params: CompletionParams): CompletionItem[] | undefined {
  const string = stringAt(file, offset);
  if (!string) return undefined;
  const lineStart = file.lines.lineStart(params.position.line);
  const before = file.text.slice(Math.max(lineStart, string.startIndex), offset);
  // The word being typed, and the rest of it after the cursor (replaced too).
  const word = /[A-Za-z0-9_.:/@-]*$/.exec(before)![0];
  const rest = /^[A-Za-z0-9_.:/@-]*/.exec(file.text.slice(offset, string.endIndex))![0];
  const rangeFrom = (start: number): Range => ({ start: file.lines.position(start), end: file.lines.position(offset + rest.length) });
  const wordRange = rangeFrom(offset - word.length);
  const binding = bindingName(string);

  // Snapshot names after `dataset@`.
  const at = /^([A-Za-z0-9][A-Za-z0-9_.:-]*(?:\/[A-Za-z0-9_.:-]+)*)@([A-Za-z0-9_.:-]*)$/.exec(word);
  if (at) return snapshotItems(hosts, at[1], rangeFrom(offset - at[2].length), false);

  if (binding?.name === 'device' && !binding.inList) {
    const path = enclosingPath(string);
    const index = path.lastIndexOf('fileSystems');
    if (index >= 0 || /fileSystems/.test(file.text.slice(lineStart, offset))) {
      const mountPoint = index >= 0 ? path[index + 1] : /fileSystems\s*\.\s*"([^"]+)"/.exec(file.text.slice(lineStart, offset))?.[1];
      const content = string.startIndex + 1;
      return datasetItems(hosts, rangeFrom(Math.max(content, offset - word.length)), mountPoint);
    }
  }
  if (binding?.inList && (UNIT_LIST_FIELDS as readonly string[]).includes(binding.name)) {
    const path = enclosingPath(string);
    const initrd = path.includes('initrd');
    return unitItems(hosts, initrd, binding.name, wordRange);
  }
  // `zfs rollback [-r] <target>` on the line being typed.
  if (/\bzfs\s+rollback\s+(?:-[A-Za-z]+\s+)*[A-Za-z0-9_.:/-]*$/.test(before)) {
    return [...snapshotItems(hosts, undefined, wordRange, true), ...datasetItems(hosts, wordRange, undefined).map((entry) => ({ ...entry, sortText: `2${entry.label}` }))];
  }
  // `fileSystems."…"` or a key inside `fileSystems = { "…" = …; }` (while typing, the binding may be incomplete).
  const keyOf = string.parent?.type === 'attrpath' ? string.parent : undefined;
  if (keyOf) {
    const attrs = keyOf.childrenForFieldName('attr');
    const position = attrs.findIndex((attr) => attr?.startIndex === string.startIndex);
    const previous = position > 0 ? attrs[position - 1]?.text : keyOf.parent ? enclosingPath(keyOf.parent).at(-1) : undefined;
    if (previous === 'fileSystems') return mountPointItems(hosts, rangeFrom(string.startIndex + 1));
  } else if (/\bfileSystems\s*\.\s*"[^"]*$/.test(file.text.slice(lineStart, offset))) return mountPointItems(hosts, rangeFrom(string.startIndex + 1));
  return undefined;
}

/** The attribute path of the bindings around a node, not counting the node itself (`config.` stripped). */
function enclosingPath(node: SyntaxNode): string[] {
  const path: string[] = [];
  for (let current: SyntaxNode | null = node.parent; current; current = current.parent) {
    if (current.type !== 'binding') continue;
    const attrs = current.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
    const names = attrs.map((attr) => (attr?.type === 'identifier' ? attr.text : (attr?.text.replace(/^"|"$/g, '') ?? '')));
    path.unshift(...names);
  }
  if (path[0] === 'config') path.shift();
  return path;
}
