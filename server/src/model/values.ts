/**
 * Values of the three-valued partial evaluator.
 *
 * Every value is either known (a Nix value we could compute from the source in reach) or `unknown`, with the reason
 * and the place. Nothing is ever guessed: a rule that meets an unknown value stays silent (RULES.md, "Three values").
 * Module-system properties (`lib.mkIf`, `lib.mkMerge`, `lib.mkOverride`, `lib.mkOrder`) stay wrapped as values so
 * that the module layer can interpret them, and names we cannot see into (`pkgs.zfs`, `config.x`, flake inputs)
 * are `symbol`s that keep their attribute path.
 */
import type { SyntaxNode } from '../syntax/parser';
import { activeBudget, allocate, textCells } from './budget';
import { type Dependencies, currentRevision, holds, inheritDependencies, isEmpty, isTracking, keepsRecomputation, trackDependencies } from './dependencies';

/** A place in a file, in UTF-16 offsets. */
export interface Origin {
  file: string;
  start: number;
  end: number;
}

export interface Thunk {
  force(): Value;
  /** Where the expression behind this thunk is written, when it is written somewhere. */
  readonly origin?: Origin;
}

export interface NullValue {
  kind: 'null';
  origin?: Origin;
}
export interface BoolValue {
  kind: 'bool';
  value: boolean;
  origin?: Origin;
}
export interface NumberValue {
  kind: 'int' | 'float';
  value: number;
  origin?: Origin;
}

/**
 * One piece of a string. A piece with `origin` maps character for character onto the source text
 * (`origin.start + i` is where character `i` is written), which lets findings point inside a script.
 */
export interface StringPiece {
  text: string;
  origin?: Origin;
  /** The piece stands for an interpolated symbol such as `${pkgs.zfs}`; `text` is a stand-in store path. */
  symbol?: string[];
  /** For a symbol piece: where the `${…}` that produced it is written (it does not map character for character). */
  written?: Origin;
  /** The piece could not be computed; `text` is empty. */
  unknown?: UnknownValue;
}

export interface StringValue {
  kind: 'string';
  pieces: StringPiece[];
  origin?: Origin;
}

export interface PathValue {
  kind: 'path';
  path: string;
  origin?: Origin;
}

export interface ListValue {
  kind: 'list';
  items: Thunk[];
  origin?: Origin;
}

export interface AttrEntry {
  thunk: Thunk;
  /** Where the attribute name is written (the last attrpath element that introduced it). */
  keyOrigin?: Origin;
}

/** An attribute whose name could not be computed, e.g. `fileSystems.${cfg.mountpoint} = …`. */
export interface UnknownKeyEntry {
  reason: UnknownValue;
  thunk: Thunk;
  keyOrigin?: Origin;
  /**
   * Computes the name again. A name read from `config` is unknown while the host's modules are being collected and
   * may be known once they are merged (config-reference.ts); the merge asks again.
   */
  retry?: () => string | undefined;
  /** The name `retry` found, once it found one. */
  name?: string;
  /**
   * The revision (dependencies.ts) `name` was found in. A set kept from an earlier analysis (value-reuse.ts) asks
   * again: the name may come from `config`, which another analysis merged differently.
   */
  nameRevision?: number;
}

export interface AttrsValue {
  kind: 'attrs';
  entries: Map<string, AttrEntry>;
  unknownKeys: UnknownKeyEntry[];
  origin?: Origin;
  /** The whole set is a stand-in with unknown extra members (a function's `...` arguments). */
  open?: UnknownValue;
  /** For an open set: a member it does not list may still be found here (module arguments set by `_module.args`). */
  fallback?: (name: string, origin?: Origin) => Value | undefined;
}

export interface LambdaValue {
  kind: 'lambda';
  node: SyntaxNode;
  env: Env;
  file: string;
  origin?: Origin;
}

export interface PrimopValue {
  kind: 'primop';
  name: string;
  arity: number;
  args: Thunk[];
  impl: (args: Thunk[], call: CallSite) => Value;
  origin?: Origin;
}

