/**
 * `config` as a host's modules see it: the host's merged configuration, read lazily, as the module system's fixpoint.
 *
 * Real repositories route values through options of their own: `options.homelab.mounts.fast = lib.mkOption { default
 * = "/mnt/fast"; }` in one module, `fileSystems.${config.homelab.mounts.fast} = …` in another. Each host's modules get a
 * `config` argument that is a symbol carrying this reference. While the modules are being collected the reference
 * answers nothing (the symbol stays unknown, as before); once they are merged, `config.x.y` reads the merged value
 * of `x.y`, or the default of the option a module of the host declares there. What it cannot know it does not
 * answer: an option nothing in the host defines or declares (NixOS's own defaults are not modelled), a list that
 * NixOS's modules may extend, a path an unreadable module might define, a cycle — all stay unknown.
 */
import type { ConfigNode, Cover } from './config';
import { AnswerCheck, currentRevision, isolated, recordAnswerCheck } from './dependencies';
import { configChanged, someConditionDeciding } from './late-condition';
import { optionTypeOf } from './option-types';
import { type AttrEntry, type AttrsValue, type ConfigReader, type ListValue, type Origin, type Thunk, type UnknownValue, type Value, LazyThunk, unknown } from './values';

/** An option a module of the host declares (`lib.mkOption`, `lib.mkEnableOption`), by its path. */
export interface OptionDeclaration {
  path: string[];
  /** The `default` given to `mkOption`, when there is one. */
  default?: Thunk;
  origin?: Origin;
  /**
   * Its type is a submodule (option-types.ts): its value is a set of the submodule's options, each read on its own
   * (a definition, else that option's default). Set too for the elements of an `attrsOf (submodule …)`, whose path
   * holds `*` for the element's name.
   */
  submodule?: boolean;
}

/**
 * Declarations by path, where a path element `*` stands for any name (the elements of an `attrsOf` submodule). A node
 * is read lazily: `pending` holds the values found at its path (a module's `options`, a set below it, a submodule's
 * options) that have not been looked into yet.
 */
interface DeclarationTrie {
  path: readonly string[];
  declaration?: OptionDeclaration;
  children: Map<string, DeclarationTrie>;
  pending: PendingDeclarations[];
  /** Whether a declaration lies at or below this node, once known. */
  declaresBelow?: boolean;
}

interface PendingDeclarations {
  value: Thunk;
  depth: number;
}

/** A module's `options` value, to be read for declarations once the host is collected. */
export interface DeclarationSource {
  file: string;
  options: Thunk;
}

/** How deep option declarations are searched below `options` (nested attribute sets of declarations). */
const MAX_DECLARATION_DEPTH = 24;

const NONE: DeclarationTrie[] = [];

/** What one pending value holds: a declaration at its node, and values to look into further down. */
interface Expansion {
  declaration?: Omit<OptionDeclaration, 'path'>;
  /** More values at the same node (a submodule's options). */
  here: PendingDeclarations[];
  /** Values at child nodes, by name (`*` for the elements of an `attrsOf` submodule). */
  below: [string, PendingDeclarations][];
  /** The `*` child's own declaration (an element of an `attrsOf` submodule). */
  element?: Omit<OptionDeclaration, 'path'>;
}

/**
 * The options a host's modules declare. Reading them is lazy: a host with fifty service modules, each declaring a
 * dozen options with submodule types, has a rule read three or four namespaces of them, so only the nodes a lookup
 * passes through are looked into (the rest of an edit's analysis never forces those options' types).
 */
export class Declarations {
  private readonly root: DeclarationTrie = { path: [], children: new Map(), pending: [] };

  constructor(sources: DeclarationSource[]) {
    for (const source of sources) this.root.pending.push({ value: source.options, depth: 0 });
  }

  /**
   * Looks into a node's pending values, in the order they were found (the first of two declarations of one option
   * wins, as before). Everything a value forces is forced before anything is recorded, and the value leaves the queue
   * only then: an analysis interrupted by its time slice (budget.ts) finds the queue as it was and goes on.
   */
  private expand(node: DeclarationTrie): void {
    const path = node.path;
    while (node.pending.length > 0) {
      const expansion = this.expansionOf(node.pending[0]);
      node.pending.shift();
      if (expansion.declaration && !node.declaration) node.declaration = { path: [...path], ...expansion.declaration };
      node.pending.push(...expansion.here);
      for (const [name, pending] of expansion.below) this.childOf(node, name).pending.push(pending);
      if (expansion.element) {
        const element = this.childOf(node, '*');
        element.declaration ??= { path: [...path, '*'], ...expansion.element };
      }
    }
  }

