/**
 * The merged configuration of a host: every module's definitions of an option path, merged the way the NixOS
 * module system merges them — `mkIf`, `mkMerge`, `mkOverride` (mkForce/mkDefault) and `mkOrder` (mkBefore/mkAfter)
 * included — but three-valued.
 *
 * A definition under `mkIf` with an unknown condition is *conditional*: rules may use it only to stay silent.
 * A contribution we cannot read (an unknown value, an attribute whose name is computed, an opaque module) is a
 * *cover*: the path it covers, and everything below, may hold anything, so "unset" is never claimed there.
 * Nodes are built lazily: only the paths a rule asks for are ever evaluated.
 */
import { currentRevision } from './dependencies';
import { LateCondition, allHold, lateConditionsEpoch, someConditionDeciding, someFails } from './late-condition';
import { KeptOnKey } from './kept-on-key';
import type { ModuleDefinition, OpaqueModule } from './modules';
import { describeUnknown } from './operators';
import { type AttrEntry, type Origin, type Thunk, type UnknownKeyEntry, type Value, stringText } from './values';

export const DEFAULT_PRIORITY = 100;
export const DEFAULT_ORDER = 1000;

export interface Definition {
  value: Value;
  /** The file of the module that defines it. */
  file: string;
  conditional: boolean;
  priority: number;
  order: number;
  /** Where the attribute name that leads to this definition is written. */
  keyOrigin?: Origin;
  /** Where the defining expression is written. */
  origin?: Origin;
  /** The mkIf/mkForce/… wrappers around it, outermost first, for quick fixes that must keep them. */
  wrappers: Origin[];
  /** Set for definitions a library module makes on the host's behalf (the `fileSystems` disko emits). */
  synthetic?: 'disko';
  /**
   * `mkIf` conditions on `config` decided after the merge (late-condition.ts). A definition with some is conditional
   * until they all hold, and not there once one fails; `eagerConditional` is what the other wrappers say.
   */
  late?: LateCondition[];
  eagerConditional?: boolean;
}

/** Whether a definition is conditional for what its wrappers said while merging, leaving late conditions open. */
function eagerConditional(definition: Definition): boolean {
  return definition.late ? definition.eagerConditional === true : definition.conditional;
}

/** A definition's condition as it can be told now: a late one is read from the merged configuration when asked. */
function makeDefinition(value: Value, origin: Origin | undefined, context: ExpandContext): Definition {
  const { conditional, late } = context;
  // Built in one literal, not spread from a base: a host makes one per option definition on every analysis.
  const definition: Definition = {
    value,
    file: context.file,
    conditional,
    priority: context.priority ?? DEFAULT_PRIORITY,
    order: context.order,
    keyOrigin: context.keyOrigin,
    origin,
    wrappers: context.wrappers,
    synthetic: context.synthetic,
  };
  if (!late || late.length === 0) return definition;
  definition.late = late;
  definition.eagerConditional = conditional;
  return Object.defineProperty(definition, 'conditional', {
    get: () => conditional || !allHold(late),
    enumerable: true,
  });
}

/** A contribution that might define anything at and below its path. */
export interface Cover {
  what: string;
  origin?: Origin;
  conditional: boolean;
}

/**
 * Option paths whose elements are submodules: the module system filters definitions by priority at the element,
 * so `fileSystems."/" = lib.mkForce { … }` replaces disko's whole entry, not just the attributes it repeats.
 */
const ELEMENT_LEVELS: string[][] = [
  ['fileSystems', '*'],
  ['boot', 'initrd', 'systemd', 'services', '*'],
  ['boot', 'initrd', 'systemd', 'mounts', '*'],
  ['systemd', 'services', '*'],
  ['environment', 'persistence', '*'],
  ['preservation', 'preserveAt', '*'],
  ['disko', 'devices', 'zpool', '*'],
  ['disko', 'devices', 'zpool', '*', 'datasets', '*'],
  ['disko', 'devices', 'disk', '*'],
  ['disko', 'devices', 'nodev', '*'],
  ['virtualisation', 'vmVariantWithDisko', 'virtualisation', 'fileSystems', '*'],
  ['virtualisation', 'vmVariantWithDisko', 'fileSystems', '*'],
  ['virtualisation', 'fileSystems', '*'],
];

