/**
 * Edits of impermanence and preservation lists: adding paths to `environment.persistence."<S>".files` /
 * `directories` (or `preservation.preserveAt."<S>".…`), in the list the host already writes when there is one, in
 * its own layout.
 */
import type { HostModel } from '../model/host-model';
import type { PersistenceRoot } from '../model/persistence';
import type { Workspace } from '../model/workspace';
import type { SourceFile, SyntaxNode } from '../syntax/parser';
import { isGenerated } from './generated';
import { type TextEdit, edit, indentationAt, locate, moduleBody, nixString, trySetAttribute, unwrapPriority } from './nix-edit';

export type PersistedList = 'files' | 'directories';

/** The option path of a persistence root: `environment.persistence."<S>"` or `preservation.preserveAt."<S>"`. */
export function rootOptionPath(module: PersistenceRoot['module'], rootPath: string): string[] {
  return module === 'impermanence' ? ['environment', 'persistence', rootPath] : ['preservation', 'preserveAt', rootPath];
}

function ownModule(workspace: Workspace, filePath: string): { file: SourceFile; body: SyntaxNode } | undefined {
  const file = workspace.source(filePath);
  if (!file || file.unreadable || !file.root || file.root.hasError || isGenerated(file)) return undefined;
  const body = moduleBody(file);
  return body ? { file, body } : undefined;
}

/** Appends several items to a list literal at once (one edit), one per line when the list has one item per line. */
function appendItems(file: SourceFile, list: SyntaxNode, items: string[]): TextEdit {
  const elements = list.childrenForFieldName('element').filter((child): child is SyntaxNode => child !== null);
  if (elements.length === 0) return edit(file, list.startIndex, list.endIndex, `[ ${items.join(' ')} ]`);
  const last = elements[elements.length - 1];
  const multiLine = file.slice(list.startIndex, list.endIndex).includes('\n');
  // After a comment that ends the last item's line, so the comment stays with its item.
  const lineBreak = file.text.indexOf('\n', last.endIndex);
  const lineEnd = lineBreak < 0 ? file.text.length : file.text[lineBreak - 1] === '\r' ? lineBreak - 1 : lineBreak;
  const trailing = file.text.slice(last.endIndex, lineEnd).trim().startsWith('#') && lineEnd < list.endIndex;
  if (multiLine) {
    const eol = file.text.includes('\r\n') ? '\r\n' : '\n';
    const indentation = indentationAt(file, last.startIndex);
    const at = trailing ? lineEnd : last.endIndex;
    return edit(file, at, at, items.map((item) => `${eol}${indentation}${item}`).join(''));
  }
  return edit(file, last.endIndex, last.endIndex, items.map((item) => ` ${item}`).join(''));
}

/**
 * Adds paths to one list of a persistence root. The items go into a list literal the host writes for that root
 * (unconditionally, outside generated files); without one, a new `files = [ … ];` / `directories = [ … ];` binding
 * goes next to where the root is named. Undefined when no such place is safe: the list is computed, or the root sits
 * under a condition, so a new definition could change what else it holds.
 */
export function addPersistedPaths(host: HostModel, workspace: Workspace, root: PersistenceRoot, list: PersistedList, paths: string[]): TextEdit | undefined {
  return addPersistedItems(host, workspace, root, list, paths.map(nixString));
}

/**
 * Like `addPersistedPaths`, with the items given as Nix text, for entries that are more than a path (preservation's
 * `{ file = "/etc/machine-id"; inInitrd = true; }`).
 */
export function addPersistedItems(host: HostModel, workspace: Workspace, root: PersistenceRoot, list: PersistedList, items: string[]): TextEdit | undefined {
  // The option path names the root by its attribute name, which is its path only while `persistentStoragePath`
  // keeps its default (the name): with another storage path the edit would declare a second root.
  if (!root.node.child('persistentStoragePath').absent) return undefined;
  const optionPath = [...rootOptionPath(root.module, root.path), list];
  const definitions = host.config.at(...optionPath).definitions.filter((definition) => !definition.synthetic);
  if (definitions.some((definition) => definition.conditional)) return undefined;
  for (const filePath of new Set(definitions.map((definition) => definition.file))) {
    const module = ownModule(workspace, filePath);
    if (!module) continue;
    const value = unwrapPriority(locate(module.body, optionPath).binding?.childForFieldName('expression'));
    if (value?.type === 'list_expression') return appendItems(module.file, value, items);
  }
  // No list literal of this root: a new binding where the root is named, unless that file binds the list otherwise.
  const named = root.origin && ownModule(workspace, root.origin.file);
  if (!named || locate(named.body, optionPath).binding) return undefined;
  return trySetAttribute(named.file, named.body, optionPath, `[ ${items.join(' ')} ]`);
}

/** The persistence root a finding's `data.persistRoot` names, if the host still has exactly that one. */
export function persistenceRootNamed(host: HostModel, rootPath: unknown, module?: PersistenceRoot['module']): PersistenceRoot | undefined {
  if (typeof rootPath !== 'string') return undefined;
  const matching = host.persistenceDetails().roots.filter((root) => root.path === rootPath && (!module || root.module === module) && !root.conditional);
  return matching.length === 1 ? matching[0] : undefined;
}
