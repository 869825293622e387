/**
 * A module file a fix may create when none of the host's own modules can take a new definition: its root module is
 * generated (a flake that lists only `./hardware-configuration.nix` and the disko file), or every module that could
 * take it binds the path to something that is not an attribute set (`boot = import ./boot.nix;`), where a second
 * definition would not parse. The module system merges the new file's definitions with the others like any module's.
 *
 * The file goes beside the host's root module, named `ephemeral-root.nix` (`ephemeral-root-2.nix`, … when taken),
 * and is imported where the host lists its modules: the root module's `imports` list (added when the module has
 * none), else, for a flake host, the `modules = [ … ]` list of the flake's `nixosConfigurations.<host>`. Without
 * such a place no module is planned, and a fix that needs one is not offered.
 */
import path from 'node:path';
import type { HostModel } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import { SourceFile, type SyntaxNode } from '../syntax/parser';
import { isGenerated } from './generated';
import { type TextEdit, appendToList, applyEdits, bindingPath, insertBinding, locate, moduleBody } from './nix-edit';

export const NEW_MODULE_NAME = 'ephemeral-root';

export interface NewModulePlan {
  /** The absolute path of the module to create. */
  path: string;
  /** The empty module the fixes write into: a parsed text that exists only here until the fix is applied. */
  template: SourceFile;
  /** The edit that imports the new module. */
  importEdit: TextEdit;
  /** The file that will import it. */
  importedFrom: string;
}

/** The template of each planned path, parsed once: handlers compute their edits against its text. */
const templates = new Map<string, SourceFile>();

/** The same text for every host: a classic host's name is its folder's, which says nothing in the file. */
const TEMPLATE_TEXT = ["# This host's settings that ephemeral-root's quick fixes could not write into its other modules.", '{ ... }:', '{ }', ''].join('\n');

function templateFile(filePath: string, text: string): SourceFile {
  const cached = templates.get(filePath);
  if (cached) return cached;
  const file = SourceFile.fromText(filePath, text);
  templates.set(filePath, file);
  return file;
}

function unwrap(node: SyntaxNode | null | undefined): SyntaxNode | undefined {
  let current = node ?? undefined;
  while (current && current.type === 'parenthesized_expression') current = current.childForFieldName('expression') ?? undefined;
  return current;
}

/** The attribute set at the top of a module (through its function, `let … in` and `with …;`): where `imports` lives. */
function moduleTop(file: SourceFile): SyntaxNode | undefined {
  let node = unwrap(file.expression);
  for (let depth = 0; node && depth < 10; depth++) {
    if (node.type === 'function_expression' || node.type === 'let_expression' || node.type === 'with_expression') node = unwrap(node.childForFieldName('body'));
    else break;
  }
  return node && (node.type === 'attrset_expression' || node.type === 'rec_attrset_expression') ? node : undefined;
}

function parsedOwnFile(workspace: Workspace, filePath: string): SourceFile | undefined {
  const file = workspace.source(filePath);
  if (!file || file.unreadable || !file.root || file.root.hasError || isGenerated(file)) return undefined;
  return file;
}

/** A path literal naming `target` from the folder of `from` (`./ephemeral-root.nix`), or undefined when Nix could not spell it as one. */
function pathLiteral(from: string, target: string): string | undefined {
  const relative = path.relative(path.dirname(from), target).split(path.sep).join('/');
  const literal = relative.startsWith('../') ? relative : `./${relative}`;
  return /^[A-Za-z0-9._+\-/]+$/.test(literal) && !literal.includes('//') ? literal : undefined;
}

