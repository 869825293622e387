/**
 * The syntax layer: web-tree-sitter with the committed `tree-sitter-nix.wasm`.
 *
 * Everything above this layer sees Nix source only as `SourceFile`s: the text, its tree and a line index.
 * Offsets are UTF-16 code units, which is what web-tree-sitter reports for string input and what LSP
 * positions use by default, so no conversion is ever needed between the two.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Edit, type Tree } from 'web-tree-sitter';
import { superlinearLexingWork } from './lexing-cost';
import { lineContaining } from './line-starts';
import { NodeTable, SyntaxNode } from './node';

export { SyntaxNode };
export type SyntaxTree = Tree;

let loaded: Promise<Language> | undefined;
let language: Language | undefined;

/** Finds a wasm file whether we run bundled (`dist/`), compiled (`out/server/src/syntax/`) or from a package. */
function findAsset(fileName: string, packageRelative: string[]): string {
  const candidates: string[] = [];
  let dir = __dirname;
  for (let depth = 0; depth < 6; depth++) {
    candidates.push(path.join(dir, fileName));
    for (const relative of packageRelative) candidates.push(path.join(dir, relative, fileName));
    dir = path.dirname(dir);
  }
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`cannot find ${fileName} (looked beside ${__dirname} and its parents)`);
  return found;
}

export function grammarWasmPath(): string {
  return findAsset('tree-sitter-nix.wasm', ['grammar']);
}

/** Loads the tree-sitter runtime and the Nix grammar once per process. */
export function initSyntax(): Promise<Language> {
  loaded ??= (async () => {
    const runtime = findAsset('tree-sitter.wasm', ['node_modules/web-tree-sitter']);
    await Parser.init({ locateFile: () => runtime });
    language = await Language.load(grammarWasmPath());
    return language;
  })();
  return loaded;
}

function requireLanguage(): Language {
  if (!language) throw new Error('initSyntax() must complete before parsing');
  return language;
}

let sharedParser: Parser | undefined;
function parser(): Parser {
  if (!sharedParser) {
    const created = new Parser();
    created.setLanguage(requireLanguage());
    sharedParser = created;
  }
  return sharedParser;
}

/** Parses a whole text. `oldTree`, already edited with `editTree`, makes the parse incremental. */
export function parseText(text: string, oldTree?: Tree): Tree {
  const tree = parser().parse(text, oldTree ?? null);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

export function languageOf(): Language {
  return requireLanguage();
}

/** A text change in UTF-16 offsets, as an editor reports it. */
export interface TextChange {
  start: number;
  end: number;
  text: string;
}

export class LineIndex {
  private readonly starts: number[];
  private readonly length: number;
  private readonly crlf: Set<number>;
  constructor(text: string) {
    this.length = text.length;
    this.crlf = new Set();
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10) starts.push(i + 1);
      else if (code === 13) {
        if (text.charCodeAt(i + 1) === 10) {
          i++;
          this.crlf.add(i + 1);
        }
        starts.push(i + 1);
      }
    }
    this.starts = starts;
  }
  /** The line starting at `start` follows a CRLF (the line before ends two characters earlier). */
  private crlfBefore(start: number): boolean {
    return this.crlf.has(start);
  }

  get lineCount(): number {
    return this.starts.length;
  }
  position(offset: number): { line: number; character: number } {
    const line = lineContaining(this.starts, offset);
    return { line, character: offset - this.starts[line] };
  }
  /** The offset of an LSP position; a character past the end of its line means the line's end (LSP semantics). */
  offset(position: { line: number; character: number }): number {
    const line = Math.max(0, Math.min(position.line, this.starts.length - 1));
    const next = line + 1 < this.starts.length ? this.starts[line + 1] : Number.POSITIVE_INFINITY;
    const end = Number.isFinite(next) ? next - 1 - (this.crlfBefore(next) ? 1 : 0) : this.length;
    return Math.min(this.starts[line] + Math.max(0, position.character), Math.max(this.starts[line], end));
  }
  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))];
  }
}

function pointAt(index: LineIndex, offset: number): { row: number; column: number } {
  const { line, character } = index.position(offset);
  return { row: line, column: character };
}

/** Why a file could not be read as Nix text, if it could not. */
export type UnreadableReason = 'binary' | 'too-large' | 'too-complex';

/** Why a file is not analysed, in words (for the finding on the file and the unknown value of an import of it). */
export function unreadableText(reason: UnreadableReason): string {
  switch (reason) {
    case 'binary':
      return 'it is binary (it contains NUL characters), not Nix';
    case 'too-complex':
      return 'it holds a run of operators and names so long that parsing it would take minutes';
    default:
      return 'it is too large';
  }
}

/** One Nix file: its text, its tree and a line index. Immutable; edits produce a new `SourceFile`. */
export class SourceFile {
  readonly lines: LineIndex;
  private readonly nodes: NodeTable;
  private rootNode: SyntaxNode | undefined;
  constructor(
    readonly path: string,
    readonly text: string,
    readonly tree: Tree | undefined,
    readonly unreadable?: UnreadableReason,
  ) {
    this.lines = new LineIndex(text);
    this.nodes = new NodeTable(text);
  }