/**
 * The patterns of `ELEMENT_LEVELS` a path can still match or grow into, one bit each: a node knows its own from its
 * parent's and its name, so it can tell whether it is at an element level without making its path.
 */
const ANY_ELEMENT_LEVEL = (1 << ELEMENT_LEVELS.length) - 1;

function elementPatternsBelow(patterns: number, depth: number, name: string): number {
  let below = 0;
  for (let index = 0; index < ELEMENT_LEVELS.length; index++) {
    if ((patterns & (1 << index)) === 0) continue;
    const part = ELEMENT_LEVELS[index][depth];
    if (part === '*' || part === name) below |= 1 << index;
  }
  return below;
}

function elementPatternsOf(path: string[]): number {
  let patterns = ANY_ELEMENT_LEVEL;
  for (let depth = 0; depth < path.length && patterns !== 0; depth++) patterns = elementPatternsBelow(patterns, depth, path[depth]);
  return patterns;
}

/** What a path evaluates to in the merged configuration. */
export type Resolved<T> =
  | { state: 'known'; value: T; definitions: Definition[] }
  | { state: 'absent' }
  | { state: 'unknown'; what: string; origin?: Origin };

/** The answer for a path nothing defines (shared: an answer is never changed by its readers). */
const ABSENT: Resolved<never> = Object.freeze({ state: 'absent' });

interface ExpandContext {
  conditional: boolean;
  priority: number | undefined;
  order: number;
  file: string;
  keyOrigin?: Origin;
  wrappers: Origin[];
  synthetic?: 'disko';
  late?: LateCondition[];
}

/** A contribution that might define anything at and below one option path (a module of a known flake input). */
export interface ScopedCover {
  path: string[];
  cover: Cover;
}

/** What `effective()` answers for a node nothing defines (shared: the answer is never changed by its readers). */
const NO_DEFINITIONS: { definitions: Definition[]; uncertain: boolean } = Object.freeze({ definitions: Object.freeze([]) as unknown as Definition[], uncertain: false });

const NO_SCOPED: ScopedCover[] = [];

/** The path of a node made below another, until it is asked for (`ConfigNode.path`). */
const NO_PATH: string[] = Object.freeze([]) as unknown as string[];

/** The covers of a node that meets none of its own (shared: covers lists are never changed once a node is made). */
const NO_COVERS: Cover[] = Object.freeze([]) as unknown as Cover[];

/**
 * The context in which a child's definitions are expanded from one definition of its parent. Late conditions pass
 * down undecided: deciding one here could read the very option being merged.
 */
function contextBelow(parent: Definition, elementLevel: boolean, keyOrigin: Origin | undefined): ExpandContext {
  const priority = elementLevel ? undefined : parent.priority === DEFAULT_PRIORITY ? undefined : parent.priority;
  return { conditional: eagerConditional(parent), late: parent.late, priority, order: DEFAULT_ORDER, file: parent.file, wrappers: parent.wrappers, synthetic: parent.synthetic, keyOrigin };
}

export class ConfigNode {
  /** The children asked for so far (made on the first: most nodes are leaves nobody asks below). */
  private children: Map<string, ConfigNode> | undefined;
  private filtered: { definitions: Definition[]; uncertain: boolean } | undefined;
  /**
   * The last result that a late condition still undecided kept from being settled, with the revision and the count of
   * events (`lateConditionsEpoch`) it was made in: it answers again until one of them changes. A condition over an
   * option nothing readable defines stays undecided for the whole analysis, and every rule reading the node asked.
   */
  private unsettled: { filtered: { definitions: Definition[]; uncertain: boolean }; revision: number; epoch: number } | undefined;
  private isElement: boolean | undefined;
  private allCovers: Cover[] | undefined;
  /**
   * The path, made when first asked. A child knows its parent and its name: most nodes are leaves a rule reads once
   * (the disko layout asks every dataset for a dozen options it seldom sets) and never ask for their path.
   */
  private fullPath: string[] | undefined;
  private parentNode: ConfigNode | undefined;
  private nameInParent = '';
  /** The length of the path, known without making it. */
  private depth: number;
  /** The element levels the path matches or leads to (`elementPatternsBelow`). */
  private elementPatterns: number;

