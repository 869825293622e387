/**
 * Turns tree-sitter ERROR and MISSING nodes into one message per error region, saying what was expected where it
 * can: the `;` a binding lacks (placed where it belongs, not where the parser noticed), the bracket or string that is
 * never closed (the indentation tells which one when the parser paired the brackets wrongly), a binding typed
 * half-way, a missing `,` between formals or `else` after `then`.
 *
 * tree-sitter-nix 0.0.2 rejects a trailing comma in formals (`{ a, b, }:`, also with a comment before the `}`), which
 * Nix accepts and nixfmt writes on every module header without `...`; that shape is not an error and is skipped here
 * (DESIGN.md, "Grammar").
 */
import type { SyntaxNode, SourceFile } from './parser';
import { lineContaining, newlineStarts } from './line-starts';

export interface SyntaxProblem {
  start: number;
  end: number;
  message: string;
}

const TOKEN_NAMES: Record<string, string> = {
  identifier: 'a name',
  ';': '`;`',
  '}': '`}`',
  ']': '`]`',
  ')': '`)`',
  '=': '`=`',
  ':': '`:`',
  '"': 'a closing `"`',
  "''": "a closing `''`",
  in: '`in`',
  then: '`then`',
  else: '`else`',
};

const OPENERS: Record<string, string> = { '{': '}', '[': ']', '(': ')', '${': '}' };
const CLOSERS = new Set(['}', ']', ')']);

/**
 * True for what 0.0.2 makes of a trailing comma in formals: a MISSING name after it (`{ a, b, }:`), or, with a single
 * formal (`{ pkgs, }:`), an ERROR node holding just the comma.
 */
export function isTrailingFormalsComma(node: SyntaxNode): boolean {
  // Comments may sit between the comma and the brace (`pkgs, # the package set` on the last line, nixfmt style).
  if (node.isError && node.parent?.type === 'formals' && node.text.trim() === ',') {
    const next = nextCode(node);
    return next === null || next.type === '}';
  }
  if (!node.isMissing || node.type !== 'identifier') return false;
  const formal = node.parent;
  if (!formal || formal.type !== 'formal' || formal.parent?.type !== 'formals') return false;
  const next = nextCode(formal);
  const previous = previousCode(formal);
  return previous?.type === ',' && (next === null || next.type === '}');
}

/** The next sibling that is not a comment. */
function nextCode(node: SyntaxNode): SyntaxNode | null {
  let next = node.nextSibling;
  while (next && next.type === 'comment') next = next.nextSibling;
  return next;
}

function firstLeaf(node: SyntaxNode): SyntaxNode {
  let current = node;
  while (current.childCount > 0) {
    const child = current.child(0);
    if (!child) break;
    current = child;
  }
  return current;
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}

/** Line starts and the length without trailing blanks of the last text asked about (one file is described at a time). */
let textInfoCache: { text: string; starts: number[]; contentEnd: number } | undefined;

function textInfo(text: string): { starts: number[]; contentEnd: number } {
  if (textInfoCache?.text !== text) {
    textInfoCache = { text, starts: newlineStarts(text), contentEnd: text.trimEnd().length };
  }
  return textInfoCache;
}

/** The 1-based line of an offset. */
function lineOf(text: string, offset: number): number {
  return lineContaining(textInfo(text).starts, offset) + 1;
}

/** True when only blanks follow `offset`. */
function atEnd(text: string, offset: number): boolean {
  return offset >= textInfo(text).contentEnd;
}

/** The offset of the first non-blank character of each line asked about, by line start, for the last text asked about. */
let firstCodeCache: { text: string; byLineStart: Map<number, number> } | undefined;

/** The offset of the first character at or after `lineStart` that is not a blank (space, tab, CR), or the line's end. */
function firstCodeOffset(text: string, lineStart: number): number {
  if (firstCodeCache?.text !== text) firstCodeCache = { text, byLineStart: new Map() };
  let found = firstCodeCache.byLineStart.get(lineStart);
  if (found === undefined) {
    found = lineStart;
    while (found < text.length && isBlank(text.charCodeAt(found))) found++;
    firstCodeCache.byLineStart.set(lineStart, found);
  }
  return found;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 11 || code === 12 || code === 0xa0 || code === 0xfeff;
}