/** Adds an item to the `imports` list of the host's root module (or writes the list), when the root is the user's own module. */
function rootImport(host: HostModel, workspace: Workspace, item: (from: string) => string | undefined): { edit: TextEdit; file: string } | undefined {
  if (host.root.endsWith('flake.nix') || host.input.diskoFiles.includes(host.root)) return undefined;
  const file = parsedOwnFile(workspace, host.root);
  const top = file && moduleTop(file);
  const text = file && item(file.path);
  if (!file || !top || !text) return undefined;
  const located = locate(top, ['imports']);
  if (located.binding) {
    const value = unwrap(located.binding.childForFieldName('expression'));
    return value?.type === 'list_expression' ? { edit: appendToList(file, value, text), file: file.path } : undefined;
  }
  if (located.blocked) return undefined;
  return { edit: insertBinding(file, located.container, located.rest, `[ ${text} ]`), file: file.path };
}

/** Every binding of a syntax tree, outermost first. */
function bindingsBelow(node: SyntaxNode): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const stack: SyntaxNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.type === 'binding') found.push(current);
    for (const child of [...current.namedChildren].reverse()) if (child) stack.push(child);
  }
  return found;
}

/** Adds an item to the `modules = [ … ]` list a flake builds the host from, when exactly one list is the host's. */
function flakeImport(host: HostModel, workspace: Workspace, item: (from: string) => string | undefined): { edit: TextEdit; file: string } | undefined {
  const flakePath = host.files.find((filePath) => path.basename(filePath) === 'flake.nix');
  const flake = flakePath && parsedOwnFile(workspace, flakePath);
  const text = flake && item(flake.path);
  if (!flake || !flake.root || !text) return undefined;
  const lists = bindingsBelow(flake.root).filter((binding) => {
    if (bindingPath(binding)?.at(-1) !== 'modules' || unwrap(binding.childForFieldName('expression'))?.type !== 'list_expression') return false;
    // The list belongs to the host when a binding around it (or its own path) names the host.
    for (let node: SyntaxNode | null = binding; node; node = node.parent) if (node.type === 'binding' && bindingPath(node)?.includes(host.name)) return true;
    return false;
  });
  if (lists.length !== 1) return undefined;
  return { edit: appendToList(flake, unwrap(lists[0].childForFieldName('expression'))!, text), file: flake.path };
}

/** The module a fix may create for the host, or undefined when there is no place to import one from. */
export function newModulePlan(host: HostModel, workspace: Workspace): NewModulePlan | undefined {
  const folder = path.dirname(host.root);
  let modulePath: string | undefined;
  for (let index = 1; index < 10 && !modulePath; index++) {
    const candidate = path.join(folder, `${NEW_MODULE_NAME}${index === 1 ? '' : `-${index}`}.nix`);
    if (workspace.exists(candidate) === false) modulePath = candidate;
  }
  if (!modulePath) return undefined;
  const target = modulePath;
  const item = (from: string) => pathLiteral(from, target);
  const place = rootImport(host, workspace, item) ?? flakeImport(host, workspace, item);
  if (!place) return undefined;
  return { path: modulePath, template: templateFile(modulePath, TEMPLATE_TEXT), importEdit: place.edit, importedFrom: place.file };
}

/**
 * The text of the new module once a fix's edits of the template are applied, or undefined when they do not fit
 * together. Every binding a fix writes into the empty `{ }` replaces that whole set with a block holding it (that is
 * how an empty set is written into), so those edits are joined into one block that holds all their bindings.
 */
export function newModuleText(plan: NewModulePlan, edits: TextEdit[]): string | undefined {
  const body = moduleBody(plan.template);
  if (!body) return undefined;
  const wholeBody = (item: TextEdit) => item.start === body.startIndex && item.end === body.endIndex;
  const blocks = edits.filter(wholeBody);
  const merged: TextEdit[] = edits.filter((item) => !wholeBody(item));
  if (blocks.length > 0) {
    const inner: string[] = [];
    for (const block of blocks) {
      const lines = block.text.split('\n');
      if (lines.length < 3 || lines[0] !== '{' || lines[lines.length - 1] !== '}') return undefined;
      inner.push(...lines.slice(1, -1));
    }
    merged.push({ ...blocks[0], text: ['{', ...inner, '}'].join('\n') });
  }
  const applied = applyEdits(plan.template.text, merged);
  return applied.dropped.length > 0 ? undefined : applied.text;
}