  constructor(
    path: string[],
    readonly definitions: Definition[],
    /** Covers met at this node itself (those of the nodes above it are `inherited`). */
    private readonly ownCovers: Cover[],
    /** Covers that start at a path below this node (taken up by the child at their path). */
    private readonly scoped: ScopedCover[] = [],
    /**
     * The covers of the node above, which hold here too. Kept apart and joined when first asked: most nodes add
     * none, and copying a parent's list into every child made each edit of a host with many unreadable modules
     * allocate a list per option read.
     */
    private readonly inherited: readonly Cover[] = [],
  ) {
    this.fullPath = path;
    this.depth = path.length;
    this.elementPatterns = elementPatternsOf(path);
  }

  /** A child node, which makes its path from its parent's when asked. */
  private static below(parent: ConfigNode, name: string, definitions: Definition[], ownCovers: Cover[], scoped: ScopedCover[]): ConfigNode {
    const node = new ConfigNode(NO_PATH, definitions, ownCovers, scoped, parent.covers);
    node.fullPath = undefined;
    node.parentNode = parent;
    node.nameInParent = name;
    node.depth = parent.depth + 1;
    node.elementPatterns = parent.elementPatterns === 0 ? 0 : elementPatternsBelow(parent.elementPatterns, parent.depth, name);
    return node;
  }

  get path(): string[] {
    if (this.fullPath) return this.fullPath;
    this.fullPath = [...this.parentNode!.path, this.nameInParent];
    this.parentNode = undefined;
    return this.fullPath;
  }

  /** Contributions that might define anything at this path: the node's own and those of every node above it. */
  get covers(): Cover[] {
    if (this.allCovers) return this.allCovers;
    this.allCovers = this.inherited.length === 0 ? this.ownCovers : this.ownCovers.length === 0 ? (this.inherited as Cover[]) : [...this.inherited, ...this.ownCovers];
    return this.allCovers;
  }

  get elementLevel(): boolean {
    if (this.isElement === undefined) {
      this.isElement = false;
      for (let index = 0; index < ELEMENT_LEVELS.length && !this.isElement; index++) {
        this.isElement = (this.elementPatterns & (1 << index)) !== 0 && ELEMENT_LEVELS[index].length === this.depth;
      }
    }
    return this.isElement;
  }

  /** Definitions that survive priority filtering, and whether a conditional one might override them. */
  effective(): { definitions: Definition[]; uncertain: boolean } {
    if (this.filtered) return this.filtered;
    if (this.definitions.length === 0) return (this.filtered = NO_DEFINITIONS);
    if (this.definitions.length === 1 && !this.definitions[0].late) {
      // The common case, without the filtering below: one definition is kept whatever its priority, and is
      // uncertain exactly when it is conditional.
      return (this.filtered = { definitions: this.definitions, uncertain: this.definitions[0].conditional });
    }
    // A definition under a late condition known to fail is not there; one still undecided keeps the answer from being
    // settled (it is asked again once the condition is decided). Inside a decision, a condition being decided reads as
    // undecided for that moment only: nothing is kept then.
    const deciding = someConditionDeciding();
    const unsettled = this.unsettled;
    if (!deciding && unsettled && unsettled.revision === currentRevision() && unsettled.epoch === lateConditionsEpoch()) return unsettled.filtered;
    const epoch = lateConditionsEpoch();
    const present = this.definitions.filter((definition) => !someFails(definition.late));
    const settled = present.every((definition) => !definition.late || definition.late.every((condition) => condition.value() !== undefined));
    const certain = present.filter((definition) => !definition.conditional);
    const best = Math.min(...certain.map((definition) => definition.priority), Number.POSITIVE_INFINITY);
    const kept = present.filter((definition) => (definition.conditional ? definition.priority <= best : definition.priority === best));
    const uncertain = present.some((definition) => definition.conditional && definition.priority < best);
    const filtered = { definitions: kept, uncertain };
    if (settled) this.filtered = filtered;
    else if (!deciding) this.unsettled = { filtered, revision: currentRevision(), epoch };
    return filtered;
  }

