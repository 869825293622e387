/**
 * Text edits on Nix files that keep the file's own style: set an attribute (nested or dotted, whichever the file
 * already uses for that prefix), add an item to a list, replace a value, remove a binding. Edits are computed on the
 * tree-sitter tree of the file as it is now and carry the text they replace, so a stale edit is dropped, not forced.
 */
import type { SourceFile, SyntaxNode } from '../syntax/parser';

export interface TextEdit {
  file: string;
  start: number;
  end: number;
  text: string;
  /** The text the range must still hold when the edit is applied. */
  expected: string;
  /**
   * The file does not exist yet: the edit creates it, and `text` is its whole content (`start`, `end` are 0 and
   * `expected` is empty). In LSP it becomes a `CreateFile` operation followed by an insertion.
   */
  create?: boolean;
}

/** An edit that creates `filePath` holding `text`. */
export function createFile(filePath: string, text: string): TextEdit {
  return { file: filePath, start: 0, end: 0, text, expected: '', create: true };
}

export function edit(file: SourceFile, start: number, end: number, text: string): TextEdit {
  return { file: file.path, start, end, text, expected: file.text.slice(start, end) };
}

/** Applies edits to one text; edits whose range no longer holds the expected text are dropped. */
export function applyEdits(text: string, edits: TextEdit[]): { text: string; dropped: TextEdit[] } {
  const dropped: TextEdit[] = [];
  const valid = edits.filter((item) => {
    const ok = text.slice(item.start, item.end) === item.expected;
    if (!ok) dropped.push(item);
    return ok;
  });
  // Later edits first, so earlier offsets stay valid; insertions at the same point keep their given order.
  const ordered = valid.map((item, index) => ({ item, index })).sort((a, b) => b.item.start - a.item.start || b.item.end - a.item.end || b.index - a.index);
  let result = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const { item } of ordered) {
    if (item.end > limit) {
      dropped.push(item);
      continue;
    }
    result = result.slice(0, item.start) + item.text + result.slice(item.end);
    limit = item.start;
  }
  return { text: result, dropped };
}

/** An attribute name as Nix source: bare when it is an identifier, quoted otherwise. */
export function attrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !['if', 'then', 'else', 'let', 'in', 'with', 'rec', 'inherit', 'assert', 'or'].includes(name) ? name : JSON.stringify(name);
}

export function attrPath(path: string[]): string {
  return path.map(attrName).join('.');
}

export function nixString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${')}"`;
}

function unwrap(node: SyntaxNode | null | undefined): SyntaxNode | undefined {
  let current = node ?? undefined;
  while (current && current.type === 'parenthesized_expression') current = current.childForFieldName('expression') ?? undefined;
  return current;
}

const PRIORITY_FUNCTIONS = ['mkForce', 'mkDefault', 'mkOverride', 'mkVMOverride', 'mkImageMediaOverride', 'mkOptionDefault', 'mkBefore', 'mkAfter', 'mkOrder'];

/** `lib.mkForce`, `mkDefault`, `pkgs.lib.mkOverride 50`, … : the name of a priority/order function a node calls. */
function priorityFunction(fn: SyntaxNode | null | undefined): string | undefined {
  let node = unwrap(fn);
  // `lib.mkOverride 50` and `lib.mkOrder 500` take their number first.
  if (node?.type === 'apply_expression' && unwrap(node.childForFieldName('argument'))?.type === 'integer_expression') node = unwrap(node.childForFieldName('function'));
  let name: string | undefined;
  if (node?.type === 'variable_expression') name = node.text;
  else if (node?.type === 'select_expression' && !node.childForFieldName('default')) {
    const base = unwrap(node.childForFieldName('expression'));
    const attrs = node.childForFieldName('attrpath')?.childrenForFieldName('attr') ?? [];
    const names = attrs.map((attr) => (attr?.type === 'identifier' ? attr.text : undefined));
    const head = base?.type === 'variable_expression' ? base.text : undefined;
    const full = [head, ...names];
    if (full.some((part) => part === undefined)) return undefined;
    const libPath = full.slice(0, -1).join('.');
    if (libPath === 'lib' || libPath === 'pkgs.lib' || libPath === 'nixpkgs.lib') name = full[full.length - 1];
  }
  return name && PRIORITY_FUNCTIONS.includes(name) ? name : undefined;
}

