/**
 * The merge of what Nix evaluated into the static model: evaluated values fill the *unknowns* of a host's merged
 * configuration, never what the static reading knows.
 *
 * For every projected path the static node is compared with Nix's value. Where the static reading is complete (every
 * definition certain, no unreadable contribution, every value computed), the static node stays as it is — with its
 * source locations, its disko/hand-written distinction and its quick fixes — and Nix's value only checks it: a
 * difference is a bug of ours and is logged with both values (the tests fail on it). Where the static reading is
 * incomplete, the node is replaced by Nix's value, one level at a time: the attributes of a set that the static
 * reading knows completely keep their static nodes, the rest take Nix's values. A value Nix gave sits at the source
 * location of the static definition it replaces (or the unreadable expression that made it unknown), else at the
 * nearest such place above it, else at the host's root file; those places are remembered, so that a finding there
 * can say that it rests on an evaluated value.
 */
import { ConfigNode, DEFAULT_ORDER, DEFAULT_PRIORITY, type Definition } from '../model/config';
import { type Origin, type Value, ValueThunk, stringText } from '../model/values';
import type { ProjectedPath } from './runner';

type EvalTree = { kind: 'partial'; children: Map<string, EvalTree> } | { kind: 'value'; value: unknown } | { kind: 'absent' };

export interface Disagreement {
  host: string;
  path: string;
  /** The static value, as JSON. */
  static: string;
  /** Nix's value, as JSON. */
  evaluated: string;
  origin?: Origin;
}

export interface MergeContext {
  host: string;
  /** Where a value with no static place of its own is put: the host's root file. */
  fallback: Origin;
  disagreements: Disagreement[];
  /** Places of evaluated values (`file:start:end`) and the option path each stands for. */
  anchors: Map<string, string>;
  /** The option paths whose values came from Nix. */
  filled: Set<string>;
}

export function originKey(origin: Origin): string {
  return `${origin.file}:${origin.start}:${origin.end}`;
}