  child(name: string): ConfigNode {
    const known = this.children?.get(name);
    if (known) return known;
    const elementLevel = this.elementLevel;
    const parents = elementLevel ? this.effective().definitions : this.definitions;
    const gathered = new Gathered(this, name);
    // Index loops: this runs for every node of every analysis, and an unoptimised for-of makes an iterator each time.
    for (let index = 0; index < parents.length; index++) {
      const parent = parents[index];
      const value = parent.value;
      if (value.kind === 'symbol') {
        // `fileSystems = config.x;`: a whole set we cannot see into.
        gathered.addCover({ what: `${this.path.join('.')} is the value of ${value.path.join('.')}`, origin: parent.origin, conditional: eagerConditional(parent) || !!parent.late });
        continue;
      }
      if (value.kind !== 'attrs') continue;
      const entry = value.entries.get(name);
      if (entry) expandAttribute(parent, name, entry, elementLevel, gathered);
      for (const unknownKey of value.unknownKeys) {
        const keyName = nameOf(unknownKey);
        if (keyName === name) expand(unknownKey.thunk, contextBelow(parent, elementLevel, unknownKey.keyOrigin), gathered);
        else if (keyName === undefined) gathered.addCover({ what: `${this.path.join('.')}.<name> where ${unknownKey.reason.reason}`, origin: unknownKey.keyOrigin, conditional: eagerConditional(parent) || !!parent.late });
      }
      if (value.open) gathered.addCover({ what: value.open.reason, origin: value.origin, conditional: eagerConditional(parent) || !!parent.late });
    }
    // Covers of opaque modules that start below this node: the child's own where they end at it, passed on where they
    // reach further (a list is made only when one does).
    let scopedBelow = NO_SCOPED;
    for (let index = 0; index < this.scoped.length; index++) {
      const scoped = this.scoped[index];
      if (!coveredName(scoped.path[this.depth], name)) continue;
      if (scoped.path.length === this.depth + 1) gathered.addCover(scoped.cover);
      else if (scopedBelow === NO_SCOPED) scopedBelow = [scoped];
      else scopedBelow.push(scoped);
    }
    // Most nodes meet no cover of their own and many no definition: those share the empty lists.
    const node = ConfigNode.below(this, name, gathered.definitions ?? NO_DEFINITIONS.definitions, gathered.covers ?? NO_COVERS, scopedBelow);
    (this.children ??= new Map()).set(name, node);
    return node;
  }

  at(...names: string[]): ConfigNode {
    let node: ConfigNode = this;
    for (const name of names) node = node.child(name);
    return node;
  }

  /** Names defined below this node by any definition (conditional ones included). */
  childNames(): string[] {
    const names = new Set<string>();
    const parents = this.elementLevel ? this.effective().definitions : this.definitions;
    for (const definition of parents) {
      if (definition.value.kind !== 'attrs') continue;
      for (const name of definition.value.entries.keys()) names.add(name);
      for (const unknownKey of definition.value.unknownKeys) {
        const name = nameOf(unknownKey);
        if (name !== undefined) names.add(name);
      }
    }
    return [...names];
  }

  /** True when some contribution below this node cannot be read: its set of names is open. */
  get open(): boolean {
    return this.covers.length > 0 || this.unknownNames().length > 0;
  }

  /** The covers that make the names of this node's children unknown. */
  unknownNames(): Cover[] {
    const result: Cover[] = [...this.covers];
    const parents = this.elementLevel ? this.effective().definitions : this.definitions;
    for (const definition of parents) {
      if (definition.value.kind === 'symbol') {
        result.push({ what: `${this.path.join('.')} is the value of ${definition.value.path.join('.')}`, origin: definition.origin, conditional: definition.conditional });
        continue;
      }
      if (definition.value.kind !== 'attrs') continue;
      for (const unknownKey of definition.value.unknownKeys) {
        if (nameOf(unknownKey) !== undefined) continue;
        result.push({ what: `${this.path.join('.')}.<name> where ${unknownKey.reason.reason}`, origin: unknownKey.keyOrigin, conditional: definition.conditional });
      }
    }
    return result;
  }