/**
 * The value a priority or order wrapper wraps (`lib.mkForce { … }` → `{ … }`), through parentheses; the node itself
 * when it is not wrapped. `mkIf` is not seen through: what it wraps is conditional.
 */
export function unwrapPriority(node: SyntaxNode | null | undefined): SyntaxNode | undefined {
  let current = unwrap(node);
  for (let depth = 0; current && depth < 4 && current.type === 'apply_expression' && priorityFunction(current.childForFieldName('function')); depth++) {
    current = unwrap(current.childForFieldName('argument'));
  }
  return current;
}

/** The wrapper call around a value (`lib.mkForce { … }`), with the function part (`lib.mkForce`), if there is one. */
export function priorityWrapper(node: SyntaxNode | null | undefined): { call: SyntaxNode; fn: SyntaxNode; name: string; argument: SyntaxNode } | undefined {
  const call = unwrap(node);
  if (call?.type !== 'apply_expression') return undefined;
  const fn = call.childForFieldName('function');
  const argument = call.childForFieldName('argument');
  const name = priorityFunction(fn);
  return fn && argument && name ? { call, fn, name, argument } : undefined;
}

/** The function node of a module file (`{ config, lib, ... }: …`), if the file is one. */
export function moduleFunction(file: SourceFile): SyntaxNode | undefined {
  const top = unwrap(file.expression);
  return top?.type === 'function_expression' ? top : undefined;
}

/**
 * The attribute set a module's definitions go into: the body of the module function (through `let … in` and
 * `with …;`), or its `config = { … };` when the module is written with `options`/`config`. Undefined when the body
 * is not a plain attribute set we can edit safely (a `mkIf`, a `mkMerge`, a function call).
 */
export function moduleBody(file: SourceFile): SyntaxNode | undefined {
  let node = unwrap(file.expression);
  for (let depth = 0; node && depth < 10; depth++) {
    if (node.type === 'function_expression') node = unwrap(node.childForFieldName('body'));
    else if (node.type === 'let_expression') node = unwrap(node.childForFieldName('body'));
    else if (node.type === 'with_expression') node = unwrap(node.childForFieldName('body'));
    else break;
  }
  if (!node || (node.type !== 'attrset_expression' && node.type !== 'rec_attrset_expression')) return undefined;
  const config = bindingsOf(node).find((binding) => bindingPath(binding)?.join('.') === 'config');
  if (config) {
    const value = unwrap(config.childForFieldName('expression'));
    return value?.type === 'attrset_expression' ? value : undefined;
  }
  return node;
}

export function bindingsOf(attrset: SyntaxNode): SyntaxNode[] {
  const set = attrset.namedChildren.find((child) => child?.type === 'binding_set');
  return (set?.namedChildren ?? []).filter((child): child is SyntaxNode => child !== null && child.type === 'binding');
}

/** The static names of a binding's attrpath (`a."b".c`), or undefined when one is computed. */
export function bindingPath(binding: SyntaxNode): string[] | undefined {
  const attrpath = binding.childForFieldName('attrpath');
  if (!attrpath) return undefined;
  const names: string[] = [];
  for (const attr of attrpath.childrenForFieldName('attr')) {
    if (!attr) return undefined;
    if (attr.type === 'identifier') names.push(attr.text);
    else if (attr.type === 'string_expression' && attr.namedChildren.every((child) => child?.type === 'string_fragment')) names.push(attr.namedChildren.map((child) => child!.text).join(''));
    else return undefined;
  }
  return names;
}

/** The line's leading whitespace at an offset. */
export function indentationAt(file: SourceFile, offset: number): string {
  const lineStart = file.lines.lineStart(file.lines.position(offset).line);
  return /^[ \t]*/.exec(file.text.slice(lineStart))?.[0] ?? '';
}

