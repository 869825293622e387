/**
 * String values: building them from tree-sitter string nodes (escapes, interpolation, the indentation stripping of
 * `''…''` strings) while keeping, for every literal piece, where it is written. Findings inside scripts (a rollback
 * target, a `zfs snapshot` in a hook) point at the exact characters thanks to that mapping.
 */
import type { SyntaxNode } from '../syntax/parser';
import type { Origin, StringPiece, StringValue, Value } from './values';
import { symbolStandIn, unknown } from './values';

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

function unescape(raw: string, indented: boolean): string {
  if (indented) {
    if (raw === "'''") return "''";
    if (raw.startsWith("''\\")) {
      const char = raw.slice(3);
      return DOUBLE_QUOTED_ESCAPES[char] ?? char;
    }
    if (raw === "''$") return '$';
    return raw;
  }
  if (raw.startsWith('\\')) {
    const char = raw.slice(1);
    return DOUBLE_QUOTED_ESCAPES[char] ?? char;
  }
  return raw;
}

/** Appends the string form of an interpolated value, as Nix's `${…}` would produce it. */
export function interpolationPieces(value: Value, origin: Origin | undefined): StringPiece[] {
  switch (value.kind) {
    case 'string':
      return value.pieces;
    case 'path':
      // A path interpolated into a string is copied to the store; its file name is what scripts see.
      return [{ text: value.path, origin: undefined }];
    case 'symbol':
      return [{ text: symbolStandIn(value.path), symbol: value.path, written: origin }];
    case 'attrs': {
      const outPath = value.entries.get('outPath');
      if (outPath) return interpolationPieces(outPath.thunk.force(), origin);
      return [{ text: '', unknown: unknown('an attribute set without outPath interpolated into a string', origin) }];
    }
    case 'unknown':
      return [{ text: '', unknown: value }];
    default:
      return [{ text: '', unknown: unknown(`cannot interpolate ${value.kind} into a string`, origin) }];
  }
}

type Segment =
  | { kind: 'literal'; text: string; start: number | undefined; file: string }
  | { kind: 'value'; pieces: StringPiece[] };

/**
 * Builds a string value from a `string_expression` or `indented_string_expression` node.
 * `evaluate` computes interpolated expressions in the right scope.
 */
export function buildString(
  node: SyntaxNode,
  file: string,
  evaluate: (expression: SyntaxNode) => Value,
): StringValue {
  const indented = node.type === 'indented_string_expression';
  const segments: Segment[] = [];
  for (const child of node.namedChildren) {
    if (!child) continue;
    switch (child.type) {
      case 'string_fragment':
        segments.push({ kind: 'literal', text: child.text, start: child.startIndex, file });
        break;
      case 'escape_sequence':
        segments.push({ kind: 'literal', text: unescape(child.text, indented), start: undefined, file });
        break;
      case 'dollar_escape':
        break;
      case 'interpolation': {
        const expression = child.childForFieldName('expression');
        const origin = { file, start: child.startIndex, end: child.endIndex };
        const value = expression ? evaluate(expression) : unknown('empty interpolation', origin);
        segments.push({ kind: 'value', pieces: interpolationPieces(value, origin) });
        break;
      }
      default:
        break;
    }
  }
  const origin = { file, start: node.startIndex, end: node.endIndex };
  const pieces = indented ? stripIndentation(segments) : segments.flatMap(toPieces);
  return { kind: 'string', pieces: mergeAdjacent(pieces), origin };
}

function toPieces(segment: Segment): StringPiece[] {
  if (segment.kind === 'value') return segment.pieces;
  return [literalPiece(segment.text, segment.start, segment.file)];
}

function literalPiece(text: string, start: number | undefined, file: string): StringPiece {
  return start === undefined ? { text } : { text, origin: { file, start, end: start + text.length } };
}

/**
 * Nix's indentation stripping for `''…''`: the smallest indentation of the lines that hold something other than
 * spaces is removed from every line, a first line of only spaces is dropped, and so is the trailing run of spaces
 * on the last line.
 */