  /** True when nothing at all defines this path, and nothing unknown might. */
  get absent(): boolean {
    return this.definitions.length === 0 && this.covers.length === 0;
  }

  /**
   * True when this path has definitions and every one is under a late `mkIf` now known to be false: the module system
   * drops them all, so the attribute (a mount, a unit, a secret) is not there at all.
   */
  get dropped(): boolean {
    return this.definitions.length > 0 && this.effective().definitions.length === 0;
  }

  /** True when a definition exists that is not conditional. */
  get definedForSure(): boolean {
    return this.definitions.some((definition) => !definition.conditional);
  }

  /** A single-valued option (str, bool, int, path): known when all effective definitions agree. */
  scalar(): Resolved<Value> {
    const { definitions, uncertain } = this.effective();
    if (definitions.length === 1 && !uncertain && !definitions[0].conditional) {
      // One certain definition decides the value (the loop below would compare it with itself).
      return { state: 'known', value: definitions[0].value, definitions };
    }
    // Nothing defines most of the options a rule reads (the disko layout asks every dataset for a dozen): that answer
    // is the shared one, without a list of certain definitions to find it.
    if (definitions.length === 0 && this.covers.length === 0) return ABSENT;
    const certain = definitions.filter((definition) => !definition.conditional);
    if (certain.length === 0) {
      // Nothing certain defines it: unset, unless something conditional or unreadable might.
      if (definitions.length > 0) return { state: 'unknown', what: `${this.path.join('.')} is set only under a condition`, origin: definitions[0].origin };
      if (this.covers.length > 0) return coverUnknown(this.covers[0]);
      return { state: 'absent' };
    }
    // A certain definition decides the value: a second, different one would be a conflict that NixOS rejects,
    // so unreadable contributions elsewhere cannot change it (only a stronger priority could, written visibly).
    if (uncertain) return { state: 'unknown', what: `${this.path.join('.')} is overridden under a condition`, origin: definitions[0].origin };
    const first = certain[0];
    for (const definition of definitions) {
      const same = sameScalar(definition.value, first.value);
      if (same !== true) {
        return {
          state: 'unknown',
          what: same === false ? `${this.path.join('.')} has conflicting definitions` : `${this.path.join('.')} is ${describeUnknown(definition.value)}`,
          origin: definition.origin,
        };
      }
    }
    return { state: 'known', value: first.value, definitions: certain };
  }

  string(): Resolved<string> {
    const resolved = this.scalar();
    if (resolved.state !== 'known') return resolved;
    const text = stringText(resolved.value);
    if (text === undefined) return { state: 'unknown', what: `${this.path.join('.')} is ${describeUnknown(resolved.value)}`, origin: resolved.definitions[0].origin };
    return { state: 'known', value: text, definitions: resolved.definitions };
  }

  bool(): Resolved<boolean> {
    const resolved = this.scalar();
    if (resolved.state !== 'known') return resolved;
    if (resolved.value.kind !== 'bool') return { state: 'unknown', what: `${this.path.join('.')} is ${describeUnknown(resolved.value)}`, origin: resolved.definitions[0].origin };
    return { state: 'known', value: resolved.value.value, definitions: resolved.definitions };
  }

  /**
   * A list option: the items of every effective definition, in mkBefore/mkAfter order. `open` is set when more items
   * might come from something unknown; `conditional` items may or may not be there.
   */
  list(): ListResult {
    const items: ListItem[] = [];
    const unknowns: Cover[] = [...this.covers];
    const { definitions, uncertain } = this.effective();
    if (uncertain) unknowns.push({ what: `${this.path.join('.')} is overridden under a condition`, conditional: false });
    const ordered = [...definitions].sort((a, b) => a.order - b.order);
    for (const definition of ordered) {
      const value = definition.value;
      if (value.kind !== 'list') {
        unknowns.push({ what: `${this.path.join('.')} is ${describeUnknown(value)}`, origin: definition.origin, conditional: definition.conditional });
        continue;
      }
      for (const item of value.items) items.push({ thunk: item, definition });
    }
    return { items, unknowns, open: unknowns.length > 0 };
  }

