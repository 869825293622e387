/**
 * Syntax nodes as plain JavaScript objects over web-tree-sitter's nodes.
 *
 * Every property read on a web-tree-sitter node crosses into wasm and allocates; the evaluator reads the same nodes
 * again on every analysis. A `SyntaxNode` reads a node's children (with their field names) once and keeps them, and
 * the nodes of a file live as long as its parse: re-analysing a host after an edit in another file touches no wasm
 * for the unchanged files. The API is the subset of web-tree-sitter's `Node` the project uses, with the same names.
 */
import type { Node as RawNode, Point, TreeCursor } from 'web-tree-sitter';

/** Node types whose children never carry a field name (tree-sitter-nix's node-types.json). */
const FIELDLESS = new Set(['attrset_expression', 'rec_attrset_expression', 'let_attrset_expression', 'string_expression', 'indented_string_expression', 'path_expression', 'hpath_expression']);

interface ChildEntry {
  node: SyntaxNode;
  field: string | null;
}

/** The nodes of one tree, by tree-sitter's node id, so a node reached twice is one object. */
export class NodeTable {
  private readonly nodes = new Map<number, SyntaxNode>();
  /**
   * False once the tree is freed. A node read after that (a value kept from an older analysis, evaluated further by
   * a hover) reads as a leaf: what was already read stays, nothing is read from freed memory.
   */
  alive = true;
  constructor(readonly text: string) {}

  wrap(raw: RawNode): SyntaxNode;
  wrap(raw: RawNode | null): SyntaxNode | null;
  wrap(raw: RawNode | null): SyntaxNode | null {
    if (!raw) return null;
    let node = this.nodes.get(raw.id);
    if (!node) {
      node = new SyntaxNode(raw, this);
      this.nodes.set(raw.id, node);
    }
    return node;
  }
}

export class SyntaxNode {
  readonly id: number;
  readonly type: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly isMissing: boolean;
  readonly isError: boolean;
  readonly hasError: boolean;
  /** The node's place as the model layer records it, cached there (set by the evaluator). */
  origin: { file: string; start: number; end: number } | undefined;
  private entries: ChildEntry[] | undefined;
  private named: SyntaxNode[] | undefined;
  private parentNode: SyntaxNode | null | undefined;
  private indexInParent = -1;

  constructor(
    private readonly raw: RawNode,
    private readonly table: NodeTable,
  ) {
    this.id = raw.id;
    this.type = raw.type;
    this.startIndex = raw.startIndex;
    this.endIndex = raw.endIndex;
    this.isMissing = raw.isMissing;
    this.isError = raw.isError;
    this.hasError = raw.hasError;
  }

  get text(): string {
    return this.table.text.slice(this.startIndex, this.endIndex);
  }

  get startPosition(): Point {
    return this.table.alive ? this.raw.startPosition : { row: 0, column: this.startIndex };
  }

  get endPosition(): Point {
    return this.table.alive ? this.raw.endPosition : { row: 0, column: this.endIndex };
  }

  /**
   * All children with their field names. The children are marshalled in one wasm call; the field names come from one
   * TreeCursor walk over the same children, because `currentFieldName` costs O(1) per step while web-tree-sitter's
   * `fieldNameForChild(index)` walks the children up to `index` on every call, which made a node with n children
   * (an ERROR node over a whole hostile file) cost O(n²).
   */
  private childEntries(): ChildEntry[] {
    if (this.entries) return this.entries;
    const entries: ChildEntry[] = [];
    if (!this.table.alive) return entries;
    const children = this.raw.childCount > 0 ? this.raw.children : [];
    const fields = children.length > 0 && !FIELDLESS.has(this.type) ? fieldNamesOfChildren(this.raw, children.length) : undefined;
    for (let index = 0; index < children.length; index++) {
      const raw = children[index];
      if (!raw) continue;
      const child = this.table.wrap(raw);
      child.parentNode = this;
      child.indexInParent = entries.length;
      entries.push({ node: child, field: fields?.[index] ?? null });
    }
    this.entries = entries;
    return entries;
  }

  private childList: SyntaxNode[] | undefined;

  get children(): SyntaxNode[] {
    this.childList ??= this.childEntries().map((entry) => entry.node);
    return this.childList;
  }

  get childCount(): number {
    return this.childEntries().length;
  }

  child(index: number): SyntaxNode | null {
    return this.childEntries()[index]?.node ?? null;
  }

  get namedChildren(): SyntaxNode[] {
    this.named ??= this.childEntries()
      .map((entry) => entry.node)
      .filter((node) => node.isNamed);
    return this.named;
  }

  get namedChildCount(): number {
    return this.namedChildren.length;
  }

  /** Named means: not an anonymous token such as `{` or `;` (MISSING and ERROR nodes count as named). */
  get isNamed(): boolean {
    return !this.table.alive || this.raw.isNamed;
  }

  childForFieldName(name: string): SyntaxNode | null {
    return this.childEntries().find((entry) => entry.field === name)?.node ?? null;
  }

  childrenForFieldName(name: string): SyntaxNode[] {
    return this.childEntries()
      .filter((entry) => entry.field === name)
      .map((entry) => entry.node);
  }

  get parent(): SyntaxNode | null {
    if (this.parentNode === undefined) {
      const parent = this.table.alive ? this.table.wrap(this.raw.parent) : null;
      if (parent) parent.childEntries();
      if (this.parentNode === undefined) this.parentNode = parent;
    }
    return this.parentNode;
  }

  private sibling(step: number, namedOnly: boolean): SyntaxNode | null {
    const parent = this.parent;
    if (!parent) return null;
    const siblings = parent.childEntries();
    for (let index = this.indexInParent + step; index >= 0 && index < siblings.length; index += step) {
      const candidate = siblings[index].node;
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

  descendantForIndex(start: number, end?: number): SyntaxNode | null {
    if (!this.table.alive) return this;
    return this.table.wrap(this.raw.descendantForIndex(start, end ?? start));
  }

  /** A cursor over this node's subtree that yields `SyntaxNode`s. */
  walk(): NodeCursor {
    return new NodeCursor(this);
  }

  /** web-tree-sitter's own cursor, for whole-tree scans that need no node objects (cheaper, nothing is kept). */
  rawWalk(): TreeCursor {
    return this.raw.walk();
  }

  toString(): string {
    return this.raw.toString();
  }
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