  /** The root node; node objects are made once per parse and kept with the file. */
  get root(): SyntaxNode | undefined {
    if (!this.tree) return undefined;
    this.rootNode ??= this.nodes.root(this.tree.rootNode);
    return this.rootNode;
  }

  /** The top-level expression of the file (the child of `source_code`), if it parsed to one. */
  get expression(): SyntaxNode | undefined {
    return this.root?.childForFieldName('expression') ?? undefined;
  }

  slice(start: number, end: number): string {
    return this.text.slice(start, end);
  }

  /**
   * Applies editor changes (in order) and re-parses incrementally, reusing the old tree. After a single change the new
   * parse copies the nodes the change left alone from this one (`Predecessor` in node.ts) instead of reading them from
   * wasm again; this parse lets go of its own predecessor, so that no chain of parses stays alive.
   */
  withChanges(changes: TextChange[]): SourceFile {
    // Changes that leave the text as it was (nothing replaced by nothing, a character typed over itself) keep this
    // parse: the same object tells the analysis that nothing changed, so every host that read the file is reused whole
    // instead of built again from a new parse of the same text.
    if (changes.every((change) => change.text === this.text.slice(change.start, change.end))) return this;
    if (!this.tree || this.unreadable) return SourceFile.fromText(this.path, applyChanges(this.text, changes));
    let text = this.text;
    const tree = this.tree.copy();
    for (const change of changes) {
      const before = new LineIndex(text);
      const next = text.slice(0, change.start) + change.text + text.slice(change.end);
      const after = new LineIndex(next);
      const edit: Edit = {
        startIndex: change.start,
        oldEndIndex: change.end,
        newEndIndex: change.start + change.text.length,
        startPosition: pointAt(before, change.start),
        oldEndPosition: pointAt(before, change.end),
        newEndPosition: pointAt(after, change.start + change.text.length),
      };
      tree.edit(edit);
      text = next;
    }
    if (isBinary(text) || isTooComplex(text)) {
      tree.delete();
      return new SourceFile(this.path, text, undefined, isBinary(text) ? 'binary' : 'too-complex');
    }
    const reparsed = parseText(text, tree);
    const next = new SourceFile(this.path, text, reparsed);
    const change = changes.length === 1 ? changes[0] : undefined;
    if (change && this.rootNode && this.nodes.alive) {
      // tree-sitter compares the edited old tree with the new one: the ranges it reports are where the structure changed.
      const dirty = tree.getChangedRanges(reparsed).map((range) => ({ start: range.startIndex, end: range.endIndex }));
      next.nodes.predecessor = { root: this.rootNode, dirty, editStart: change.start, insertedEnd: change.start + change.text.length, growth: change.text.length - (change.end - change.start) };
    }
    this.nodes.forgetPredecessor();
    tree.delete();
    return next;
  }

  /** How many nodes of this parse were made, and how many of them read their children from wasm (the rest copied them). */
  get nodeCounts(): { made: number; readFromWasm: number } {
    return { ...this.nodes.counts };
  }

  /**
   * Frees the wasm memory of the tree. Call when the file is replaced and nothing holds its nodes. A second call does
   * nothing: an edit that changed nothing hands back the same parse, which both sides may then free.
   */
  dispose(): void {
    if (!this.nodes.alive) return;
    this.nodes.alive = false;
    this.tree?.delete();
  }

  static fromText(filePath: string, text: string): SourceFile {
    if (isBinary(text)) return new SourceFile(filePath, text, undefined, 'binary');
    if (text.length > MAX_FILE_CHARS) return new SourceFile(filePath, text, undefined, 'too-large');
    if (isTooComplex(text)) return new SourceFile(filePath, text, undefined, 'too-complex');
    return new SourceFile(filePath, text, parseText(text));
  }
}

/** Files beyond this size are not parsed: a clear finding beats a frozen editor. */
export const MAX_FILE_CHARS = 20 * 1024 * 1024;

/**
 * Lexing work beyond linear (see `superlinearLexingWork`) past which a text is not parsed. Ordinary files score 0; a
 * run like `x.a.a.a…` scores about the square of its token count, and this limit (a run of some 5,500 tokens, about a
 * second of parsing) keeps a hostile file from holding the parser for minutes.
 */
export const MAX_SUPERLINEAR_LEXING_WORK = 30_000_000;

/** The text would keep tree-sitter-nix's lexer busy far beyond its length (a hostile run of path characters). */
export function isTooComplex(text: string): boolean {
  return superlinearLexingWork(text) > MAX_SUPERLINEAR_LEXING_WORK;
}

/** A NUL character never appears in Nix source; its presence means a binary file was handed to us. */
export function isBinary(text: string): boolean {
  return text.indexOf('\u0000') >= 0;
}

function applyChanges(text: string, changes: TextChange[]): string {
  for (const change of changes) text = text.slice(0, change.start) + change.text + text.slice(change.end);
  return text;
}