  /** A `lines` option (scripts, hooks): each effective definition is one fragment, in order. */
  lines(): LinesResult {
    const fragments: Definition[] = [];
    const unknowns: Cover[] = [...this.covers];
    const { definitions, uncertain } = this.effective();
    if (uncertain) unknowns.push({ what: `${this.path.join('.')} is overridden under a condition`, conditional: false });
    for (const definition of [...definitions].sort((a, b) => a.order - b.order)) {
      if (definition.value.kind === 'string') fragments.push(definition);
      else unknowns.push({ what: `${this.path.join('.')} is ${describeUnknown(definition.value)}`, origin: definition.origin, conditional: definition.conditional });
    }
    return { fragments, unknowns, open: unknowns.length > 0 };
  }
}

export interface ListItem {
  thunk: Thunk;
  definition: Definition;
}
export interface ListResult {
  items: ListItem[];
  unknowns: Cover[];
  open: boolean;
}
export interface LinesResult {
  fragments: Definition[];
  unknowns: Cover[];
  open: boolean;
}

/**
 * The name of an attribute that was unknown when its set was built, if it can be computed now: a name read from
 * `config` becomes known once the host's modules are merged (config-reference.ts). A name found is kept.
 */
function nameOf(entry: UnknownKeyEntry): string | undefined {
  if (!entry.retry) return entry.name;
  if (entry.nameRevision !== currentRevision()) {
    entry.name = undefined;
    entry.nameRevision = currentRevision();
  }
  entry.name ??= entry.retry();
  return entry.name;
}

function coverUnknown(cover: Cover): Resolved<never> {
  return { state: 'unknown', what: cover.what, origin: cover.origin };
}

function sameScalar(a: Value, b: Value): boolean | undefined {
  if (a === b) return true;
  if (a.kind === 'unknown' || b.kind === 'unknown' || a.kind === 'symbol' || b.kind === 'symbol') {
    if (a.kind === 'symbol' && b.kind === 'symbol') return a.path.join('.') === b.path.join('.') ? true : undefined;
    return undefined;
  }
  if (a.kind === 'string' || a.kind === 'path') {
    const x = stringText(a);
    const y = stringText(b);
    if (x === undefined || y === undefined) return undefined;
    return x === y;
  }
  if ((a.kind === 'bool' || a.kind === 'int' || a.kind === 'float') && a.kind === b.kind) return a.value === (b as typeof a).value;
  if (a.kind === 'null' && b.kind === 'null') return true;
  if (a.kind === 'attrs' || a.kind === 'list') return undefined;
  return a.kind === b.kind ? undefined : false;
}

/**
 * What the definitions of one path contribute, gathered by `expand`. Each list is made with its first item (most paths
 * gather one definition or none, and no cover), and the path is joined only for the message of a cover.
 */
class Gathered {
  definitions: Definition[] | undefined;
  covers: Cover[] | undefined;
  /** Whether the definitions are this one's own, or an `Expansion`'s taken whole (copied before the first push). */
  private ownsDefinitions = true;
  /** The thunks `expand` forced, in order, and what each answered: set when the contributions are to be kept. */
  readonly forced: Thunk[] | undefined;
  readonly answers: Value[] | undefined;

  /** For the node `name` below `parent`; for the root without either. */
  constructor(
    readonly parent?: ConfigNode,
    readonly name?: string,
    recording = false,
  ) {
    if (recording) {
      this.forced = [];
      this.answers = [];
    }
  }

  /** The path the definitions are gathered for, dotted, as a cover's message names it. */
  get dotted(): string {
    return this.parent ? [...this.parent.path, this.name].join('.') : '';
  }

