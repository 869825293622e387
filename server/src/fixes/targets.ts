/**
 * Where a fix writes: the file (and attribute set in it) that should receive a new definition, chosen the way a
 * person would — the file that already defines the closest part of the option path, else the host's own
 * configuration file — and the attribute-set literal of a disko dataset or pool.
 *
 * A generated file (generated.ts: `hardware-configuration.nix`, or a "do not modify" header) is never a target, even
 * where it defines the closest part of the path: the tool that wrote it would drop the new definition on its next
 * run. When none of the host's own modules can take a definition, the last target is a module that does not exist
 * yet (new-module.ts); the registry turns edits of it into creating that file and importing it.
 */
import type { ConfigNode } from '../model/config';
import type { Dataset, Pool } from '../model/disko';
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';
import type { Workspace } from '../model/workspace';
import type { SourceFile, SyntaxNode } from '../syntax/parser';
import { isGenerated } from './generated';
import { enclosing, moduleBody } from './nix-edit';
import { newModulePlan } from './new-module';

export interface Target {
  file: SourceFile;
  body: SyntaxNode;
}

function editable(workspace: Workspace, filePath: string): Target | undefined {
  const file = workspace.source(filePath);
  if (!file || file.unreadable || !file.root || file.root.hasError || isGenerated(file)) return undefined;
  const body = moduleBody(file);
  return body ? { file, body } : undefined;
}

/** Files that define `path` or a prefix of it (longest prefix first), written by the user. */
function definingFiles(config: ConfigNode, path: string[]): string[] {
  const levels: string[][] = [];
  let node = config;
  for (const name of path) {
    node = node.child(name);
    levels.push([...new Set(node.definitions.filter((definition) => !definition.synthetic && !definition.conditional).map((definition) => definition.file))]);
  }
  return levels.reverse().flat();
}

/** The module file a new definition of `path` goes into. */
export function targetFor(host: HostModel, workspace: Workspace, path: string[]): Target | undefined {
  return targetsFor(host, workspace, path)[0];
}

/**
 * Every module file a new definition of `path` could go into, best first (the order of `targetFor`): for a caller
 * that must pass over a file where the edit turns out not to be safe.
 */
export function targetsFor(host: HostModel, workspace: Workspace, path: string[]): Target[] {
  // A disko file is a target only where it already defines part of the path: it is no place for other settings.
  const disko = new Set(host.input.diskoFiles);
  const fallbacks = [host.root, ...host.files].filter((filePath) => !disko.has(filePath));
  const candidates = [...new Set([...definingFiles(host.config, path), ...fallbacks])];
  const targets: Target[] = [];
  for (const filePath of candidates) {
    if (filePath.endsWith('flake.nix')) continue;
    const target = editable(workspace, filePath);
    if (target) targets.push(target);
  }
  const planned = newModulePlan(host, workspace);
  const body = planned && moduleBody(planned.template);
  if (planned && body) targets.push({ file: planned.template, body });
  return targets;
}

/** The attribute set literal that an origin's binding is bound to (`name = { … };`). */
export function attrsetAt(workspace: Workspace, origin: Origin | undefined): Target | undefined {
  if (!origin) return undefined;
  const file = workspace.source(origin.file);
  if (!file || !file.root || file.root.hasError) return undefined;
  const binding = enclosing(file, origin.start, origin.end, ['binding']);
  // With dotted paths (`a.b.c = { … }`) only the last name is bound to the literal.
  const attrs = binding?.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
  const last = attrs[attrs.length - 1];
  if (!last || last.startIndex !== origin.start) return undefined;
  let value = binding?.childForFieldName('expression') ?? null;
  while (value && value.type === 'parenthesized_expression') value = value.childForFieldName('expression');
  return value && value.type === 'attrset_expression' ? { file, body: value } : undefined;
}

/** The attribute set of a disko dataset (or, for a pool's root dataset, of the pool). */
export function datasetAttrset(workspace: Workspace, dataset: Dataset): Target | undefined {
  return attrsetAt(workspace, dataset.isPoolRoot ? dataset.pool.origin : dataset.origin);
}

/** The `datasets = { … }` attribute set of a pool. */
export function datasetsAttrset(workspace: Workspace, pool: Pool): Target | undefined {
  const definition = pool.node.child('datasets').definitions.find((item) => item.keyOrigin);
  return attrsetAt(workspace, definition?.keyOrigin);
}
