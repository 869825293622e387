/**
 * Syntax nodes as plain JavaScript objects over web-tree-sitter's nodes.
 *
 * Every property read on a web-tree-sitter node crosses into wasm and allocates; the evaluator reads the same nodes
 * again on every analysis. A `SyntaxNode` reads a node's children (with their field names) once and keeps them, and
 * the nodes of a file live as long as its parse: re-analysing a host after an edit in another file touches no wasm
 * for the unchanged files. The API is the subset of web-tree-sitter's `Node` the project uses, with the same names.
 *
 * After an edit, the parse of the edited file is new, but most of it has the structure it had before: tree-sitter
 * reports the ranges whose structure changed, and outside those and the edited text a node is the node it was, moved
 * by the length the edit added or removed. Such a node copies its children from its counterpart in the previous parse
 * (`Predecessor`) instead of asking wasm for them, so an edit of one binding of a 20,000-line file reads only the path
 * to that binding through wasm. Every node is reached from its parent (the root aside), so a node is one object and
 * knows its parent without a table of node ids.
 *
 * A fresh parse (a file opened or read by the CLI) has nothing to copy from, and the analysis that asks for its root
 * reads nearly all of it: there the first read of a node's children builds its whole subtree in one TreeCursor walk
 * (`buildSubtree`), which costs a fraction of asking wasm node by node.
 */
import type { Node as RawNode, Point, TreeCursor } from 'web-tree-sitter';
import { lineContaining, newlineStarts } from './line-starts';

/** Node types whose children never carry a field name (tree-sitter-nix's node-types.json). */
const FIELDLESS = new Set(['attrset_expression', 'rec_attrset_expression', 'let_attrset_expression', 'string_expression', 'indented_string_expression', 'path_expression', 'hpath_expression']);

/**
 * The previous parse of a file edited once, and where the edit left its structure alone. Offsets are UTF-16 code
 * units of the new text; `dirty` holds the ranges tree-sitter reports as changed and the span of the inserted text.
 */
export interface Predecessor {
  root: SyntaxNode;
  dirty: { start: number; end: number }[];
  /** Where the edit began, the end of the inserted text, and how much longer the text became (negative: shorter). */
  editStart: number;
  insertedEnd: number;
  growth: number;
}

/** The nodes of one parse: its text, and the previous parse it may copy unchanged nodes from. */
export class NodeTable {
  /**
   * False once the tree is freed. A node read after that (a value kept from an older analysis, evaluated further by
   * a hover) reads as a leaf when its children were never read: nothing is read from freed memory.
   */
  alive = true;
  /** Set by the parse that made this one by an edit; dropped when this parse is edited in turn (two parses at most). */
  predecessor: Predecessor | undefined;
  /** Nodes made with a counterpart in the predecessor: each holds that parse alive until it copies its children. */
  private holdingPredecessor: SyntaxNode[] = [];
  private lineStarts: number[] | undefined;
  /** Whether nodes of a type id are named, learnt from the first node of each type a cursor walk meets. */
  readonly namedByType: boolean[] = [];
  /** Nodes made, and nodes whose children were read from wasm rather than copied (for tests and the benchmark). */
  readonly counts = { made: 0, readFromWasm: 0 };

  constructor(readonly text: string) {}

  /**
   * Lets go of the previous parse: called when this one is edited in turn. Nodes that never copied their children
   * forget their counterparts (they read from wasm if asked later), so no node of this parse keeps an older one alive
   * and an editing session holds two parses at most, not one per keystroke.
   */
  forgetPredecessor(): void {
    this.predecessor = undefined;
    for (const node of this.holdingPredecessor) node.forgetCounterpart();
    this.holdingPredecessor = [];
  }

  /** Notes a node made with a counterpart (SyntaxNode's constructor). */
  holdsPredecessor(node: SyntaxNode): void {
    this.holdingPredecessor.push(node);
  }

  /** The root node of a tree; every other node is reached from it. */
  root(raw: RawNode): SyntaxNode {
    return SyntaxNode.fromRaw(raw, this, null, -1, undefined);
  }

  /**
   * The node of the predecessor with the same structure as a node of this parse at `start`–`end` of type `type`, if
   * the edit left that range alone and the predecessor's nodes down to it were read. Ranges that touch a dirty range
   * count as changed: a node that ends where the edit begins may have lost a token to it.
   */
  counterpart(start: number, end: number, type: string): SyntaxNode | undefined {
    const predecessor = this.predecessor;
    if (!predecessor) return undefined;
    for (const range of predecessor.dirty) if (start <= range.end && end >= range.start) return undefined;
    let oldStart: number;
    let oldEnd: number;
    if (end < predecessor.editStart) [oldStart, oldEnd] = [start, end];
    else if (start > predecessor.insertedEnd) [oldStart, oldEnd] = [start - predecessor.growth, end - predecessor.growth];
    else return undefined;
    return predecessor.root.builtDescendantWithRange(oldStart, oldEnd, type);
  }

