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
}

/** Finds where `path` lives (or would live) in an attribute set, following nested and dotted bindings alike. */
export function locate(attrset: SyntaxNode, path: string[]): Located {
  for (const binding of bindingsOf(attrset)) {
    const names = bindingPath(binding);
    if (!names || names.length > path.length || !names.every((name, index) => name === path[index])) continue;
    if (names.length === path.length) return { binding, container: attrset, rest: [], siblings: [] };
    const value = unwrap(binding.childForFieldName('expression'));
    if (value?.type === 'attrset_expression') return locate(value, path.slice(names.length));
  }
  const siblings = bindingsOf(attrset).filter((binding) => bindingPath(binding)?.[0] === path[0]);
  return { container: attrset, rest: path, siblings };
}

/**
 * Inserts `path = value;` into an attribute set as its own line(s), after the bindings that share its first name
 * (or after the last binding), indented like its neighbours. `value` may span lines; they are indented to match.
 */
export function insertBinding(file: SourceFile, attrset: SyntaxNode, path: string[], value: string, comment?: string): TextEdit {
  const bindings = bindingsOf(attrset);
  const eol = newline(file);
  const siblings = bindings.filter((binding) => bindingPath(binding)?.[0] === path[0]);
  const anchor = siblings[siblings.length - 1] ?? bindings[bindings.length - 1];
  const suffix = comment ? ` # ${comment}` : '';
  const multiLine = file.text.slice(attrset.startIndex, attrset.endIndex).includes('\n');
  if (anchor && multiLine) {
    const indentation = indentationAt(file, anchor.startIndex);
    const text = `${eol}${indentation}${attrPath(path)} = ${reindent(value, indentation, eol)};${suffix}`;
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

/** Adds a string to a list literal, in the list's own layout (one line, or one item per line). */
export function appendToList(file: SourceFile, list: SyntaxNode, item: string): TextEdit {
  const elements = list.childrenForFieldName('element').filter((child): child is SyntaxNode => child !== null);
  const eol = newline(file);
  const text = file.slice(list.startIndex, list.endIndex);
  if (elements.length === 0) return edit(file, list.startIndex, list.endIndex, `[ ${item} ]`);
  const last = elements[elements.length - 1];
  if (text.includes('\n')) {
    const indentation = indentationAt(file, last.startIndex);
    return edit(file, last.endIndex, last.endIndex, `${eol}${indentation}${item}`);
  }
  return edit(file, last.endIndex, last.endIndex, ` ${item}`);
}

/** Removes a whole binding, with its line when it stands alone on it (and a comment line right above it stays). */
export function removeBinding(file: SourceFile, binding: SyntaxNode): TextEdit {
  const lineStart = file.lines.lineStart(file.lines.position(binding.startIndex).line);
  const before = file.text.slice(lineStart, binding.startIndex);
  const lineEnd = endOfLine(file, binding.endIndex);
  const after = file.text.slice(binding.endIndex, lineEnd);
  if (before.trim() === '' && after.trim() === '') {
    const next = file.text.indexOf('\n', binding.endIndex);
    return edit(file, lineStart, next < 0 ? file.text.length : next + 1, '');
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
