/**
 * Semantic tokens for Nix from the tree-sitter tree, so that Nix files are highlighted even when no other extension
 * contributes a Nix grammar (the VS Code client asks for them only then, so they never paint over nix-ide's colours).
 * Keywords, comments, strings, numbers, paths, operators, attribute names, function parameters and called functions
 * come from the node types of tree-sitter-nix; a token that spans lines is cut at each line end, since clients need
 * not support multi-line tokens.
 */
import type { SemanticTokensLegend } from 'vscode-languageserver';
import type { SourceFile, SyntaxNode } from '../syntax/parser';

export const TOKEN_TYPES = ['keyword', 'comment', 'string', 'number', 'operator', 'property', 'parameter', 'function', 'variable'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export const SEMANTIC_TOKENS_LEGEND: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [] };

const KEYWORDS = new Set(['let', 'in', 'rec', 'with', 'inherit', 'if', 'then', 'else', 'assert', 'or']);
const OPERATORS = new Set(['+', '-', '*', '/', '++', '//', '==', '!=', '<', '>', '<=', '>=', '&&', '||', '->', '!', '?', '=', '@', '...']);
const LITERALS = new Set(['true', 'false', 'null']);

/** The token type of a node that is coloured as a whole (its children are not looked at), if any. */
function wholeNodeType(node: SyntaxNode): TokenType | undefined {
  switch (node.type) {
    case 'comment':
      return 'comment';
    case 'integer_expression':
    case 'float_expression':
      return 'number';
    case 'path_expression':
    case 'hpath_expression':
    case 'spath_expression':
    case 'uri_expression':
      return 'string';
    default:
      return undefined;
  }
}

/** The token type of a leaf node (keyword, operator, string piece, identifier by its role), if any. */
function leafType(node: SyntaxNode): TokenType | undefined {
  if (!node.isNamed) {
    if (KEYWORDS.has(node.type)) return 'keyword';
    if (OPERATORS.has(node.type)) return 'operator';
    if (node.type === '"' || node.type === "''") return 'string';
    return undefined;
  }
  if (node.type === 'string_fragment' || node.type === 'escape_sequence' || node.type === 'dollar_escape') return 'string';
  if (node.type !== 'identifier') return undefined;
  const parent = node.parent;
  switch (parent?.type) {
    case 'attrpath':
    case 'inherited_attrs':
      return 'property';
    case 'formal':
      return 'parameter';
    case 'function_expression':
      return 'parameter';
    case 'variable_expression': {
      if (LITERALS.has(node.text)) return 'keyword';
      const grand = parent.parent;
      if (grand?.type === 'apply_expression' && grand.childForFieldName('function') === parent) return 'function';
      return 'variable';
    }
    default:
      return undefined;
  }
}

/**
 * The semantic tokens of a file, encoded as LSP expects (relative line, relative start, length, type index,
 * modifiers), in document order. Empty for a file without a tree (binary, too large).
 */
export function semanticTokensFor(source: SourceFile): number[] {
  const root = source.root;
  if (!root) return [];
  const spans: { start: number; end: number; type: TokenType }[] = [];
  const stack: SyntaxNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.isMissing || node.endIndex <= node.startIndex) continue;
    const whole = wholeNodeType(node);
    if (whole) {
      spans.push({ start: node.startIndex, end: node.endIndex, type: whole });
      continue;
    }
    const children = node.children;
    if (children.length === 0) {
      const type = leafType(node);
      if (type) spans.push({ start: node.startIndex, end: node.endIndex, type });
      continue;
    }
    for (let index = children.length - 1; index >= 0; index--) stack.push(children[index]);
  }
  spans.sort((a, b) => a.start - b.start);

  const data: number[] = [];
  let previousLine = 0;
  let previousCharacter = 0;
  const push = (line: number, character: number, length: number, type: TokenType) => {
    if (length <= 0) return;
    data.push(line - previousLine, line === previousLine ? character - previousCharacter : character, length, TOKEN_TYPES.indexOf(type), 0);
    previousLine = line;
    previousCharacter = character;
  };
  let covered = 0;
  for (const span of spans) {
    // Overlaps cannot be encoded; the first span to reach a place keeps it.
    const start = Math.max(span.start, covered);
    if (start >= span.end) continue;
    covered = span.end;
    const from = source.lines.position(start);
    const pieces = source.text.slice(start, span.end).split('\n');
    for (const [index, piece] of pieces.entries()) push(from.line + index, index === 0 ? from.character : 0, piece.replace(/\r$/, '').length, span.type);
  }
  return data;
}