  /** Row and column of an offset, counted as tree-sitter counts them (rows end at `\n`; columns in code units). */
  point(offset: number): Point {
    const starts = (this.lineStarts ??= newlineStarts(this.text));
    const row = lineContaining(starts, offset);
    return { row, column: offset - starts[row] };
  }
}

const NAMED = 1;
const MISSING = 2;
const ERROR = 4;
const HAS_ERROR = 8;

/**
 * The largest node (in UTF-16 code units of its text) whose subtree a fresh parse builds in one cursor walk when its
 * children are first asked for. Larger nodes read their children one level at a time, so a huge file is not built
 * whole before anything else can happen; their smaller descendants are then built in one walk each.
 */
const EAGER_SUBTREE_SPAN = 256 * 1024;

/** The children of a leaf: one shared array, frozen so that no caller can add to every leaf at once. */
const NO_CHILDREN: SyntaxNode[] = Object.freeze([]) as unknown as SyntaxNode[];

/** The flags of a wasm node, packed into one number (a node is made per node of every parse: it is kept small). */
function flagsOf(raw: RawNode): number {
  return (raw.isNamed ? NAMED : 0) | (raw.isMissing ? MISSING : 0) | (raw.isError ? ERROR : 0) | (raw.hasError ? HAS_ERROR : 0);
}

export class SyntaxNode {
  /** The node's place as the model layer records it, cached there (set by the evaluator). */
  origin: { file: string; start: number; end: number } | undefined;
  /**
   * Something the model layer derives from this node alone and keeps with it (the names of an attribute path written
   * with identifiers only): an analysis after an edit finds it on every node of the files the edit left alone.
   */
  derived: unknown;
  /** The children once read, and the field name of each (undefined when none has one; shared between copies). */
  private kids: SyntaxNode[] | undefined;
  private fields: (string | null)[] | undefined;
  private named: SyntaxNode[] | undefined;

  private constructor(
    readonly type: string,
    readonly startIndex: number,
    readonly endIndex: number,
    /** NAMED, MISSING, ERROR and HAS_ERROR; HAS_ERROR of a node built by a cursor walk is set once its subtree is. */
    private flags: number,
    private readonly table: NodeTable,
    private readonly parentNode: SyntaxNode | null,
    /** The index among the parent's children (tree-sitter's visible children, the same for raw and copied nodes). */
    private readonly indexInParent: number,
    /** The wasm node, read when a node is made from one; a copied node finds its own only if asked (`rawNode`). */
    private raw: RawNode | undefined,
    /** A node of the previous parse with this node's structure, moved; dropped once the children are copied. */
    private counterpart: SyntaxNode | undefined,
  ) {
    table.counts.made++;
    if (counterpart) table.holdsPredecessor(this);
  }

  static fromRaw(raw: RawNode, table: NodeTable, parent: SyntaxNode | null, indexInParent: number, counterpart: SyntaxNode | undefined): SyntaxNode {
    const flags = flagsOf(raw);
    // Below a syntax error the same text over the same range may be recovered another way: a token the old parse
    // took as an identifier is the keyword `then` in the new one, and tree-sitter's changed ranges do not say so.
    // Such a node reads its children from wasm.
    const copyable = counterpart?.kids !== undefined && !counterpart.hasError && (flags & HAS_ERROR) === 0;
    return new SyntaxNode(raw.type, raw.startIndex, raw.endIndex, flags, table, parent, indexInParent, raw, copyable ? counterpart : undefined);
  }

  /** A copy of a node of the previous parse, moved by `shift`, as the child of `parent`. */
  private static copied(old: SyntaxNode, shift: number, table: NodeTable, parent: SyntaxNode, indexInParent: number): SyntaxNode {
    // Only an old child whose children were read can give them; following its own counterpart further back would
    // keep every older parse alive through the nodes nobody reads.
    const counterpart = old.kids ? old : undefined;
    return new SyntaxNode(old.type, old.startIndex + shift, old.endIndex + shift, old.flags, table, parent, indexInParent, undefined, counterpart);
  }

  /** Named means: not an anonymous token such as `{` or `;` (MISSING and ERROR nodes count as named). */
  get isNamed(): boolean {
    return (this.flags & NAMED) !== 0;
  }