/** The indentation step the file uses (two spaces when it cannot be told). */
export function indentUnit(file: SourceFile): string {
  const counts = new Map<number, number>();
  let previous = 0;
  for (const line of file.text.split('\n')) {
    if (!line.trim()) continue;
    const width = /^ */.exec(line)![0].length;
    const step = width - previous;
    if (step > 0) counts.set(step, (counts.get(step) ?? 0) + 1);
    previous = width;
  }
  if (/^\t/m.test(file.text) && ![...counts.values()].some((count) => count > 2)) return '\t';
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return ' '.repeat(best && best[0] <= 8 ? best[0] : 2);
}

function newline(file: SourceFile): string {
  return file.text.includes('\r\n') ? '\r\n' : '\n';
}

/** Re-indents a multi-line text so that its lines after the first start at `indentation`. */
export function reindent(text: string, indentation: string, eol = '\n'): string {
  return text
    .split('\n')
    .map((line, index) => (index === 0 || line === '' ? line : indentation + line))
    .join(eol);
}

export interface Located {
  /** The binding whose path is exactly the wanted path. */
  binding?: SyntaxNode;
  /** The innermost attribute set that holds a prefix of the path, and the rest of the path below it. */
  container: SyntaxNode;
  rest: string[];
  /** Bindings in `container` that share the first name of `rest`: a new dotted binding goes after the last. */
  siblings: SyntaxNode[];
  /**
   * What makes a new binding of `rest` in `container` unsafe, if something does: a binding of a prefix of the path
   * whose value is not an attribute set literal (`fileSystems = import ./fs.nix;`, `x = lib.mkIf c { … };`), an
   * `inherit` of its first name, or bindings below the path itself. Nix rejects a second definition next to those
   * ("attribute already defined"), so an edit there must not be made.
   */
  blocked?: SyntaxNode;
}

function isAttrsetLiteral(node: SyntaxNode | undefined): node is SyntaxNode {
  return node?.type === 'attrset_expression' || node?.type === 'rec_attrset_expression';
}

/**
 * Finds where `path` lives (or would live) in an attribute set, following nested and dotted bindings alike, and
 * seeing through priority wrappers (`fileSystems."/x" = lib.mkForce { … }` holds the entry's bindings).
 */
export function locate(attrset: SyntaxNode, path: string[]): Located {
  let blocked: SyntaxNode | undefined;
  for (const binding of bindingsOf(attrset)) {
    const names = bindingPath(binding);
    if (!names || !names.slice(0, path.length).every((name, index) => name === path[index])) continue;
    if (names.length > path.length) {
      blocked ??= binding;
      continue;
    }
    if (names.length === path.length) return { binding, container: attrset, rest: [], siblings: [] };
    const value = unwrapPriority(binding.childForFieldName('expression'));
    if (isAttrsetLiteral(value)) return locate(value, path.slice(names.length));
    blocked ??= binding;
  }
  blocked ??= inheritOf(attrset, path[0]);
  const siblings = bindingsOf(attrset).filter((binding) => bindingPath(binding)?.[0] === path[0]);
  return { container: attrset, rest: path, siblings, blocked };
}

/** The `inherit` (or `inherit (x)`) in an attribute set that binds `name`, if one does. */
function inheritOf(attrset: SyntaxNode, name: string): SyntaxNode | undefined {
  const set = attrset.namedChildren.find((child) => child?.type === 'binding_set');
  for (const child of set?.namedChildren ?? []) {
    if (child?.type !== 'inherit' && child?.type !== 'inherit_from') continue;
    const attrs = child.childForFieldName('attrs')?.childrenForFieldName('attr') ?? [];
    if (attrs.some((attr) => attr?.text === name || (attr?.type === 'string_expression' && attr.text === JSON.stringify(name)))) return child;
  }
  return undefined;
}

/**
 * Inserts `path = value;` into an attribute set as its own line(s), after the last binding that shares the longest
 * prefix of its path (or after the last binding), indented like its neighbours. `value` may span lines; they are
 * indented to match.
 */