/**
 * The indentation of the line holding `offset`, and whether only blanks precede `offset` on that line. Read from the
 * line's start and its first non-blank character (cached per line), never by slicing the line: the bracket pairs of
 * one very long line would otherwise each cost the whole line.
 */
function lineIndent(text: string, offset: number): { indent: number; first: boolean } {
  const { starts } = textInfo(text);
  const start = starts[lineOf(text, offset) - 1];
  const firstCode = firstCodeOffset(text, start);
  if (offset <= firstCode) return { indent: offset - start, first: true };
  return { indent: firstCode - start, first: false };
}

interface Bracket {
  token: string;
  offset: number;
}

/**
 * Pairs the brackets of a whole file the way Nix reads them — skipping comments and the text of `"…"` and `''…''`
 * strings, but not their `${…}` — and returns the pairs in closing order and what is still open at the end.
 */
let scanCache: { text: string; result: ReturnType<typeof scanText> } | undefined;

export function scanBrackets(text: string): { pairs: { opener: Bracket; closer: number }[]; unclosed: Bracket[] } {
  if (scanCache?.text !== text) scanCache = { text, result: scanText(text) };
  return scanCache.result;
}

function scanText(text: string): { pairs: { opener: Bracket; closer: number }[]; unclosed: Bracket[] } {
  type Frame = Bracket & { kind: 'bracket' | 'string' | 'indented' };
  const stack: Frame[] = [];
  const pairs: { opener: Bracket; closer: number }[] = [];
  const at = (index: number) => text.charCodeAt(index);
  // Char codes: " # $ ' ( ) * / [ \ ] { }
  const QUOTE = 34, HASH = 35, DOLLAR = 36, APOSTROPHE = 39, STAR = 42, SLASH = 47, BACKSLASH = 92, LBRACE = 123;
  const interpolation = (index: number) => at(index) === DOLLAR && at(index + 1) === LBRACE;
  const twoQuotes = (index: number) => at(index) === APOSTROPHE && at(index + 1) === APOSTROPHE;
  let i = 0;
  while (i < text.length) {
    const top = stack[stack.length - 1];
    const mode = top && top.kind !== 'bracket' ? top.kind : 'code';
    const code = at(i);
    if (mode === 'string') {
      if (code === BACKSLASH) i += 2;
      else if (code === QUOTE) {
        stack.pop();
        i++;
      } else if (interpolation(i)) {
        stack.push({ kind: 'bracket', token: '${', offset: i });
        i += 2;
      } else i++;
      continue;
    }
    if (mode === 'indented') {
      if (twoQuotes(i)) {
        const next = at(i + 2);
        if (next === APOSTROPHE || next === DOLLAR) i += 3;
        else if (next === BACKSLASH) i += 4;
        else {
          stack.pop();
          i += 2;
        }
      } else if (interpolation(i)) {
        stack.push({ kind: 'bracket', token: '${', offset: i });
        i += 2;
      } else i++;
      continue;
    }
    if (code === HASH) {
      const newline = text.indexOf('\n', i);
      i = newline < 0 ? text.length : newline;
    } else if (code === SLASH && at(i + 1) === STAR) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (code === QUOTE) {
      stack.push({ kind: 'string', token: '"', offset: i });
      i++;
    } else if (twoQuotes(i)) {
      stack.push({ kind: 'indented', token: "''", offset: i });
      i += 2;
    } else if (interpolation(i)) {
      stack.push({ kind: 'bracket', token: '${', offset: i });
      i += 2;
    } else {
      const char = text[i];
      if (char === '{' || char === '[' || char === '(') stack.push({ kind: 'bracket', token: char, offset: i });
      else if ((char === '}' || char === ']' || char === ')') && top && top.kind === 'bracket' && OPENERS[top.token] === char) {
        stack.pop();
        pairs.push({ opener: { token: top.token, offset: top.offset }, closer: i });
      }
      i++;
    }
  }
  return { pairs, unclosed: stack.map(({ token, offset }) => ({ token, offset })) };
}