  get isMissing(): boolean {
    return (this.flags & MISSING) !== 0;
  }

  get isError(): boolean {
    return (this.flags & ERROR) !== 0;
  }

  get hasError(): boolean {
    return (this.flags & HAS_ERROR) !== 0;
  }

  get text(): string {
    return this.table.text.slice(this.startIndex, this.endIndex);
  }

  get startPosition(): Point {
    return this.table.point(this.startIndex);
  }

  get endPosition(): Point {
    return this.table.point(this.endIndex);
  }

  /**
   * All children (their field names go to `fields`). A node with a counterpart copies them from it. Otherwise the
   * children are marshalled in one wasm call and the field names come from one TreeCursor walk over the same children,
   * because `currentFieldName` costs O(1) per step while web-tree-sitter's `fieldNameForChild(index)` walks the children
   * up to `index` on every call, which made a node with n children (an ERROR node over a whole hostile file) cost O(n²).
   */
  get children(): SyntaxNode[] {
    if (this.kids) return this.kids;
    const counterpart = this.counterpart;
    if (counterpart?.kids) {
      const shift = this.startIndex - counterpart.startIndex;
      const kids = counterpart.kids;
      const copies = new Array<SyntaxNode>(kids.length);
      for (let index = 0; index < kids.length; index++) copies[index] = SyntaxNode.copied(kids[index], shift, this.table, this, index);
      this.fields = counterpart.fields;
      this.counterpart = undefined;
      return (this.kids = copies);
    }
    const raw = this.rawNode();
    if (!raw) return (this.kids = []);
    this.table.counts.readFromWasm++;
    if (!this.table.predecessor && this.endIndex - this.startIndex <= EAGER_SUBTREE_SPAN) {
      this.buildSubtree(raw);
      return this.kids ?? [];
    }
    const children = raw.childCount > 0 ? raw.children : [];
    const fields = children.length > 0 && !FIELDLESS.has(this.type) ? fieldNamesOfChildren(raw, children.length) : undefined;
    const kids: SyntaxNode[] = [];
    for (let index = 0; index < children.length; index++) {
      const child = children[index];
      // web-tree-sitter types a child as possibly null; a tree from the parser has none, and a node must keep its index.
      if (!child) return (this.kids = []);
      kids.push(SyntaxNode.fromRaw(child, this.table, this, index, this.table.counterpart(child.startIndex, child.endIndex, child.type)));
    }
    this.fields = fields?.some((name) => name !== null) ? fields : undefined;
    this.counterpart = undefined;
    return (this.kids = kids);
  }

  /**
   * Builds this node's whole subtree in one TreeCursor walk. A fresh parse (no predecessor to copy from) is read in
   * full by the analysis that asked for it, and the cursor reads a node's type, range, flags and field name for about a
   * third of what `Node.children` costs (the nodes of the aria corpus repository: 30–45 ms against 100–130 ms), because
   * it makes no wasm `Node` objects. The walk keeps its own stack, so a deeply nested file cannot exhaust the call
   * stack. `hasError` is computed on the way back up, as tree-sitter sums error costs: a MISSING node, an ERROR node
   * with children, and every node above one of those (test/syntax/node-reuse.test.ts compares every flag with the wasm
   * tree's, on the corpus and on broken text).
   */
  private buildSubtree(raw: RawNode): void {
    const cursor = raw.walk();
    // Every getter of a cursor is a call into wasm, so the walk asks as few as it can. Without an error below the
    // start, no node is MISSING (a MISSING node counts as an error all the way up). Whether a type is named is the same
    // for every node of that type (tree-sitter's public symbols differ in name or in being named), so it is asked once
    // per type.
    const mayBeMissing = this.hasError;
    const types = raw.tree.language.types;
    const namedByType = this.table.namedByType;
    try {
      if (!cursor.gotoFirstChild()) {
        this.kids = NO_CHILDREN;
        return;
      }
      const frames: SubtreeFrame[] = [new SubtreeFrame(this)];
      for (;;) {
        const frame = frames[frames.length - 1];
        const typeId = cursor.nodeTypeId;
        const type = types[typeId] || 'ERROR';
        const missing = mayBeMissing && cursor.nodeIsMissing;
        const error = type === 'ERROR';
        let named = namedByType[typeId];
        if (named === undefined) named = namedByType[typeId] = cursor.nodeIsNamed;
        const flags = (named ? NAMED : 0) | (missing ? MISSING : 0) | (error ? ERROR : 0);
        const child = new SyntaxNode(type, cursor.startIndex, cursor.endIndex, flags, this.table, frame.node, frame.kids.length, undefined, undefined);
        frame.add(child, frame.fieldless ? null : cursor.currentFieldName);
        if (cursor.gotoFirstChild()) {
          frames.push(new SubtreeFrame(child));
          continue;
        }
        // A leaf counts as having an error only when it is MISSING: tree-sitter gives an ERROR leaf (one unexpected
        // character) no error cost of its own; the ERROR node around it has one.
        child.kids = NO_CHILDREN;
        if (missing) child.flags |= HAS_ERROR;
        frame.childError ||= missing;
        while (!cursor.gotoNextSibling()) {
          const done = frames.pop() as SubtreeFrame;
          const hasError = done.finish();
          if (frames.length === 0) return;
          frames[frames.length - 1].childError ||= hasError;
          cursor.gotoParent();
        }
      }
    } finally {
      cursor.delete();
    }
  }