export function insertBinding(file: SourceFile, attrset: SyntaxNode, path: string[], value: string, comment?: string): TextEdit {
  const bindings = bindingsOf(attrset);
  // After the last binding that shares the longest prefix with the path (`fileSystems."/x".a` next to
  // `fileSystems."/x".b`, not after `fileSystems."/y"`), else after the last binding.
  const shared = (binding: SyntaxNode) => {
    const names = bindingPath(binding) ?? [];
    let length = 0;
    while (length < names.length && length < path.length && names[length] === path[length]) length++;
    return length;
  };
  const best = Math.max(0, ...bindings.map(shared));
  const siblings = best > 0 ? bindings.filter((binding) => shared(binding) === best) : [];
  const anchor = siblings[siblings.length - 1] ?? bindings[bindings.length - 1];
  return insertBindingAt(file, attrset, anchor, 'after', path, value, comment);
}

/**
 * Inserts `path = value;` as its own line(s) right after (or before) one binding of an attribute set, indented like
 * it. Next to a block that the file sets off by an empty line, a new block (or a binding of another name) is set off
 * the same way.
 */
export function insertBindingAt(file: SourceFile, attrset: SyntaxNode, anchor: SyntaxNode | undefined, where: 'after' | 'before', path: string[], value: string, comment?: string): TextEdit {
  const bindings = bindingsOf(attrset);
  const eol = newline(file);
  const suffix = comment ? ` # ${comment}` : '';
  const multiLine = file.text.slice(attrset.startIndex, attrset.endIndex).includes('\n');
  if (anchor && multiLine && where === 'before') {
    const anchorLine = file.lines.position(anchor.startIndex).line;
    let line = anchorLine;
    // Above the comment lines that lead the anchor: they stay with it.
    while (line > 0 && file.text.slice(file.lines.lineStart(line - 1), file.lines.lineStart(line)).trim().startsWith('#')) line--;
    const lineStart = file.lines.lineStart(line);
    if (file.text.slice(file.lines.lineStart(anchorLine), anchor.startIndex).trim() === '') {
      const indentation = indentationAt(file, anchor.startIndex);
      const gap = setOff(file, anchor, path, value) ? eol : '';
      return edit(file, lineStart, lineStart, `${indentation}${attrPath(path)} = ${reindent(value, indentation, eol)};${suffix}${eol}${gap}`);
    }
  }
  if (anchor && multiLine) {
    const indentation = indentationAt(file, anchor.startIndex);
    const gap = setOff(file, anchor, path, value) ? eol : '';
    const text = `${eol}${gap}${indentation}${attrPath(path)} = ${reindent(value, indentation, eol)};${suffix}`;
    const lineEnd = endOfLine(file, anchor.endIndex);
    return edit(file, lineEnd, lineEnd, text);
  }
  const close = attrset.endIndex - 1;
  const outer = indentationAt(file, attrset.startIndex);
  const inner = outer + indentUnit(file);
  if (bindings.length > 0) {
    // `{ a = 1; }` stays on its line; nothing the user wrote is moved.
    return edit(file, close, close, `${attrPath(path)} = ${reindent(value, inner, eol)};${suffix ? `${suffix}${eol}${outer}` : ' '}`);
  }
  // An empty set `{ }` becomes a block holding the new binding.
  const open = file.text.lastIndexOf('{', close);
  return edit(file, open, attrset.endIndex, `{${eol}${inner}${attrPath(path)} = ${reindent(value, inner, eol)};${suffix}${eol}${outer}}`);
}

/** A multi-line binding with an empty line above it (and above the comment lines that lead it): the file sets blocks apart. */
function blankLineBefore(file: SourceFile, binding: SyntaxNode): boolean {
  if (!file.text.slice(binding.startIndex, binding.endIndex).includes('\n')) return false;
  for (let line = file.lines.position(binding.startIndex).line - 1; line >= 0; line--) {
    const text = file.text.slice(file.lines.lineStart(line), file.lines.lineStart(line + 1)).trim();
    if (text === '') return true;
    if (!text.startsWith('#')) return false;
  }
  return false;
}