function treeOf(projection: Record<string, ProjectedPath>): EvalTree {
  const root: EvalTree = { kind: 'partial', children: new Map() };
  for (const [dotted, result] of Object.entries(projection)) {
    if (!result || typeof result !== 'object' || !result.ok) continue;
    const names = dotted.split('.');
    let node = root;
    for (const name of names.slice(0, -1)) {
      let next = node.children.get(name);
      if (!next || next.kind !== 'partial') {
        next = { kind: 'partial', children: new Map() };
        node.children.set(name, next);
      }
      node = next;
    }
    node.children.set(names[names.length - 1], 'absent' in result ? { kind: 'absent' } : { kind: 'value', value: (result as { value: unknown }).value });
  }
  return root;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON value as a value of the static model, placed at `anchor` (strings get no character map: Nix wrote them). */
function valueOf(json: unknown, anchor: Origin): Value {
  if (json === null || json === undefined) return { kind: 'null', origin: anchor };
  if (typeof json === 'boolean') return { kind: 'bool', value: json, origin: anchor };
  if (typeof json === 'number') return { kind: Number.isInteger(json) ? 'int' : 'float', value: json, origin: anchor };
  if (typeof json === 'string') return { kind: 'string', pieces: [{ text: json }], origin: anchor };
  if (Array.isArray(json)) return { kind: 'list', items: json.map((item) => new ValueThunk(valueOf(item, anchor), anchor)), origin: anchor };
  const entries = new Map<string, { thunk: ValueThunk; keyOrigin?: Origin }>();
  for (const [name, item] of Object.entries(json as Record<string, unknown>)) entries.set(name, { thunk: new ValueThunk(valueOf(item, anchor), anchor), keyOrigin: anchor });
  return { kind: 'attrs', entries, unknownKeys: [], origin: anchor };
}

const NOT_COMPARABLE = Symbol('not comparable');
const UNKNOWN = Symbol('unknown');

/** A static value as JSON, UNKNOWN when part of it could not be computed, NOT_COMPARABLE when Nix writes it otherwise. */
function jsonOf(value: Value, depth = 0): unknown {
  if (depth > 32) return UNKNOWN;
  switch (value.kind) {
    case 'null':
      return null;
    case 'bool':
    case 'int':
    case 'float':
      return value.value;
    case 'string': {
      if (value.pieces.some((piece) => piece.unknown)) return UNKNOWN;
      // `${pkgs.zfs}` is a store path only Nix knows; the static reading handles such scripts on its own.
      if (value.pieces.some((piece) => piece.symbol)) return NOT_COMPARABLE;
      return stringText(value);
    }
    // A path is copied to the store by Nix: its text differs by design.
    case 'path':
      return NOT_COMPARABLE;
    case 'list': {
      const items = value.items.map((item) => jsonOf(item.force(), depth + 1));
      if (items.includes(UNKNOWN)) return UNKNOWN;
      return items.includes(NOT_COMPARABLE) ? NOT_COMPARABLE : items;
    }
    case 'attrs': {
      if (value.unknownKeys.length > 0 || value.open) return UNKNOWN;
      const result: Record<string, unknown> = {};
      let comparable = true;
      for (const [name, entry] of value.entries) {
        const item = jsonOf(entry.thunk.force(), depth + 1);
        if (item === UNKNOWN) return UNKNOWN;
        if (item === NOT_COMPARABLE) comparable = false;
        result[name] = item;
      }
      return comparable ? result : NOT_COMPARABLE;
    }
    default:
      return UNKNOWN;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
  return value;
}

function disagree(node: ConfigNode, mine: unknown, theirs: unknown, context: MergeContext, origin?: Origin): void {
  context.disagreements.push({ host: context.host, path: node.path.join('.'), static: JSON.stringify(mine), evaluated: JSON.stringify(theirs), origin });
}

/**
 * Whether the static reading knows a node completely (then it stays), comparing what it knows with Nix's value on
 * the way. A node nothing defines and nothing unreadable might define is complete: Nix's value is the default.
 */
function complete(node: ConfigNode, json: unknown, context: MergeContext): boolean {
  if (node.absent) return true;
  // A single value is decided by the static model's own rule (a certain definition decides it, whatever an
  // unreadable module might add: a different one would be a conflict NixOS rejects); sets and lists are open as long
  // as anything unreadable might add to them.
  const scalarLike = json === null || typeof json !== 'object';
  if (node.covers.length > 0 && !scalarLike) return false;
  const { definitions, uncertain } = node.effective();
  if (uncertain || definitions.some((definition) => definition.conditional)) return false;
  if (isObject(json)) {
    if (node.unknownNames().length > 0) return false;
    if (definitions.some((definition) => definition.value.kind !== 'attrs')) return false;
    let all = true;
    for (const name of new Set([...node.childNames(), ...Object.keys(json)])) {
      // A name only the static reading has is a field the projection leaves out (or a definition Nix rejects).
      if (!(name in json)) continue;
      if (!complete(node.child(name), json[name], context)) all = false;
    }
    return all;
  }
  if (Array.isArray(json)) {
    const list = node.list();
    if (list.open || list.items.some((item) => item.definition.conditional)) return false;
    const items = list.items.map((item) => jsonOf(item.thunk.force()));
    if (items.includes(UNKNOWN)) return false;
    if (!items.includes(NOT_COMPARABLE)) {
      // The module system keeps the order of list definitions; files may be read in another order here.
      const key = (list: unknown[]) => list.map((item) => JSON.stringify(sortKeys(item))).sort();
      if (!same(key(items), key(json))) disagree(node, items, json, context, definitions[0]?.origin);
    }
    return true;
  }
  if (typeof json === 'string' && definitions.length > 1 && definitions.every((definition) => definition.value.kind === 'string')) {
    if (node.covers.length > 0) return false;
    // A `lines` option: one fragment per definition, joined by newlines in Nix.
    const texts = node.lines().fragments.map((definition) => jsonOf(definition.value));
    if (texts.includes(UNKNOWN)) return false;
    if (!texts.includes(NOT_COMPARABLE) && (texts as string[]).join('\n').trim() !== json.trim()) disagree(node, texts.join('\n'), json, context, definitions[0]?.origin);
    return true;
  }
  const resolved = node.scalar();
  if (resolved.state === 'unknown') return false;
  if (resolved.state === 'absent') return true;
  const mine = jsonOf(resolved.value);
  if (mine === UNKNOWN) return false;
  if (mine !== NOT_COMPARABLE && !same(mine, json)) disagree(node, mine, json, context, resolved.definitions[0]?.origin);
  return true;
}

function evaluatedDefinition(value: Value, anchor: Origin, keyOrigin: Origin): Definition {
  return { value, file: anchor.file, conditional: false, priority: DEFAULT_PRIORITY, order: DEFAULT_ORDER, keyOrigin, origin: anchor, wrappers: [] };
}

/** A node whose children are merged one by one: above the projected paths, and where Nix's value is a set. */
class MergedNode extends ConfigNode {
  private readonly merged = new Map<string, ConfigNode>();

  constructor(
    base: ConfigNode,
    definitions: Definition[],
    covers: ConfigNode['covers'],
    private readonly staticNode: ConfigNode,
    private readonly tree: EvalTree,
    private readonly context: MergeContext,
    private readonly anchor: Origin,
  ) {
    super(base.path, definitions, covers);
  }

  override child(name: string): ConfigNode {
    let node = this.merged.get(name);
    if (node) return node;
    const sub: EvalTree | undefined =
      this.tree.kind === 'partial' ? this.tree.children.get(name) : this.tree.kind === 'value' && isObject(this.tree.value) && name in this.tree.value ? { kind: 'value', value: this.tree.value[name] } : undefined;
    const staticChild = this.staticNode.child(name);
    // Below a set Nix evaluated, a name Nix does not have does not exist, whatever the static reading guessed.
    node = sub ? mergeNode(staticChild, sub, this.context, this.anchor) : this.tree.kind === 'value' ? new ConfigNode(staticChild.path, [], []) : staticChild;
    this.merged.set(name, node);
    return node;
  }
}

function mergeNode(node: ConfigNode, tree: EvalTree, context: MergeContext, parentAnchor: Origin): ConfigNode {
  if (tree.kind === 'partial') return new MergedNode(node, node.definitions, node.covers, node, tree, context, parentAnchor);
  if (tree.kind === 'absent') {
    // The option does not exist in the evaluated system (its module is not imported): nothing sets it.
    return node.definedForSure ? node : new ConfigNode(node.path, [], []);
  }
  if (complete(node, tree.value, context)) return node;
  // The node's own unreadable contribution comes last among its covers (those inherited from above come first).
  const anchor = node.definitions[0]?.origin ?? node.covers[node.covers.length - 1]?.origin ?? parentAnchor;
  const keyOrigin = node.definitions[0]?.keyOrigin ?? anchor;
  const dotted = node.path.join('.');
  context.filled.add(dotted);
  if (!context.anchors.has(originKey(anchor))) context.anchors.set(originKey(anchor), dotted);
  if (!context.anchors.has(originKey(keyOrigin))) context.anchors.set(originKey(keyOrigin), dotted);
  const definition = evaluatedDefinition(valueOf(tree.value, anchor), anchor, keyOrigin);
  if (isObject(tree.value)) return new MergedNode(node, [definition], [], node, tree, context, anchor);
  return new ConfigNode(node.path, [definition], []);
}

/** The host's configuration with its unknowns filled from Nix's projection. */
export function mergeEvaluated(root: ConfigNode, projection: Record<string, ProjectedPath>, context: MergeContext): ConfigNode {
  return mergeNode(root, treeOf(projection), context, context.fallback);
}