  /** Forces a thunk the expansion depends on (remembered when recording: see `Expansion`). */
  force(thunk: Thunk): Value {
    const value = thunk.force();
    if (this.forced) {
      this.forced.push(thunk);
      this.answers!.push(value);
    }
    return value;
  }

  addDefinition(definition: Definition): void {
    if (!this.definitions) this.definitions = [definition];
    else {
      if (!this.ownsDefinitions) this.takeDefinitions();
      this.definitions.push(definition);
    }
  }

  addCover(cover: Cover): void {
    if (this.covers) this.covers.push(cover);
    else this.covers = [cover];
  }

  /**
   * Adds what a kept expansion contributed. Its definitions are taken as they are while nothing else is added (most
   * paths gather from one definition of their parent); its covers, which few expansions have, are copied.
   */
  addExpansion(expansion: Expansion): void {
    const definitions = expansion.definitions;
    if (definitions) {
      if (!this.definitions) {
        this.definitions = definitions;
        this.ownsDefinitions = false;
      } else {
        if (!this.ownsDefinitions) this.takeDefinitions();
        for (let index = 0; index < definitions.length; index++) this.definitions.push(definitions[index]);
      }
    }
    if (expansion.covers) for (let index = 0; index < expansion.covers.length; index++) this.addCover(expansion.covers[index]);
  }

  /** What was gathered while recording, to be kept (`Expansion`). */
  kept(): Expansion {
    return { forced: this.forced!, answers: this.answers!, definitions: this.definitions, covers: this.covers };
  }

  private takeDefinitions(): void {
    this.definitions = [...this.definitions!];
    this.ownsDefinitions = true;
  }
}

/**
 * What expanding one thunk contributed to one path, kept for the next merge that expands it there.
 *
 * A host is merged anew on every analysis, and several times in one (hosts.ts), but the modules of the files an edit
 * did not touch are kept (value-reuse.ts): their definitions were the same, made again. Expanding a kept module's
 * values into definitions made about a third of what an edit of the largest corpus host left alive for the collector to
 * copy. The expansion of a thunk depends only on what the thunks it forced answered (the `mkIf` conditions, the
 * `mkMerge` lists, the values themselves): while each answers the same value object, the same definitions and covers
 * come out, so they are handed out again. The kept definitions are the same objects from one merge to the next; a
 * late condition among their wrappers is decided again for each configuration (late-condition.ts).
 */
interface Expansion {
  forced: Thunk[];
  answers: Value[];
  definitions: Definition[] | undefined;
  covers: Cover[] | undefined;
}

/** Whether every thunk a kept expansion forced still answers what it answered then. */
function stillAnswers(expansion: Expansion): boolean {
  for (let index = 0; index < expansion.forced.length; index++) {
    if (expansion.forced[index].force() !== expansion.answers[index]) return false;
  }
  return true;
}

/** The expansions of the attributes of a definition's value, by attribute name (`Expansion`). */
const expansionsBelow = new KeptOnKey<Definition, Map<string, Expansion>>('expansions below a definition');

/** The expansions of a module's `config`, with the file and kind of the module they were made for (`Expansion`). */
const moduleExpansions = new KeptOnKey<Thunk, { file: string; synthetic: 'disko' | undefined; expansion: Expansion }>('expansion of a module');

/** Expands a thunk for the path `into` gathers for, recording what it forced, to be kept (`Expansion`). */
function expandRecorded(thunk: Thunk, context: ExpandContext, into: Gathered): Expansion {
  const own = new Gathered(into.parent, into.name, true);
  expand(thunk, context, own);
  return own.kept();
}

/** Expands the attribute `name` of one of its parent's definitions into `into`, reusing the last expansion there. */
function expandAttribute(parent: Definition, name: string, entry: AttrEntry, elementLevel: boolean, into: Gathered): void {
  let below = expansionsBelow.get(parent);
  const kept = below?.get(name);
  if (kept && kept.forced[0] === entry.thunk && stillAnswers(kept)) {
    into.addExpansion(kept);
    return;
  }
  const expansion = expandRecorded(entry.thunk, contextBelow(parent, elementLevel, entry.keyOrigin), into);
  if (!below) expansionsBelow.set(parent, (below = new Map()));
  below.set(name, expansion);
  into.addExpansion(expansion);
}