/** Whether a new binding next to `anchor` is set off by an empty line, as the file does with its blocks. */
function setOff(file: SourceFile, anchor: SyntaxNode, path: string[], value: string): boolean {
  if (!blankLineBefore(file, anchor)) return false;
  return value.includes('\n') || bindingPath(anchor)?.[0] !== path[0];
}

/** The end of the line holding `offset` (after a trailing comment, before the newline). */
function endOfLine(file: SourceFile, offset: number): number {
  const next = file.text.indexOf('\n', offset);
  const end = next < 0 ? file.text.length : next;
  return file.text[end - 1] === '\r' ? end - 1 : end;
}

/**
 * Sets `path = value;` in a module file: replaces the value when the binding exists, else inserts it into the
 * innermost existing attribute set on the path (nested or dotted, as the file has it).
 */
export function setAttribute(file: SourceFile, body: SyntaxNode, path: string[], value: string, comment?: string): TextEdit {
  const located = locate(body, path);
  if (located.binding) {
    const expression = located.binding.childForFieldName('expression')!;
    return edit(file, expression.startIndex, expression.endIndex, value);
  }
  return insertBinding(file, located.container, located.rest, value, comment);
}

/**
 * Like `setAttribute`, but undefined when the edit would not be safe: the path is bound to something that is not an
 * attribute set literal on the way (Nix would reject a second definition), or below the path.
 */
export function trySetAttribute(file: SourceFile, body: SyntaxNode, path: string[], value: string, comment?: string): TextEdit | undefined {
  const located = locate(body, path);
  if (located.binding) {
    const expression = located.binding.childForFieldName('expression');
    return expression ? edit(file, expression.startIndex, expression.endIndex, value) : undefined;
  }
  if (located.blocked) return undefined;
  return insertBinding(file, located.container, located.rest, value, comment);
}

/** Adds a string to a list literal, in the list's own layout (one line, or one item per line). */
export function appendToList(file: SourceFile, list: SyntaxNode, item: string): TextEdit {
  const elements = list.childrenForFieldName('element').filter((child): child is SyntaxNode => child !== null);
  const eol = newline(file);
  const text = file.slice(list.startIndex, list.endIndex);
  if (elements.length === 0) return edit(file, list.startIndex, list.endIndex, `[ ${item} ]`);
  const last = elements[elements.length - 1];
  if (text.includes('\n')) {
    const indentation = indentationAt(file, last.startIndex);
    // After a comment that ends the last item's line: the comment stays with its item.
    const lineEnd = endOfLine(file, last.endIndex);
    const rest = file.text.slice(last.endIndex, lineEnd).trim();
    const at = rest.startsWith('#') && lineEnd < list.endIndex ? lineEnd : last.endIndex;
    return edit(file, at, at, `${eol}${indentation}${item}`);
  }
  return edit(file, last.endIndex, last.endIndex, ` ${item}`);
}

/**
 * Removes one element of a list literal and keeps the list's layout: its line when it stands alone on one, else the
 * element and the space before it (`[ "a" "b" ]` → `[ "a" ]`, `[ "b" ]` → `[ ]`).
 */
export function removeListElement(file: SourceFile, list: SyntaxNode, element: SyntaxNode): TextEdit {
  const elements = list.childrenForFieldName('element').filter((child): child is SyntaxNode => child !== null);
  const index = elements.findIndex((child) => child.startIndex === element.startIndex && child.endIndex === element.endIndex);
  const lineStart = file.lines.lineStart(file.lines.position(element.startIndex).line);
  const lineEnd = endOfLine(file, element.endIndex);
  const alone = file.text.slice(lineStart, element.startIndex).trim() === '' && file.text.slice(element.endIndex, lineEnd).trim() === '';
  if (alone && file.text.slice(list.startIndex, list.endIndex).includes('\n') && list.startIndex < lineStart) {
    const next = file.text.indexOf('\n', element.endIndex);
    return edit(file, lineStart, next < 0 ? file.text.length : next + 1, '');
  }
  const previous = index > 0 ? elements[index - 1] : undefined;
  if (previous && !file.text.slice(previous.endIndex, element.startIndex).includes('\n')) return edit(file, previous.endIndex, element.endIndex, '');
  // The first element (or one after a line break): the space after it goes with it.
  let end = element.endIndex;
  while (file.text[end] === ' ' || file.text[end] === '\t') end++;
  if (elements.length === 1 && file.text[end] === ']') {
    let start = element.startIndex;
    while (start > list.startIndex + 1 && (file.text[start - 1] === ' ' || file.text[start - 1] === '\t')) start--;
    return edit(file, start, end, ' ');
  }
  return edit(file, element.startIndex, end, '');
}

