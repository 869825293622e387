/**
 * Turns tree-sitter ERROR and MISSING nodes into one message per error region.
 *
 * tree-sitter-nix 0.0.2 rejects a trailing comma in formals (`{ a, b, }:`), which Nix accepts and nixfmt writes
 * on every module header; that one shape is not an error and is skipped here (DESIGN.md, "Grammar").
 */
import type { SyntaxNode, SourceFile } from './parser';

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

/**
 * True for what 0.0.2 makes of a trailing comma in formals: a MISSING name after it (`{ a, b, }:`), or, with a single
 * formal (`{ pkgs, }:`), an ERROR node holding just the comma.
 */
export function isTrailingFormalsComma(node: SyntaxNode): boolean {
  if (node.isError && node.parent?.type === 'formals' && node.text.trim() === ',') {
    const next = node.nextSibling;
    return next === null || next.type === '}';
  }
  if (!node.isMissing || node.type !== 'identifier') return false;
  const formal = node.parent;
  if (!formal || formal.type !== 'formal' || formal.parent?.type !== 'formals') return false;
  const next = formal.nextSibling;
  const previous = formal.previousSibling;
  return previous?.type === ',' && (next === null || next.type === '}');
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
  return oneLine.length > 24 ? `${oneLine.slice(0, 24)}…` : oneLine;
}

/** Which bracket opened in the error region is still open at its end, if any. */
function unclosedOpener(node: SyntaxNode, text: string): { token: string; offset: number } | undefined {
  const stack: { token: string; offset: number }[] = [];
  const source = text.slice(node.startIndex, node.endIndex);
  for (let i = 0; i < source.length; i++) {
    const two = source.slice(i, i + 2);
    const one = source[i];
    if (one === '#') {
      const newline = source.indexOf('\n', i);
      i = newline < 0 ? source.length : newline;
    } else if (two === '${') {
      stack.push({ token: '${', offset: node.startIndex + i });
      i++;
    } else if (one in OPENERS) stack.push({ token: one, offset: node.startIndex + i });
    else if (one === '}' || one === ']' || one === ')') {
      const top = stack[stack.length - 1];
      if (top && OPENERS[top.token] === one) stack.pop();
    }
  }
  return stack[0];
}

export function syntaxProblems(file: SourceFile, limit = 100): SyntaxProblem[] {
  const root = file.root;
  if (!root || !root.hasError) return [];
  const problems: SyntaxProblem[] = [];
  const cursor = root.walk();
  let visitChildren = true;
  // An explicit cursor walk: deep nesting in hostile input must not overflow the JS stack.
  for (;;) {
    const node = cursor.currentNode;
    visitChildren = true;
    if (node.isMissing) {
      visitChildren = false;
      if (!isTrailingFormalsComma(node)) {
        const expected = TOKEN_NAMES[node.type] ?? `\`${node.type}\``;
        problems.push({ start: node.startIndex, end: node.endIndex, message: `syntax error: expected ${expected} here` });
      }
    } else if (node.isError && isTrailingFormalsComma(node)) {
      visitChildren = false;
    } else if (node.isError) {
      visitChildren = false;
      const atEnd = node.endIndex >= file.text.trimEnd().length;
      const opener = atEnd ? unclosedOpener(node, file.text) : undefined;
      if (opener) {
        problems.push({
          start: opener.offset,
          end: opener.offset + opener.token.length,
          message: `syntax error: \`${opener.token}\` is never closed`,
        });
      } else {
        const leaf = firstLeaf(node);
        const token = shorten(file.slice(leaf.startIndex, leaf.endIndex));
        problems.push({
          start: leaf.startIndex,
          end: Math.max(leaf.endIndex, leaf.startIndex),
          message: token ? `syntax error: unexpected \`${token}\`` : 'syntax error: unexpected input',
        });
      }
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