  /** Takes the children a cursor walk read (`SubtreeFrame`); returns whether this node has an error. */
  adoptChildren(kids: SyntaxNode[], fields: (string | null)[] | undefined, childError: boolean): boolean {
    this.kids = kids;
    this.fields = fields;
    // The node the walk started from was made from its wasm node and has tree-sitter's own answer already.
    if (this.raw) return this.hasError;
    const hasError = childError || (this.flags & (MISSING | ERROR)) !== 0;
    if (hasError) this.flags |= HAS_ERROR;
    return hasError;
  }

  /** Drops the counterpart (`NodeTable.forgetPredecessor`): the children are then read from wasm if asked. */
  forgetCounterpart(): void {
    this.counterpart = undefined;
  }

  /** The wasm node, found through the parent's for a copied node; undefined once the tree is freed. */
  private rawNode(): RawNode | undefined {
    if (!this.table.alive) return undefined;
    if (this.raw || !this.parentNode) return this.raw;
    // Up to the nearest node that holds its wasm node, then down again by child index: a loop, because the chain is
    // as long as the file is deep.
    const path: SyntaxNode[] = [];
    let holder: SyntaxNode | null = this;
    while (holder && !holder.raw) {
      path.push(holder);
      holder = holder.parentNode;
    }
    let raw = holder?.raw;
    for (let index = path.length - 1; index >= 0 && raw; index--) {
      raw = raw.child(path[index].indexInParent) ?? undefined;
      path[index].raw = raw;
    }
    return this.raw;
  }

  get childCount(): number {
    return this.children.length;
  }

  child(index: number): SyntaxNode | null {
    return this.children[index] ?? null;
  }

  get namedChildren(): SyntaxNode[] {
    this.named ??= this.children.filter((node) => node.isNamed);
    return this.named;
  }

  get namedChildCount(): number {
    return this.namedChildren.length;
  }

  childForFieldName(name: string): SyntaxNode | null {
    const children = this.children;
    const index = this.fields?.indexOf(name) ?? -1;
    return index >= 0 ? children[index] : null;
  }

  childrenForFieldName(name: string): SyntaxNode[] {
    const children = this.children;
    const fields = this.fields;
    return fields ? children.filter((_, index) => fields[index] === name) : [];
  }

  get parent(): SyntaxNode | null {
    return this.parentNode;
  }

  private sibling(step: number, namedOnly: boolean): SyntaxNode | null {
    const siblings = this.parentNode?.children;
    if (!siblings) return null;
    for (let index = this.indexInParent + step; index >= 0 && index < siblings.length; index += step) {
      const candidate = siblings[index];
      if (!namedOnly || candidate.isNamed) return candidate;
    }
    return null;
  }

  get nextSibling(): SyntaxNode | null {
    return this.sibling(1, false);
  }

  get previousSibling(): SyntaxNode | null {
    return this.sibling(-1, false);
  }

  get nextNamedSibling(): SyntaxNode | null {
    return this.sibling(1, true);
  }

  get previousNamedSibling(): SyntaxNode | null {
    return this.sibling(-1, true);
  }

  /**
   * The smallest node, named or not, that spans `start`–`end`, as tree-sitter's `descendantForIndex` finds it: a child
   * is entered when it reaches `end`, ends after `start` (or at it, when the child is empty) and starts at or before
   * `start`.
   */
  descendantForIndex(start: number, end?: number): SyntaxNode {
    const rangeEnd = end ?? start;
    let node: SyntaxNode = this;
    for (;;) {
      const children = node.children;
      let next: SyntaxNode | undefined;
      for (let index = firstEndingAtOrAfter(children, rangeEnd); index < children.length; index++) {
        const child = children[index];
        // A child must reach the end of the range and pass its start; an empty child (a missing token) may touch it.
        if (child.endIndex < rangeEnd) continue;
        if (child.startIndex === child.endIndex ? child.endIndex < start : child.endIndex <= start) continue;
        if (start < child.startIndex) break;
        next = child;
        break;
      }
      if (!next) return node;
      node = next;
    }
  }

