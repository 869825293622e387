/**
 * Completions that know the layout: inside a pool's `datasets = { … }` the dataset templates with the pool's name
 * filled in; inside `fileSystems = { … }` an entry for each dataset disko declares with a mount point that the host
 * does not mount yet.
 */
import { type CompletionItem, CompletionItemKind, type CompletionParams, InsertTextFormat, MarkupKind } from 'vscode-languageserver';
import { guardedSnapshot } from '../fixes/handlers/insert-rollback-service';
import { bindingPath } from '../fixes/nix-edit';
import type { HostModel } from '../model/host-model';
import type { SourceFile, SyntaxNode } from '../syntax/parser';
import { nameCompletions } from './completion-names';
import type { Analysis } from './analysis';

/** The attribute path of the attribute set the cursor is in (`["disko","devices","zpool","rpool","datasets"]`). */
export function pathAt(file: SourceFile, offset: number): string[] | undefined {
  let node: SyntaxNode | null = file.root?.descendantForIndex(Math.max(0, offset - 1), offset) ?? null;
  while (node && node.type !== 'attrset_expression' && node.type !== 'rec_attrset_expression') node = node.parent;
  if (!node || offset <= node.startIndex || offset >= node.endIndex) return undefined;
  const path: string[] = [];
  for (let current: SyntaxNode | null = node; current; current = current.parent) {
    if (current.type !== 'binding') continue;
    const names = bindingPath(current);
    if (!names) return undefined;
    path.unshift(...names);
  }
  // A module written with `config = { … }` has its options below `config`.
  if (path[0] === 'config') path.shift();
  return path;
}

function snippetItem(label: string, detail: string, body: string, documentation: string, sort: string): CompletionItem {
  return {
    label,
    kind: CompletionItemKind.Snippet,
    detail,
    insertText: body,
    insertTextFormat: InsertTextFormat.Snippet,
    documentation: { kind: MarkupKind.Markdown, value: documentation },
    sortText: sort,
  };
}

function datasetTemplates(pool: string): CompletionItem[] {
  const root = `\${1:local}/\${2:root}`;
  return [
    snippetItem(
      'ephemeral root dataset',
      `${pool}: mounted at /, with its blank snapshot`,
      [`"${root}" = {`, '  type = "zfs_fs";', '  options.mountpoint = "legacy";', '  mountpoint = "/";', `  postCreateHook = "${guardedSnapshot(`${pool}/$1/$2@\${3:blank}`).replace(/\$(?!\{|\d)/g, '\\$')}";`, '};$0'].join('\n'),
      'The root dataset of an ephemeral root: legacy-mounted at `/`, with an idempotent hook that snapshots it while it is empty.',
      '0',
    ),
    snippetItem('persisted dataset', `${pool}: kept across boots`, ['"${1:local}/${2:persist}" = {', '  type = "zfs_fs";', '  options.mountpoint = "legacy";', '  mountpoint = "/${3:persist}";', '};$0'].join('\n'), 'A dataset that survives the rollback; mark it `neededForBoot` in the host when persistence stores data on it.', '1'),
    snippetItem('/nix dataset', `${pool}: the Nix store`, ['"${1:local}/nix" = {', '  type = "zfs_fs";', '  options.mountpoint = "legacy";', '  mountpoint = "/nix";', '};$0'].join('\n'), 'The Nix store must survive every rollback.', '2'),
    snippetItem('container dataset', `${pool}: an unmounted parent`, ['${1:local} = {', '  type = "zfs_fs";', '  options.mountpoint = "none";', '};$0'].join('\n'), 'A parent for other datasets, so `zfs create -p` does not make it with default properties.', '3'),
  ];
}

function fileSystemItems(host: HostModel): CompletionItem[] {
  const layout = host.layout;
  if (!layout) return [];
  const items: CompletionItem[] = [];
  for (const mount of layout.emitted) {
    if (!mount.dataset || host.hasMountAt(mount.mountPoint) === true) continue;
    const options = mount.options.filter((option) => option !== 'defaults');
    const lines = [`"${mount.mountPoint}" = {`, `  device = "${mount.device}";`, '  fsType = "zfs";', ...(options.length ? [`  options = [ ${options.map((option) => `"${option}"`).join(' ')} ];`] : []), '};$0'];
    items.push(snippetItem(`"${mount.mountPoint}"`, `${mount.device} (declared in disko)`, lines.join('\n'), `Mounts disko's dataset \`${mount.device}\` at \`${mount.mountPoint}\`.`, `0${mount.mountPoint}`));
  }
  return items;
}

export function completionsFor(analysis: Analysis, filePath: string, params: CompletionParams): CompletionItem[] {
  const file = analysis.workspace.source(filePath);
  if (!file) return [];
  const offset = file.lines.offset(params.position);
  const { result } = analysis;
  const hosts = result.hosts.filter((host) => host.files.includes(filePath) || host.input.diskoFiles.includes(filePath));
  // Inside a string: dataset, snapshot, unit and mount-point names.
  const names = nameCompletions(file, offset, hosts, params);
  if (names) return names;
  const path = pathAt(file, offset);
  if (!path) return [];
  const zpool = path.indexOf('zpool');
  if (zpool >= 0 && path[zpool + 2] === 'datasets' && path.length === zpool + 3) {
    const attrName = path[zpool + 1];
    const pool = hosts.flatMap((host) => host.layout?.pools ?? []).find((candidate) => candidate.attrName === attrName)?.name ?? attrName;
    return datasetTemplates(pool);
  }
  if (path.length === 1 && path[0] === 'fileSystems') {
    const seen = new Set<string>();
    return hosts.flatMap(fileSystemItems).filter((item) => !seen.has(item.label) && seen.add(item.label));
  }
  return [];
}