let unclosedCache: { text: string; result: SyntaxProblem | undefined } | undefined;

/**
 * The bracket or string left open at the end of the file (see `findUnclosedAtEnd`), computed once per text: every
 * MISSING closer at the end of a file asks, and a file of n unclosed brackets has n of them.
 */
function unclosedAtEnd(text: string): SyntaxProblem | undefined {
  if (unclosedCache?.text !== text) unclosedCache = { text, result: findUnclosedAtEnd(text) };
  return unclosedCache.result && { ...unclosedCache.result };
}

/**
 * The bracket or string left open at the end of the file. When the parser paired a `}` with the wrong `{`, the
 * indentation tells which one lacks its partner: the first pair (in closing order) whose closer, first on its line,
 * is less indented than the line of its opener closes an outer block, so its opener is the one never closed.
 */
function findUnclosedAtEnd(text: string): SyntaxProblem | undefined {
  const { pairs, unclosed } = scanBrackets(text);
  if (unclosed.length === 0) return undefined;
  let culprit = unclosed[unclosed.length - 1];
  if (culprit.token === '"' || culprit.token === "''") {
    const close = culprit.token === '"' ? '`"`' : "`''`";
    return {
      start: culprit.offset,
      end: culprit.offset + culprit.token.length,
      message: `syntax error: this string is never closed: expected a closing ${close}`,
    };
  }
  const outer = unclosed[0];
  for (const pair of pairs) {
    if (pair.opener.offset < outer.offset || lineOf(text, pair.opener.offset) === lineOf(text, pair.closer)) continue;
    const opener = lineIndent(text, pair.opener.offset);
    const closer = lineIndent(text, pair.closer);
    if (closer.first && closer.indent < opener.indent) {
      culprit = pair.opener;
      break;
    }
  }
  return {
    start: culprit.offset,
    end: culprit.offset + culprit.token.length,
    message: `syntax error: this \`${culprit.token}\` is never closed: expected a matching \`${OPENERS[culprit.token]}\``,
  };
}

/** The previous sibling that is not a comment. */
function previousCode(node: SyntaxNode): SyntaxNode | null {
  let previous = node.previousSibling;
  while (previous && previous.type === 'comment') previous = previous.previousSibling;
  return previous;
}

/**
 * A binding that lacks its `;`: the parser then reads the next binding's name as an argument of the value
 * (`hostId = "8425e349"⏎ boot.x = …` is `"8425e349" boot.x`) and fails at its `=`, or fails at an `inherit`/`in`
 * that follows. Returns where the `;` belongs — or, for `x = ⏎ y = …;`, that the first binding has no value.
 */
function missingSemicolon(error: SyntaxNode): SyntaxProblem | undefined {
  const token = firstLeaf(error).text;
  const previous = previousCode(error);
  if (!previous) return undefined;
  if (token === 'inherit' || token === 'in') {
    return { start: previous.endIndex, end: previous.endIndex, message: `syntax error: expected \`;\` here, to end the binding before \`${token}\`` };
  }
  if (token !== '=' || error.parent?.type !== 'apply_expression') return undefined;
  if (previous.type === 'apply_expression') {
    // `value nextName` ERROR(=) …: the `;` belongs after the value, before the name it swallowed.
    const value = previous.childForFieldName('function');
    if (!value) return undefined;
    return { start: value.endIndex, end: value.endIndex, message: 'syntax error: expected `;` here, to end the binding before the next one' };
  }
  // `name = ⏎ next = …`: the first binding has no value; the next binding's name was read as its value.
  const binding = error.parent.parent;
  if (binding?.type !== 'binding') return undefined;
  const equals = binding.children.find((child) => child?.type === '=');
  const name = binding.childForFieldName('attrpath')?.text;
  if (!equals || !name) return undefined;
  return { start: equals.endIndex, end: equals.endIndex, message: `syntax error: \`${shorten(name)} =\` has no value: expected a value and \`;\` here` };
}

