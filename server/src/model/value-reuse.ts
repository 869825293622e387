/**
 * Reuse inside a host: lazy values kept from one analysis to the next.
 *
 * Host reuse (`ReuseCache` in dependencies.ts) keeps a whole host while none of its files changed; an edit in one of
 * a host's 45 files still rebuilt all 45, every module function applied again and every value computed again. The
 * language server now keeps one evaluator per workspace folder from one analysis to the next (a `ValueStore`), and
 * with it the value of every file, every module function applied to its host's arguments and every flake's outputs
 * applied to its inputs. A kept lazy value is used again only while everything it read answers as it did
 * (`holds` in dependencies.ts, checked in `LazyThunk.force`). A value that read a host's merged `config` is checked
 * by asking each of its reads again of the new merge: it is kept while every one answers the very same value
 * (config-reference.ts, `ConfigAnswer`), so an edit of one module recomputes the values that read what it defines,
 * not every value that read `config`.
 *
 * An application is found again only when it is applied to the same objects. So each collection of a host's modules
 * keeps its `config` reference (made unreadable again at the start of each analysis, as a new one is) and its module
 * arguments while the values they are made of (the host's special arguments) are the same, and a flake keeps the
 * inputs its outputs function is applied to. Which collection is which is told by what it starts from (its roots and
 * their places) and by how many collections with the same start came before it in the analysis: a name given to
 * another collection than the last time costs reuse, never correctness: a read of another collection's `config`
 * answers other objects, and the value that made it is computed again.
 *
 * The CLI analyses once and keeps nothing.
 */
import { ConfigReference } from './config-reference';
import { type ReadAnswerer, Revisions } from './dependencies';
import { Evaluator, type FileProvider } from './evaluator';
import { KeptOnKey } from './kept-on-key';
import { moduleArguments } from './modules';
import { type AttrsValue, type CallSite, type Thunk, type Value, LazyThunk, known } from './values';

/** The `config` reference and module arguments of one collection of a host's modules. */
export interface KeptArguments {
  reference: ConfigReference;
  args: Thunk;
}

interface KeptCollection extends KeptArguments {
  specialArgs: Value | undefined;
  lib: Value;
  alone: boolean;
  /** The host (its key in the host cache, `ReuseCache`) whose build took this collection last. */
  host: string | undefined;
}

export class ValueStore {
  private evaluator: Evaluator | undefined;
  private files: FileProvider | undefined;
  private revisions: Revisions | undefined;
  private collections = new Map<string, KeptCollection>();
  /** How many collections of each start the current analysis has made so far. */
  private taken = new Map<string, number>();
  /** The collections the current analysis took. */
  private used = new Set<string>();
  /** The host whose build is under way (`building`): the collections taken meanwhile belong to it. */
  private currentHost: string | undefined;
  /** Kept on the function values themselves: an edited file's function is new in every analysis (kept-on-key.ts). */
  private readonly applications = new KeptOnKey<Value, WeakMap<Thunk, LazyThunk>>('module applications');
  private readonly flakeInputs = new KeptOnKey<Value, { declared: Value | undefined; inputs: Thunk }>('flake inputs');
  /** Module applications the current analysis asked for, and how many of them it computed (not kept, or changed). */
  applied = { asked: 0, computed: 0 };

  /**
   * Starts an analysis of the workspace as it is now (a new revision) and answers the evaluator that keeps values
   * from one analysis to the next. A store used with another workspace starts over.
   */
  begin(files: FileProvider & ReadAnswerer): Evaluator {
    const { evaluator, revisions } = this.for(files);
    revisions.begin();
    // New collections rather than cleared ones: V8 links a cleared table to its successor (for iterators), and a table
    // that had lived through a scavenge then kept all it ever held through every scavenge until the next mark-compact
    // (docs/performance.md).
    this.used = new Set();
    this.taken = new Map();
    evaluator.forgetMissingImports();
    this.applied = { asked: 0, computed: 0 };
    return evaluator;
  }

  /** Builds a host: the collections of modules taken meanwhile belong to it (see `end`). */
  building<T>(host: string, compute: () => T): T {
    const outer = this.currentHost;
    this.currentHost = host;
    try {
      return compute();
    } finally {
      this.currentHost = outer;
    }
  }

  /**
   * Ends an analysis that finished: drops the collections that belong to hosts that are gone. A collection stays while
   * the analysis took it, or while the host that took it was reused whole (`reusedHosts`, the host cache's), which
   * takes none: an analysis that changed nothing a host read (opening a file unchanged, saving it, an edit in another
   * host of the folder) must not cost that host its kept module applications on the next edit.
   */
  end(reusedHosts: readonly string[]): void {
    const reused = new Set(reusedHosts);
    for (const [key, collection] of this.collections) {
      if (this.used.has(key) || (collection.host !== undefined && reused.has(collection.host))) continue;
      this.collections.delete(key);
    }
  }

  /** Runs one slice of the current analysis, with kept values checked against the workspace (dependencies.ts). */
  during<T>(files: FileProvider & ReadAnswerer, compute: () => T): T {
    return this.for(files).revisions.during(compute);
  }

  /** The evaluator and the record of reads kept for a workspace; a store used with another one starts over. */
  private for(files: FileProvider & ReadAnswerer): { evaluator: Evaluator; revisions: Revisions } {
    if (!this.evaluator || !this.revisions || this.files !== files) {
      this.evaluator = new Evaluator(files);
      this.files = files;
      this.revisions = new Revisions(files);
      this.collections = new Map();
    }
    return { evaluator: this.evaluator, revisions: this.revisions };
  }

  /** The reference and arguments of a collection of modules that starts as `start` says (see the header). */
  argumentsFor(start: string, specialArgs: Value | undefined, lib: Value, alone: boolean): KeptArguments {
    const occurrence = this.taken.get(start) ?? 0;
    this.taken.set(start, occurrence + 1);
    const key = `${start}#${occurrence}`;
    this.used.add(key);
    const kept = this.collections.get(key);
    if (kept && kept.specialArgs === specialArgs && kept.lib === lib && kept.alone === alone) {
      kept.reference.detach();
      kept.host = this.currentHost;
      return kept;
    }
    const reference = new ConfigReference();
    const collection: KeptCollection = { reference, args: known(moduleArguments(specialArgs, lib, reference, alone)), specialArgs, lib, alone, host: this.currentHost };
    this.collections.set(key, collection);
    return collection;
  }

  /** A function applied to an argument, kept for the next analysis while what it read holds. */
  apply(evaluator: Evaluator, fn: Value, argument: Thunk, site: CallSite): Value {
    let byArgument = this.applications.get(fn);
    if (!byArgument) {
      byArgument = new WeakMap();
      this.applications.set(fn, byArgument);
    }
    let application = byArgument.get(argument);
    if (!application) {
      application = new LazyThunk(() => {
        this.applied.computed++;
        return evaluator.apply(fn, argument, site);
      }, site.origin);
      byArgument.set(argument, application);
    }
    this.applied.asked++;
    return application.force();
  }

  /** The inputs a flake's outputs function is applied to, the same while the function and the declared inputs are. */
  inputsOf(outputs: Value, declared: Value | undefined, build: () => AttrsValue): Thunk {
    const kept = this.flakeInputs.get(outputs);
    if (kept && kept.declared === declared) return kept.inputs;
    const inputs = known(build());
    this.flakeInputs.set(outputs, { declared, inputs });
    return inputs;
  }
}
