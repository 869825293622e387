/**
 * Edits inside a systemd unit definition (`boot.initrd.systemd.services.<name> = { … }`), whether the unit is
 * written as one attribute set or as several dotted bindings.
 */
import type { Unit } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import { type TextEdit, appendToList, locate, moduleBody, nixString, setAttribute } from './nix-edit';
import { attrsetAt } from './targets';

function unitPath(unit: Unit): string[] {
  return unit.stage === 'initrd' ? ['boot', 'initrd', 'systemd', 'services', unit.name] : ['systemd', 'services', unit.name];
}

/** Where the unit's own bindings live: its attribute set, or the module body for dotted bindings. */
function unitScope(workspace: Workspace, unit: Unit): { file: import('../syntax/parser').SourceFile; body: import('../syntax/parser').SyntaxNode; prefix: string[] } | undefined {
  const own = attrsetAt(workspace, unit.origin);
  if (own) return { ...own, prefix: [] };
  const file = unit.origin && workspace.source(unit.origin.file);
  const body = file ? moduleBody(file) : undefined;
  return file && body ? { file, body, prefix: unitPath(unit) } : undefined;
}

/** Sets `field = value;` in the unit (replacing an existing value). */
export function setUnitField(workspace: Workspace, unit: Unit, field: string[], value: string): TextEdit | undefined {
  const scope = unitScope(workspace, unit);
  return scope && setAttribute(scope.file, scope.body, [...scope.prefix, ...field], value);
}

/** Adds a unit name to one of the unit's lists (`after`, `before`, `wantedBy`, …), creating the list if needed. */
export function addToUnitList(workspace: Workspace, unit: Unit, field: string, item: string): TextEdit | undefined {
  const scope = unitScope(workspace, unit);
  if (!scope) return undefined;
  const located = locate(scope.body, [...scope.prefix, field]);
  const value = located.binding?.childForFieldName('expression');
  if (value?.type === 'list_expression') return appendToList(scope.file, value, nixString(item));
  if (located.binding) return undefined;
  return setAttribute(scope.file, scope.body, [...scope.prefix, field], `[ ${nixString(item)} ]`);
}