/** A binding typed half-way, alone in its error region: `boot.initrd.`, `networking.hostName`, `networking.hostName =`. */
function halfTypedBinding(error: SyntaxNode, text: string): SyntaxProblem | undefined {
  const region = text.slice(error.startIndex, error.endIndex);
  const written = region.replace(/#[^\n]*/g, '').trim();
  const name = /^([A-Za-z_][\w'-]*|"[^"\n]*")(\s*\.\s*([A-Za-z_][\w'-]*|"[^"\n]*"))*/.exec(written);
  if (!name) return undefined;
  const rest = written.slice(name[0].length).trim();
  if (rest !== '' && rest !== '.' && rest !== '=') return undefined;
  const start = error.startIndex + region.indexOf(written);
  const shown = shorten(written);
  const message =
    rest === '.'
      ? `syntax error: \`${shown}\` is incomplete: expected an attribute name after the \`.\`, then \`= value;\``
      : rest === '='
        ? `syntax error: \`${shown}\` has no value: expected a value and \`;\``
        : `syntax error: \`${shown}\` is incomplete: expected \`= value;\``;
  return { start, end: start + written.length, message };
}

/** The ERROR nodes below `node` (not inside each other), in order, at most `limit`. */
function innerErrors(node: SyntaxNode, limit = 50): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const cursor = node.walk();
  let more = cursor.gotoFirstChild();
  while (more && found.length < limit) {
    const current = cursor.currentNode;
    if (current.isError) found.push(current);
    if (!current.isError && current.hasError && cursor.gotoFirstChild()) continue;
    more = false;
    for (;;) {
      if (cursor.gotoNextSibling()) {
        more = true;
        break;
      }
      if (!cursor.gotoParent() || cursor.currentNode === node) break;
    }
  }
  cursor.delete();
  return found;
}

/** `{ pkgs lib, ... }:` / `{ pkgs ... }:`: formals without the `,` between them. */
function missingFormalsComma(error: SyntaxNode): SyntaxProblem | undefined {
  if (error.parent?.type !== 'formals') return undefined;
  const previous = previousCode(error);
  if (previous?.type !== 'formal') return undefined;
  return { start: previous.endIndex, end: previous.endIndex, message: "syntax error: expected `,` here, between the function's arguments" };
}

/** `x = if c then a;`: an `if` without its `else`. */
function missingElse(error: SyntaxNode): SyntaxProblem | undefined {
  const children = error.children.filter((child): child is SyntaxNode => child !== null && child.type !== 'comment');
  const tokens = children.map((child) => child.type);
  if (!tokens.includes('if') || !tokens.includes('then') || tokens.includes('else')) return undefined;
  const last = [...children].reverse().find((child) => child.type !== ';');
  const at = last?.endIndex ?? error.endIndex;
  return { start: at, end: at, message: 'syntax error: expected `else` here: `if … then …` needs an `else` branch' };
}

function describeError(node: SyntaxNode, text: string): SyntaxProblem[] {
  const semicolon = missingSemicolon(node) ?? missingFormalsComma(node) ?? missingElse(node);
  if (semicolon) return [semicolon];
  // A large error region (a whole `let`, a whole file) often holds the real culprit deeper down.
  const inner = innerErrors(node)
    .map((error) => missingSemicolon(error))
    .filter((problem): problem is SyntaxProblem => problem !== undefined);
  if (inner.length > 0) return inner;
  const unclosed = atEnd(text, node.endIndex) ? unclosedAtEnd(text) : undefined;
  if (unclosed) return [unclosed];
  const half = halfTypedBinding(node, text);
  if (half) return [half];
  const leaf = firstLeaf(node);
  const token = shorten(text.slice(leaf.startIndex, leaf.endIndex));
  return [{ start: leaf.startIndex, end: Math.max(leaf.endIndex, leaf.startIndex), message: token ? `syntax error: unexpected \`${token}\`` : 'syntax error: unexpected input' }];
}