/** Where a function is applied: used for origins and unknown reasons. */
export interface CallSite {
  origin?: Origin;
  evaluator: EvaluatorLike;
}

export interface UnknownValue {
  kind: 'unknown';
  /** Human text: what could not be computed and why ("value of module option config.x"). */
  reason: string;
  origin?: Origin;
}

/** `pkgs.zfs`, `config.boot.zfs.package`, `inputs.disko.nixosModules.disko`, `modulesPath`, … */
export interface SymbolValue {
  kind: 'symbol';
  path: string[];
  origin?: Origin;
  /** For `config.…` of one host: reads the host's merged configuration once its modules are collected. */
  config?: ConfigReader;
}

/** Reads an option path of a host's merged configuration; undefined while it is not known (config-reference.ts). */
export interface ConfigReader {
  read(path: string[], origin?: Origin): Value | undefined;
  /** Counts the changes between readable and unreadable (config-reference.ts): a read answers alike within one. */
  readonly state: number;
}

export type PropertyValue =
  | { kind: 'mkIf'; condition: Thunk; content: Thunk; origin?: Origin }
  | { kind: 'mkMerge'; contents: Thunk; origin?: Origin }
  | { kind: 'mkOverride'; priority: number; content: Thunk; origin?: Origin }
  | { kind: 'mkOrder'; priority: number; content: Thunk; origin?: Origin };

/** `lib.nixosSystem { modules = …; specialArgs = …; }`, kept whole for host discovery. */
export interface NixosSystemValue {
  kind: 'nixosSystem';
  args: Thunk;
  /** The flake input whose `lib.nixosSystem` built it (for the release), when known. */
  input?: string;
  origin?: Origin;
}

/** `lib.mkOption { … }`: an option declaration. Only its default matters to us. */
export interface OptionValue {
  kind: 'option';
  args: Thunk;
  origin?: Origin;
}

export type Value =
  | NullValue
  | BoolValue
  | NumberValue
  | StringValue
  | PathValue
  | ListValue
  | AttrsValue
  | LambdaValue
  | PrimopValue
  | UnknownValue
  | SymbolValue
  | PropertyValue
  | NixosSystemValue
  | OptionValue;

/** A lexical or `with` scope. */
export interface Env {
  vars?: Map<string, Thunk>;
  /** A `with e;` scope: searched only when no lexical binding has the name. */
  withScope?: Thunk;
  parent?: Env;
}

/** The part of the evaluator that primops may call back into. */
export interface EvaluatorLike {
  apply(fn: Value, arg: Thunk, site: CallSite): Value;
  importFile(path: string, site: CallSite): Value;
  /** The entries of a folder, or why it cannot be read (a path outside the analysis is never listed). */
  readDir(path: string): Map<string, string> | string;
  /** Whether a path exists, or why that is not ours to tell. */
  pathExists(path: string): boolean | string;
  /** A small file's text, or why it is not read. */
  readText(path: string): string | { refused: string };
  step(): boolean;
}

export class ValueThunk implements Thunk {
  constructor(
    private readonly value: Value,
    readonly origin?: Origin,
  ) {}
  force(): Value {
    return this.value;
  }
}