  private expansionOf({ value: thunk, depth }: PendingDeclarations): Expansion {
    const expansion: Expansion = { here: [], below: [] };
    if (depth > MAX_DECLARATION_DEPTH) return expansion;
    const value = thunk.force();
    if (value.kind === 'option') {
      const args = value.args.force();
      const fallback = args.kind === 'attrs' ? args.entries.get('default')?.thunk : undefined;
      const typeThunk = args.kind === 'attrs' ? args.entries.get('type')?.thunk : undefined;
      const type = typeThunk ? optionTypeOf(typeThunk.force()) : undefined;
      expansion.declaration = { default: fallback, origin: value.origin, submodule: type?.kind === 'submodule' };
      if (type?.kind === 'submodule') {
        for (const options of type.options) expansion.here.push({ value: options, depth: depth + 1 });
      } else if (type?.kind === 'attrsOf') {
        const element = optionTypeOf(type.element.force());
        if (element?.kind === 'submodule') {
          expansion.element = { origin: value.origin, submodule: true };
          for (const options of element.options) expansion.below.push(['*', { value: options, depth: depth + 1 }]);
        }
      }
      return expansion;
    }
    if (value.kind === 'attrs') for (const [name, entry] of value.entries) expansion.below.push([name, { value: entry.thunk, depth: depth + 1 }]);
    return expansion;
  }

  private childOf(node: DeclarationTrie, name: string): DeclarationTrie {
    let child = node.children.get(name);
    if (!child) node.children.set(name, (child = { path: [...node.path, name], children: new Map(), pending: [] }));
    return child;
  }

  /** Whether a declaration lies at or below a node (looked into only as far as the first one found). */
  private declaresBelow(node: DeclarationTrie): boolean {
    if (node.declaresBelow !== undefined) return node.declaresBelow;
    this.expand(node);
    let found = node.declaration !== undefined;
    for (const child of node.children.values()) {
      if (found) break;
      found = this.declaresBelow(child);
    }
    node.declaresBelow = found;
    return found;
  }

  /**
   * The trie nodes a path reaches, a name matching itself or `*`, each looked into. Most paths meet no `*` on the
   * way (every read of `config` asks, several times), so one node is followed, without a list per step, until a
   * second one appears.
   */
  private reach(path: string[]): readonly DeclarationTrie[] {
    this.expand(this.root);
    let single: DeclarationTrie | undefined = this.root;
    let nodes: DeclarationTrie[] = NONE;
    for (const name of path) {
      if (single) {
        const exact: DeclarationTrie | undefined = this.declaringChild(single, name);
        const any: DeclarationTrie | undefined = name === '*' ? undefined : this.declaringChild(single, '*');
        if (exact && any) {
          nodes = [exact, any];
          single = undefined;
        } else if (exact || any) {
          single = exact ?? any;
        } else {
          return NONE;
        }
        continue;
      }
      const next: DeclarationTrie[] = [];
      for (const node of nodes) {
        const exact = this.declaringChild(node, name);
        if (exact) next.push(exact);
        const any = name === '*' ? undefined : this.declaringChild(node, '*');
        if (any) next.push(any);
      }
      if (next.length === 0) return NONE;
      nodes = next;
    }
    return single ? [single] : nodes;
  }

  /** A node's child of that name when a declaration lies at or below it. */
  private declaringChild(node: DeclarationTrie, name: string): DeclarationTrie | undefined {
    const child = node.children.get(name);
    return child && this.declaresBelow(child) ? child : undefined;
  }

  get(path: string[]): OptionDeclaration | undefined {
    // An exact declaration comes before one for any element name.
    for (const node of this.reach(path)) if (node.declaration) return node.declaration;
    return undefined;
  }

  /** The names declared directly below a path (not `*`), or undefined when no declaration lies below it. */
  childrenOf(path: string[]): Set<string> | undefined {
    const names = new Set<string>();
    let any = false;
    for (const node of this.reach(path)) {
      for (const [name, child] of node.children) {
        if (!this.declaresBelow(child)) continue;
        any = true;
        if (name !== '*') names.add(name);
      }
    }
    return any ? names : undefined;
  }