  /**
   * The node of this parse (already read, no wasm) at exactly `start`–`end` with type `type`, below or at this node;
   * undefined when it was never read or when two nested nodes would match.
   */
  builtDescendantWithRange(start: number, end: number, type: string): SyntaxNode | undefined {
    let node: SyntaxNode = this;
    let found: SyntaxNode | undefined;
    for (;;) {
      if (node.startIndex === start && node.endIndex === end && node.type === type) {
        if (found) return undefined;
        found = node;
      }
      const children = node.kids;
      if (!children) return found;
      let next: SyntaxNode | undefined;
      for (let index = firstEndingAtOrAfter(children, end); index < children.length; index++) {
        const child = children[index];
        if (child.startIndex > start) break;
        if (child.endIndex >= end) {
          next = child;
          break;
        }
      }
      if (!next) return found;
      node = next;
    }
  }

  /** A cursor over this node's subtree that yields `SyntaxNode`s. */
  walk(): NodeCursor {
    return new NodeCursor(this);
  }

  /** web-tree-sitter's own cursor, for whole-tree scans that need no node objects (cheaper, nothing is kept). */
  rawWalk(): TreeCursor | undefined {
    return this.rawNode()?.walk();
  }

  /** The node as an S-expression of named nodes, as tree-sitter prints it (for tests and debugging). */
  toString(): string {
    const named = this.namedChildren;
    return named.length === 0 ? `(${this.type})` : `(${this.type} ${named.map((child) => child.toString()).join(' ')})`;
  }
}

/** The first index whose child ends at or after `offset` (children are in order and do not overlap). */
function firstEndingAtOrAfter(children: SyntaxNode[], offset: number): number {
  let low = 0;
  let high = children.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (children[mid].endIndex < offset) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The field name of each child of `raw`, in child order, read in one TreeCursor walk: the cursor visits the same
 * visible children as `Node.children`, and reading the field name at each step is O(1).
 */
function fieldNamesOfChildren(raw: RawNode, expectedCount: number): (string | null)[] {
  const names: (string | null)[] = [];
  const cursor = raw.walk();
  try {
    if (cursor.gotoFirstChild()) {
      do names.push(cursor.currentFieldName);
      while (cursor.gotoNextSibling());
    }
  } finally {
    cursor.delete();
  }
  // Both walks visit the visible children, so the counts agree; should a runtime ever differ, no name beats a wrong one.
  return names.length === expectedCount ? names : [];
}

/** The part of tree-sitter's TreeCursor the project uses, over `SyntaxNode`s. */
export class NodeCursor {
  private readonly path: SyntaxNode[];
  constructor(root: SyntaxNode) {
    this.path = [root];
  }
  get currentNode(): SyntaxNode {
    return this.path[this.path.length - 1];
  }
  gotoFirstChild(): boolean {
    const first = this.currentNode.child(0);
    if (!first) return false;
    this.path.push(first);
    return true;
  }
  gotoNextSibling(): boolean {
    if (this.path.length < 2) return false;
    const next = this.currentNode.nextSibling;
    if (!next) return false;
    this.path[this.path.length - 1] = next;
    return true;
  }
  gotoParent(): boolean {
    if (this.path.length < 2) return false;
    this.path.pop();
    return true;
  }
  delete(): void {
    this.path.length = 1;
  }
}

/** A node whose children a cursor walk (`SyntaxNode.buildSubtree`) is reading, with what it has read so far. */
class SubtreeFrame {
  readonly kids: SyntaxNode[] = [];
  private readonly fields: (string | null)[] = [];
  private anyField = false;
  readonly fieldless: boolean;
  /** Whether a child read so far has an error (or is one). */
  childError = false;
  constructor(readonly node: SyntaxNode) {
    this.fieldless = FIELDLESS.has(node.type);
  }
  add(child: SyntaxNode, field: string | null): void {
    this.kids.push(child);
    this.fields.push(field);
    if (field !== null) this.anyField = true;
  }
  /** Hands the children to the node; returns whether the node has an error. */
  finish(): boolean {
    return this.node.adoptChildren(this.kids, this.anyField ? this.fields : undefined, this.childError);
  }
}