export class LazyThunk implements Thunk {
  private state: 'idle' | 'forcing' | 'done' = 'idle';
  private value: Value | undefined;
  /** The revision (dependencies.ts) in which the value was computed or last found to hold. */
  private revision = 0;
  constructor(
    private compute: (() => Value) | undefined,
    readonly origin?: Origin,
  ) {}
  /** What computing the value read (only while a caller tracks dependencies); handed on each time it is used. */
  private dependencies: Dependencies | undefined;
  /** Whether the value was computed while reads were tracked (so `dependencies` says all it read). */
  private tracked = false;
  force(): Value {
    if (this.state === 'done') {
      if (this.compute === undefined || this.revision === currentRevision() || this.holdsAgain()) {
        this.revision = currentRevision();
        inheritDependencies(this.dependencies);
        return this.value as Value;
      }
      // Kept from an earlier analysis, and something it read has changed since, or it was computed where nothing
      // recorded what it read, or this host's budget is spent: computed again, as a fresh analysis would.
      this.state = 'idle';
      this.value = undefined;
      this.dependencies = undefined;
    }
    if (this.state === 'forcing') return unknown('infinite recursion while evaluating this value', this.origin);
    this.state = 'forcing';
    let value: Value;
    let dependencies: Dependencies | undefined;
    const tracking = isTracking();
    try {
      if (tracking) {
        const tracked = trackDependencies(this.compute as () => Value);
        value = tracked.value;
        if (!isEmpty(tracked.dependencies)) dependencies = tracked.dependencies;
      } else {
        value = (this.compute as () => Value)();
      }
    } catch (error) {
      // An interrupted computation (a time slice that ended, a stack overflow) leaves the thunk as it was: forced
      // again later, it computes again, instead of answering with a value that was never computed.
      this.state = 'idle';
      throw error;
    }
    if (activeBudget().exceeded) {
      // The value was cut short by this host's budget: it holds for this host (every further force answers unknown
      // at once) but must not stand for another host that shares the thunk and has a budget of its own.
      this.state = 'idle';
      return value;
    }
    this.state = 'done';
    this.value = value;
    this.dependencies = dependencies;
    this.tracked = tracking;
    this.revision = currentRevision();
    // A later analysis may ask for the value again (value-reuse.ts) and need to compute it again.
    if (!keepsRecomputation()) this.compute = undefined;
    return value;
  }

  /**
   * Whether a value computed in an earlier analysis holds in this one: it was computed while its reads were tracked
   * and they all still answer the same. Not once the active host's budget is spent: a fresh analysis would compute
   * nothing more then, and a kept value must not let this one see further than that.
   */
  private holdsAgain(): boolean {
    if (!this.tracked || activeBudget().exceeded) return false;
    return this.dependencies === undefined || holds(this.dependencies);
  }
}

export function known(value: Value): Thunk {
  return new ValueThunk(value, value.origin);
}

export function unknown(reason: string, origin?: Origin): UnknownValue {
  return { kind: 'unknown', reason, origin };
}

export function str(text: string, origin?: Origin): StringValue {
  // Charged after the fact (the text exists already): a builtin that built a huge text stops the host's next step.
  if (text.length > 4096) allocate(textCells(text.length));
  return { kind: 'string', pieces: [{ text, origin }], origin };
}

export function emptyAttrs(origin?: Origin): AttrsValue {
  return { kind: 'attrs', entries: new Map(), unknownKeys: [], origin };
}

export function attrsOf(record: Record<string, Value>, origin?: Origin): AttrsValue {
  const attrs = emptyAttrs(origin);
  for (const [name, value] of Object.entries(record)) attrs.entries.set(name, { thunk: known(value) });
  return attrs;
}

export function isProperty(value: Value): value is PropertyValue {
  return value.kind === 'mkIf' || value.kind === 'mkMerge' || value.kind === 'mkOverride' || value.kind === 'mkOrder';
}

/**
 * The text of a string whose every piece is known, else undefined. An interpolated symbol (`${pkgs.zfs}`,
 * `${config.x}`) makes the text unknown here; scripts, which only need to see that a word names a store path, read
 * the stand-in pieces directly.
 */
export function stringText(value: Value): string | undefined {
  if (value.kind === 'path') return value.path;
  if (value.kind !== 'string') return undefined;
  let text = '';
  for (const piece of value.pieces) {
    if (piece.unknown || piece.symbol) return undefined;
    text += piece.text;
  }
  return text;
}

/** The stand-in text for an interpolated symbol: a store-path-shaped string that names the symbol. */
export function symbolStandIn(path: string[]): string {
  return `/nix/store/00000000000000000000000000000000-${path.join('.')}`;
}

export function describe(value: Value): string {
  switch (value.kind) {
    case 'attrs':
      return 'an attribute set';
    case 'list':
      return 'a list';
    case 'string':
      return 'a string';
    case 'lambda':
    case 'primop':
      return 'a function';
    case 'symbol':
      return value.path.join('.');
    case 'unknown':
      return value.reason;
    default:
      return value.kind;
  }
}