  /** Whether the option at a path is a set of submodules (`attrsOf (submodule …)`): its elements are declared as `*`. */
  hasElements(path: string[]): boolean {
    return this.reach(path).some((node) => {
      const element = node.children.get('*');
      return element !== undefined && this.declaresBelow(element);
    });
  }
}

/** The value of a declared option that something unreadable might define: unknown, naming what. */
function coveredBy(path: string[], cover: Cover, origin?: Origin): UnknownValue {
  return unknown(`config.${path.join('.')}, which ${cover.what} might define`, origin);
}

/**
 * A read of `config` (after the merge, or before it, when it answers nothing), as a value kept for the next analysis
 * depends on it (value-reuse.ts): the value holds there while the same read answers the very same value object.
 * Answers are compared by identity, which needs no deep comparison and is never wrong: a definition in a module whose
 * value was kept answers the same object, and so do sets of options and lists whose members are the same
 * (`namespace`, `keep`); anything else is a new object, and the value that read it is computed again.
 */
class ConfigAnswer extends AnswerCheck {
  /** When the check was last decided (a revision and the reference's state then), and what it found. */
  private checkedIn = -1;
  private checkedInState = -1;
  private held = false;

  constructor(
    private readonly reference: ConfigReference,
    private readonly path: string[],
    private readonly origin: Origin | undefined,
    readonly answer: Value | undefined,
  ) {
    super();
  }

  stillHolds(): boolean {
    // While a late condition is being decided, the same read may answer otherwise than outside (late-condition.ts):
    // asked then, the check is decided for that moment only.
    if (someConditionDeciding()) return this.askAgain() === this.answer;
    const revision = currentRevision();
    const state = this.reference.state;
    if (this.checkedIn !== revision || this.checkedInState !== state) {
      this.checkedIn = revision;
      this.checkedInState = state;
      // Decided as failing while it is asked: met again inside its own answer (a cycle), it fails.
      this.held = false;
      this.held = this.askAgain() === this.answer;
    }
    return this.held;
  }

  /** The read made again now: in a frame of its own, as what it computes belongs to no value being computed. */
  private askAgain(): Value | undefined {
    return isolated(() => this.reference.read(this.path, this.origin));
  }
}

/** A value of a read that is made anew from the merge (a set of options, a list, an unknown), kept to be answered again. */
type Stable = AttrsValue | ListValue | UnknownValue;

/**
 * Something kept from one analysis to the next for a read, by its place and path. By origin object weakly: the places
 * of an edited file are new objects, and what was kept for the old ones goes with them.
 */
class KeptByPlace<T> {
  private readonly byOrigin = new WeakMap<Origin, Map<string, T>>();
  private readonly withoutOrigin = new Map<string, T>();

  get(origin: Origin | undefined, path: string[]): T | undefined {
    return (origin ? this.byOrigin.get(origin) : this.withoutOrigin)?.get(path.join('\0'));
  }

  set(origin: Origin | undefined, path: string[], value: T): void {
    let byPath = origin ? this.byOrigin.get(origin) : this.withoutOrigin;
    if (!byPath) this.byOrigin.set(origin!, (byPath = new Map()));
    byPath.set(path.join('\0'), value);
  }
}

export class ConfigReference implements ConfigReader {
  private root: ConfigNode | undefined;
  private declarations: Declarations | undefined;
  /**
   * What each read answered, by the place that reads (its origin object, shared by every read there) and path. A
   * host reads the same option over and over: each definition under `mkIf cfg.enable` asks its late condition
   * again while the answer is not a boolean, and every module reads `config.<its namespace>`.
   */
  private answers = new Map<Origin | undefined, Map<string, ConfigAnswer>>();
  /**
   * The values made anew for a read in earlier analyses: a read that makes an equal one answers the kept one instead,
   * so that what read it can be kept too (`ConfigAnswer`).
   */
  private readonly made = new KeptByPlace<Stable>();
  /** The checks of reads made while `config` is unreadable (they answer nothing). */
  private readonly unreadable = new KeptByPlace<ConfigAnswer>();
  /** Counts the changes between readable and unreadable: a check decided in one state is asked again in the next. */
  state = 0;