/** Expands a module's `config` at the root, reusing the last expansion of the same module. */
function expandModule(module: ModuleDefinition, into: Gathered): void {
  const kept = moduleExpansions.get(module.config);
  if (kept && kept.file === module.file && kept.synthetic === module.synthetic && stillAnswers(kept.expansion)) {
    into.addExpansion(kept.expansion);
    return;
  }
  const expansion = expandRecorded(module.config, { conditional: false, priority: undefined, order: DEFAULT_ORDER, file: module.file, wrappers: [], synthetic: module.synthetic }, into);
  moduleExpansions.set(module.config, { file: module.file, synthetic: module.synthetic, expansion });
  into.addExpansion(expansion);
}

/** The wrappers of a definition with one more inside them (the place of an `mkIf`, `mkForce`, … when it has one). */
function wrappedIn(wrappers: Origin[], origin: Origin | undefined): Origin[] {
  return origin ? [...wrappers, origin] : wrappers;
}

/** Pushes module-system properties down into plain definitions (lib/modules.nix `pushDownProperties`). */
function expand(thunk: Thunk, context: ExpandContext, into: Gathered, depth = 0): void {
  const value = into.force(thunk);
  const origin = thunk.origin ?? value.origin;
  if (depth > 64) {
    into.addCover({ what: `${into.dotted} nests properties too deeply`, origin, conditional: context.conditional || !!context.late });
    return;
  }
  switch (value.kind) {
    case 'mkIf': {
      const condition = into.force(value.condition);
      if (condition.kind === 'bool') {
        if (condition.value) expand(value.content, { ...context, wrappers: wrappedIn(context.wrappers, value.origin ?? origin) }, into, depth + 1);
        return;
      }
      // `mkIf cfg.enable` read before `config` is: decided when a definition under it is asked about.
      const late = LateCondition.of(value.condition);
      if (late) {
        expand(value.content, { ...context, late: [...(context.late ?? []), late], wrappers: wrappedIn(context.wrappers, value.origin ?? origin) }, into, depth + 1);
        return;
      }
      expand(value.content, { ...context, conditional: true, wrappers: wrappedIn(context.wrappers, value.origin ?? origin) }, into, depth + 1);
      return;
    }
    case 'mkMerge': {
      const contents = into.force(value.contents);
      if (contents.kind !== 'list') {
        into.addCover({ what: `${into.dotted} built by lib.mkMerge over ${describeUnknown(contents)}`, origin, conditional: context.conditional || !!context.late });
        return;
      }
      for (const item of contents.items) expand(item, context, into, depth + 1);
      return;
    }
    case 'mkOverride':
      expand(value.content, { ...context, priority: context.priority ?? value.priority, wrappers: wrappedIn(context.wrappers, value.origin ?? origin) }, into, depth + 1);
      return;
    case 'mkOrder':
      expand(value.content, { ...context, order: value.priority, wrappers: wrappedIn(context.wrappers, value.origin ?? origin) }, into, depth + 1);
      return;
    case 'unknown':
      into.addCover({ what: `${into.dotted} is ${value.reason}`, origin: value.origin ?? origin, conditional: context.conditional || !!context.late });
      return;
    default:
      into.addDefinition(makeDefinition(value, origin, context));
  }
}

/** Whether a name of a scoped cover's path stands for an attribute: itself, `*` for any, `prefix*` for a prefix. */
function coveredName(pattern: string, name: string): boolean {
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** The root of a host's merged configuration. */
export function mergeModules(modules: ModuleDefinition[], opaque: OpaqueModule[]): ConfigNode {
  const root = new Gathered();
  const scoped: ScopedCover[] = [];
  for (const module of opaque) {
    const cover = { what: module.what, origin: module.origin, conditional: false };
    if (!module.paths) root.addCover(cover);
    else for (const coveredPath of module.paths) scoped.push({ path: coveredPath, cover });
  }
  for (const module of modules) expandModule(module, root);
  return new ConfigNode([], root.definitions ?? [], root.covers ?? [], scoped);
}