function stripIndentation(segments: Segment[]): StringPiece[] {
  let minIndent = Number.POSITIVE_INFINITY;
  let atLineStart = true;
  let indent = 0;
  for (const segment of segments) {
    if (segment.kind === 'value') {
      if (atLineStart) {
        minIndent = Math.min(minIndent, indent);
        atLineStart = false;
      }
      continue;
    }
    for (const char of segment.text) {
      if (char === '\n') {
        atLineStart = true;
        indent = 0;
      } else if (atLineStart) {
        if (char === ' ') indent++;
        else {
          minIndent = Math.min(minIndent, indent);
          atLineStart = false;
        }
      }
    }
  }
  if (!Number.isFinite(minIndent)) minIndent = 0;

  const pieces: StringPiece[] = [];
  atLineStart = true;
  let toSkip = minIndent;
  for (const segment of segments) {
    if (segment.kind === 'value') {
      pieces.push(...segment.pieces);
      atLineStart = false;
      continue;
    }
    let chunkStart = 0;
    const text = segment.text;
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (atLineStart && char === ' ' && toSkip > 0) {
        if (i > chunkStart) pieces.push(slicePiece(segment, chunkStart, i));
        chunkStart = i + 1;
        toSkip--;
        continue;
      }
      if (char === '\n') {
        atLineStart = true;
        toSkip = minIndent;
      } else atLineStart = false;
    }
    if (chunkStart < text.length) pieces.push(slicePiece(segment, chunkStart, text.length));
  }
  dropLeadingBlankLine(pieces);
  dropTrailingSpaces(pieces);
  return pieces;
}

function slicePiece(segment: Extract<Segment, { kind: 'literal' }>, from: number, to: number): StringPiece {
  const text = segment.text.slice(from, to);
  return segment.start === undefined ? { text } : literalPiece(text, segment.start + from, segment.file);
}

function dropLeadingBlankLine(pieces: StringPiece[]): void {
  for (let index = 0; index < pieces.length; index++) {
    const piece = pieces[index];
    if (piece.unknown || piece.symbol) return;
    const newline = piece.text.indexOf('\n');
    const head = newline < 0 ? piece.text : piece.text.slice(0, newline);
    if (head.trim() !== '') return;
    if (newline >= 0) {
      for (let before = 0; before < index; before++) pieces[before] = { text: '' };
      pieces[index] = shiftPiece(piece, newline + 1);
      return;
    }
  }
}

function dropTrailingSpaces(pieces: StringPiece[]): void {
  for (let index = pieces.length - 1; index >= 0; index--) {
    const piece = pieces[index];
    if (piece.unknown || piece.symbol) return;
    const trimmed = piece.text.replace(/ +$/, '');
    if (trimmed.length < piece.text.length) pieces[index] = { ...piece, text: trimmed, origin: piece.origin && { ...piece.origin, end: piece.origin.start + trimmed.length } };
    if (trimmed.length > 0) return;
  }
}

function shiftPiece(piece: StringPiece, by: number): StringPiece {
  return {
    ...piece,
    text: piece.text.slice(by),
    origin: piece.origin && { ...piece.origin, start: piece.origin.start + by },
  };
}

function mergeAdjacent(pieces: StringPiece[]): StringPiece[] {
  const result: StringPiece[] = [];
  for (const piece of pieces) {
    if (piece.text === '' && !piece.unknown && !piece.symbol) continue;
    const last = result[result.length - 1];
    if (
      last &&
      !last.unknown &&
      !last.symbol &&
      !piece.unknown &&
      !piece.symbol &&
      last.origin &&
      piece.origin &&
      last.origin.file === piece.origin.file &&
      last.origin.end === piece.origin.start
    ) {
      result[result.length - 1] = { text: last.text + piece.text, origin: { ...last.origin, end: piece.origin.end } };
    } else result.push(piece);
  }
  return result;
}

/** Concatenates two string values piece by piece (Nix `+`). */
export function concatStrings(left: StringValue, right: StringValue, origin?: Origin): StringValue {
  return { kind: 'string', pieces: mergeAdjacent([...left.pieces, ...right.pieces]), origin };
}

/**
 * Maps a range of the string's text back to the source. Returns the origin only when the whole range lies in one
 * literal piece; otherwise the caller falls back to the string's own origin. Positions are those of `scriptText`,
 * where an unknown piece takes at least one character (its marker).
 */
export function originOfRange(value: StringValue, from: number, to: number): Origin | undefined {
  let position = 0;
  for (const piece of value.pieces) {
    const end = position + (piece.unknown || piece.symbol ? Math.max(1, piece.text.length) : piece.text.length);
    if (from >= position && to <= end && piece.origin && !piece.unknown && !piece.symbol) {
      return { file: piece.origin.file, start: piece.origin.start + (from - position), end: piece.origin.start + (to - position) };
    }
    position = end;
  }
  return undefined;
}