  /** Makes `config` readable: the host's merged configuration and the options its modules declare. */
  attach(root: ConfigNode, declarations: Declarations): void {
    this.root = root;
    this.declarations = declarations;
    this.answers = new Map();
    this.state++;
    configChanged();
  }

  /**
   * Makes `config` unreadable again, as it is while a host's modules are collected: a reference kept for the next
   * analysis of the same host (value-reuse.ts) starts that analysis as a new one would.
   */
  detach(): void {
    this.root = undefined;
    this.declarations = undefined;
    this.answers = new Map();
    this.state++;
    configChanged();
  }

  read(path: string[], origin?: Origin): Value | undefined {
    const root = this.root;
    const declarations = this.declarations;
    // A value computed before the merge saw nothing here. The next analysis may compute it before its merge too, and
    // then sees the same; computed after, the check asks the merged configuration and finds whether it differs.
    if (!root || !declarations) {
      recordAnswerCheck(this.unreadableCheck(path, origin));
      return undefined;
    }
    // A read made while a late condition is being decided may see it as unknown (late-condition.ts): its answer is
    // not kept for other reads, and its check compares what the read answers wherever it is asked again.
    if (someConditionDeciding()) {
      const answer = this.answer(root, declarations, path, origin);
      recordAnswerCheck(new ConfigAnswer(this, path, origin, answer));
      return answer;
    }
    let byPath = this.answers.get(origin);
    if (!byPath) this.answers.set(origin, (byPath = new Map()));
    const key = path.join('\0');
    let answered = byPath.get(key);
    if (!answered) {
      answered = new ConfigAnswer(this, path, origin, this.answer(root, declarations, path, origin));
      byPath.set(key, answered);
    }
    recordAnswerCheck(answered);
    return answered.answer;
  }

  private unreadableCheck(path: string[], origin: Origin | undefined): ConfigAnswer {
    let check = this.unreadable.get(origin, path);
    if (!check) this.unreadable.set(origin, path, (check = new ConfigAnswer(this, path, origin, undefined)));
    return check;
  }

  /**
   * A value this reference makes anew for a read (a list of definitions, an unknown), or the one an earlier analysis
   * made at the same place and path when they are equal: a list of the same item thunks, an unknown for the same
   * reason. (A set of options is kept by `namespace` itself, while it has the same names and openness: its members
   * are read on lazily, each a read of its own.) Values read from definitions pass through as they are, never
   * through this.
   */
  private keep<T extends Stable>(origin: Origin | undefined, path: string[], made: T): T {
    const kept = this.made.get(origin, path);
    if (kept && sameMade(kept, made)) return kept as T;
    this.made.set(origin, path, made);
    return made;
  }

  /** What a read of `config.<path>` gives, computed afresh. */
  private answer(root: ConfigNode, declarations: Declarations, path: string[], origin: Origin | undefined): Value | undefined {
    const node = root.at(...path);
    const declared = declarations.get(path);
    if (declared) return this.option(node, declared, path, origin);
    if (declarations.childrenOf(path)) return this.namespace(node, path, origin, true);
    // An option the host's modules do not declare (NixOS's own): only what they define is known, and only a single
    // value — NixOS's modules may add to a list or a set, so those stay open.
    const { definitions } = node.effective();
    if (definitions.length === 0) return undefined;
    if (definitions.every((definition) => definition.value.kind === 'attrs')) return this.namespace(node, path, origin, false);
    if (definitions.some((definition) => definition.value.kind === 'list' || definition.value.kind === 'attrs')) return undefined;
    const resolved = node.scalar();
    return resolved.state === 'known' ? resolved.value : undefined;
  }