function describeMissing(node: SyntaxNode, text: string): SyntaxProblem {
  if (CLOSERS.has(node.type)) {
    // A bracket missing at the very end of the file: say which opener is never closed, where it is written.
    const unclosed = atEnd(text, node.startIndex) ? unclosedAtEnd(text) : undefined;
    if (unclosed) return unclosed;
    const opener = node.parent?.child(0);
    if (opener && OPENERS[opener.type] === node.type) {
      return { start: node.startIndex, end: node.endIndex, message: `syntax error: expected \`${node.type}\` here, to close the \`${opener.type}\` on line ${lineOf(text, opener.startIndex)}` };
    }
  }
  if (node.type === ';') return { start: node.startIndex, end: node.endIndex, message: 'syntax error: expected `;` here, to end the binding' };
  if (node.type === 'identifier' && node.parent?.type === 'variable_expression') {
    return { start: node.startIndex, end: node.endIndex, message: 'syntax error: expected a value here' };
  }
  const expected = TOKEN_NAMES[node.type] ?? `\`${node.type}\``;
  return { start: node.startIndex, end: node.endIndex, message: `syntax error: expected ${expected} here` };
}

/** A `"…` or `''…` string that runs to the end of the file, if the file has one. */
function unclosedString(text: string): SyntaxProblem | undefined {
  const { unclosed } = scanBrackets(text);
  const last = unclosed[unclosed.length - 1];
  if (!last || (last.token !== '"' && last.token !== "''")) return undefined;
  const close = last.token === '"' ? '`"`' : "`''`";
  return { start: last.offset, end: last.offset + last.token.length, message: `syntax error: this string is never closed: expected a closing ${close}` };
}

const computed = new WeakMap<SourceFile, SyntaxProblem[]>();

/** The syntax problems of a file (computed once per parse: the tree of a SourceFile never changes). */
export function syntaxProblems(file: SourceFile, limit = 100): SyntaxProblem[] {
  let problems = computed.get(file);
  if (!problems) {
    problems = findProblems(file, 100);
    computed.set(file, problems);
  }
  return problems.length > limit ? problems.slice(0, limit) : problems;
}

function findProblems(file: SourceFile, limit: number): SyntaxProblem[] {
  const root = file.root;
  if (!root || !root.hasError) return [];
  const problems: SyntaxProblem[] = [];
  const seen = new Set<string>();
  // An unterminated string swallows the rest of the file: report it once, and nothing the parser made of what follows.
  const openString = unclosedString(file.text);
  let cutoff = Number.POSITIVE_INFINITY;
  const add = (problem: SyntaxProblem) => {
    const key = `${problem.start}:${problem.end}`;
    if (seen.has(key) || problem.start > cutoff) return;
    seen.add(key);
    problems.push(problem);
  };
  const cursor = root.walk();
  let visitChildren = true;
  // An explicit cursor walk: deep nesting in hostile input must not overflow the JS stack.
  for (;;) {
    const node = cursor.currentNode;
    visitChildren = true;
    if (node.isMissing) {
      visitChildren = false;
      if (!isTrailingFormalsComma(node)) add(describeMissing(node, file.text));
    } else if (node.isError && isTrailingFormalsComma(node)) {
      visitChildren = false;
    } else if (node.isError) {
      visitChildren = false;
      if (openString && openString.start >= node.startIndex && openString.start < Math.max(node.endIndex, node.startIndex + 1)) {
        add(openString);
        cutoff = openString.start;
      } else for (const problem of describeError(node, file.text)) add(problem);
    } else if (!node.hasError) {
      visitChildren = false;
    }
    if (problems.length >= limit) break;
    if (visitChildren && cursor.gotoFirstChild()) continue;
    let advanced = false;
    while (!advanced) {
      if (cursor.gotoNextSibling()) advanced = true;
      else if (!cursor.gotoParent()) {
        cursor.delete();
        return problems;
      }
    }
  }
  cursor.delete();
  return problems;
}