/** Removes a whole binding, with its line when it stands alone on it (and a comment line right above it stays). */
export function removeBinding(file: SourceFile, binding: SyntaxNode): TextEdit {
  const lineStart = file.lines.lineStart(file.lines.position(binding.startIndex).line);
  const before = file.text.slice(lineStart, binding.startIndex);
  const lineEnd = endOfLine(file, binding.endIndex);
  const after = file.text.slice(binding.endIndex, lineEnd);
  if (before.trim() === '' && after.trim() === '') {
    const next = file.text.indexOf('\n', binding.endIndex);
    const end = next < 0 ? file.text.length : next + 1;
    // An empty line that set the binding off goes with it when nothing follows before the set closes (or another
    // empty line follows): no empty line is left before a `}`, nor two in a row.
    const line = file.lines.position(binding.startIndex).line;
    const previous = line > 0 ? file.text.slice(file.lines.lineStart(line - 1), lineStart) : undefined;
    const following = file.text.slice(end, file.text.indexOf('\n', end) < 0 ? file.text.length : file.text.indexOf('\n', end)).trim();
    if (previous !== undefined && previous.trim() === '' && line > 1 && (following === '' || following.startsWith('}'))) return edit(file, file.lines.lineStart(line - 1), end, '');
    return edit(file, lineStart, end, '');
  }
  return edit(file, binding.startIndex, binding.endIndex + (after.startsWith(' ') ? 1 : 0), '');
}

/** The innermost node of a type that contains an offset range. */
export function enclosing(file: SourceFile, start: number, end: number, types: string[]): SyntaxNode | undefined {
  let node = file.root?.descendantForIndex(start, Math.max(start, end - 1)) ?? null;
  while (node && !types.includes(node.type)) node = node.parent;
  return node ?? undefined;
}

/** The names the module function takes (`config`, `lib`, `pkgs`, …) and whether it has `...`. */
export function moduleArguments(file: SourceFile): { names: string[]; ellipsis: boolean; formals?: SyntaxNode } {
  const fn = moduleFunction(file);
  const formals = fn?.childForFieldName('formals');
  if (!formals) return { names: [], ellipsis: false };
  const names = formals
    .childrenForFieldName('formal')
    .map((formal) => formal?.childForFieldName('name'))
    .filter((name): name is SyntaxNode => !!name && !name.isMissing)
    .map((name) => name.text);
  return { names, ellipsis: formals.childForFieldName('ellipses') !== null, formals };
}

/** Adds an argument to the module function's formals (`{ lib, ... }:` → `{ config, lib, ... }:`). */
export function addModuleArgument(file: SourceFile, name: string): TextEdit | undefined {
  const { names, formals } = moduleArguments(file);
  if (!formals || names.includes(name)) return undefined;
  const first = formals.childrenForFieldName('formal').find((formal) => formal !== null) ?? formals.childForFieldName('ellipses');
  if (!first) return edit(file, formals.startIndex + 1, formals.startIndex + 1, ` ${name} `);
  const multiLine = file.slice(formals.startIndex, formals.endIndex).includes('\n');
  if (multiLine) return edit(file, first.startIndex, first.startIndex, `${name},${newline(file)}${indentationAt(file, first.startIndex)}`);
  return edit(file, first.startIndex, first.startIndex, `${name}, `);
}