  /** A declared option: its merged definitions, else its default when nothing unreadable might define it. */
  private option(node: ConfigNode, declared: OptionDeclaration, path: string[], origin?: Origin): Value | undefined {
    const { definitions } = node.effective();
    if (declared.submodule) {
      // A submodule's value is its options, each merged on its own. A default that sets some of them is a definition
      // of those, which is not followed here: it stays unknown.
      if (definitions.length === 0 && declared.default) {
        const fallback = declared.default.force();
        if (fallback.kind !== 'attrs' || fallback.entries.size > 0 || fallback.unknownKeys.length > 0) return undefined;
      }
      if (definitions.every((definition) => definition.value.kind === 'attrs')) return this.namespace(node, path, origin, true);
      return undefined;
    }
    if (definitions.length === 0) {
      // A module that cannot be read might define it: the value is unknown for that module's sake, and says so (so
      // --explain counts it under the module's cause: a missing file, an unknown input).
      if (node.covers.length > 0) return this.keep(origin, path, coveredBy(path, node.covers[0], origin));
      if (!declared.default) return undefined;
      return declared.default.force();
    }
    if (definitions.every((definition) => definition.value.kind === 'attrs')) {
      // A set of submodules the repository declares holds the elements its modules define, and no others, unless
      // something unreadable might define more (the namespace is then open) or an element is there only under a
      // condition (then which elements exist is not known either).
      const own = this.declarations?.hasElements(path) === true && definitions.every((definition) => !definition.conditional);
      return this.namespace(node, path, origin, own);
    }
    if (definitions.every((definition) => definition.value.kind === 'list')) {
      const list = node.list();
      if (node.covers.length > 0) return this.keep(origin, path, coveredBy(path, node.covers[0], origin));
      if (list.open || list.items.some((item) => item.definition.conditional)) return undefined;
      return this.keep(origin, path, { kind: 'list', items: list.items.map((item) => item.thunk), origin });
    }
    const resolved = node.scalar();
    return resolved.state === 'known' ? resolved.value : undefined;
  }

  /** A member of a set of options, read when it is used (most members of a namespace never are). */
  private member(path: string[], name: string, origin: Origin | undefined): Value {
    const childPath = [...path, name];
    return this.read(childPath, origin) ?? { kind: 'symbol', path: ['config', ...childPath], origin, config: this };
  }

  /**
   * A set of options: an attribute set whose members read on. It is open (a missing member is unknown, not absent)
   * unless the host's own modules declare the whole namespace and nothing unreadable defines into it.
   */
  private namespace(node: ConfigNode, path: string[], origin: Origin | undefined, ownNamespace: boolean): Value {
    const names = new Set(node.childNames());
    for (const name of this.declarations?.childrenOf(path) ?? []) names.add(name);
    const open = !ownNamespace || node.open;
    // The set an earlier analysis made here, when it says the same, before making a member for every name: a set
    // such as `config.systemd.services` has hundreds, and most reads of it find it unchanged.
    const kept = this.made.get(origin, path);
    if (kept?.kind === 'attrs' && (kept.open !== undefined) === open && sameNames(kept, names)) return kept;
    const entries = new Map<string, AttrEntry>();
    for (const name of names) entries.set(name, { thunk: new LazyThunk(() => this.member(path, name, origin), origin) });
    const attrs: AttrsValue = open
      ? {
          kind: 'attrs',
          entries,
          unknownKeys: [],
          origin,
          open: unknown(`a member of config.${path.join('.')} that is not defined or declared by a module in reach`, origin),
          // A member nothing in reach defines stays `config.<path>` by name (an option of NixOS or of an input module,
          // such as `config.sops.secrets.<n>.path`), as it was before the merge: rules recognise such names. Written
          // in the literal, as in `moduleArguments` (modules.ts): assigned afterwards, the closure (and this whole
          // reference with its merged configuration) outlived the analysis in every scavenge.
          fallback: (name, at) => ({ kind: 'symbol', path: ['config', ...path, name], origin: at ?? origin, config: this }),
        }
      : { kind: 'attrs', entries, unknownKeys: [], origin };
    this.made.set(origin, path, attrs);
    return attrs;
  }
}

/** Whether a kept set of options has exactly these names, in this order, and no names it could not read. */
function sameNames(kept: AttrsValue, names: Set<string>): boolean {
  if (kept.entries.size !== names.size || kept.unknownKeys.length > 0) return false;
  const wanted = names.values();
  for (const name of kept.entries.keys()) if (wanted.next().value !== name) return false;
  return true;
}

/** Whether two values made anew for one read say the same (see `ConfigReference.keep`). */
function sameMade(kept: Stable, made: Stable): boolean {
  if (kept.kind === 'unknown' || made.kind === 'unknown') return kept.kind === 'unknown' && made.kind === 'unknown' && kept.reason === made.reason;
  if (kept.kind === 'list' || made.kind === 'list') {
    if (kept.kind !== 'list' || made.kind !== 'list' || kept.items.length !== made.items.length) return false;
    return kept.items.every((item, index) => item === made.items[index]);
  }
  // Sets of options are compared before they are made (`ConfigReference.namespace`): a set made anew is a new one.
  return false;
}
