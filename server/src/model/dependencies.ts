/**
 * What a computation read from the workspace, so that the language server can keep a host's analysis until one of
 * those reads would answer differently: an edit in a file of one host then re-analyses that host only.
 *
 * Reads are recorded by the workspace (`recordRead`) into the innermost open frame. Values are lazy and shared
 * between the hosts of one analysis: a thunk forced while analysing one host may be used, already computed, by the
 * next. So every lazy thunk keeps what its own computation read (`trackDependencies`) and hands it on each time its
 * value is used again (`inheritDependencies`). Imports of missing files travel the same way, so that each host
 * still reports the ones its modules reach.
 *
 * Nothing is recorded unless a caller opened a frame: the CLI, which analyses once, pays nothing.
 */
import type { Origin } from './values';

export interface MissingImportRecord {
  path: string;
  origin?: Origin;
}

export interface Dependencies {
  /** Workspace reads, as keys the workspace can answer again (`Workspace.answer`). */
  reads?: Set<string>;
  /** One record per import expression that met a missing file (kept by identity, so reuse adds no copies). */
  missingImports?: Set<MissingImportRecord>;
}

let current: Dependencies | undefined;

export function isTracking(): boolean {
  return current !== undefined;
}

/** Records a read of `target` (a resolved path) of some kind; the key is built only while someone tracks. */
export function recordRead(kind: string, target: string): void {
  if (!current) return;
  (current.reads ??= new Set()).add(`${kind}\0${target}`);
}

export function recordMissingImport(failure: MissingImportRecord): void {
  if (!current) return;
  (current.missingImports ??= new Set()).add(failure);
}

/** Adds what an earlier computation depended on to the open frame (its value is being used again). */
export function inheritDependencies(dependencies: Dependencies | undefined): void {
  if (!current || !dependencies) return;
  if (dependencies.reads) {
    const reads = (current.reads ??= new Set());
    for (const key of dependencies.reads) reads.add(key);
  }
  if (dependencies.missingImports) {
    const missing = (current.missingImports ??= new Set());
    for (const failure of dependencies.missingImports) missing.add(failure);
  }
}

/**
 * Runs a computation in a frame of its own and returns what it depended on. The frame's dependencies also become
 * dependencies of the enclosing frame, whose result was computed from this one.
 */
export function trackDependencies<T>(compute: () => T): { value: T; dependencies: Dependencies } {
  const outer = current;
  const frame: Dependencies = {};
  current = frame;
  try {
    return { value: compute(), dependencies: frame };
  } finally {
    current = outer;
    inheritDependencies(frame);
  }
}

export function isEmpty(dependencies: Dependencies): boolean {
  return !dependencies.reads && !dependencies.missingImports;
}

/** Runs a computation whose reads must not count for the open frame (checking whether a kept result still holds). */
export function untracked<T>(compute: () => T): T {
  const outer = current;
  current = undefined;
  try {
    return compute();
  } finally {
    current = outer;
  }
}

/** Something that answers a recorded read again (the workspace). */
export interface ReadAnswerer {
  answer(key: string): unknown;
}

interface KeptResult<T> {
  /** Every read the result depended on, with what it answered then. */
  reads: [string, unknown][];
  missingImports: MissingImportRecord[];
  value: T;
}

/**
 * Results kept from one analysis to the next, each valid while every read it recorded answers the same. The
 * language server keeps one per workspace folder; entries not used by an analysis are dropped after it (a host that
 * no longer exists), and a change of context (another nixpkgs release setting) drops everything.
 */
export class ReuseCache<T> {
  private entries = new Map<string, KeptResult<T>>();
  private used = new Set<string>();
  private context: string | undefined;
  /** How the last analysis went: the keys of the results it reused and of those it computed. */
  reused: string[] = [];
  computed: string[] = [];

  /**
   * The answers of this analysis, by read: the workspace does not change while an analysis runs, and the kept
   * results share most of their reads (the flake, the folder listing, common modules).
   */
  private answers = new Map<string, unknown>();

  /** Starts an analysis in a context; results kept in another context are dropped. */
  begin(context: string): void {
    if (context !== this.context) this.entries.clear();
    this.context = context;
    this.used.clear();
    this.answers.clear();
    this.reused = [];
    this.computed = [];
  }

  /**
   * The kept result for a key when all its reads still answer the same, else the result of computing it afresh
   * (kept for next time). `alsoDependsOn` are reads made before the computation that decided what it computes
   * (for a flake host: evaluating flake.nix). A reused result's missing imports are reported to the open frame
   * as if it had been computed.
   */
  obtain(key: string, answerer: ReadAnswerer, alsoDependsOn: Dependencies[], compute: () => T): T {
    this.used.add(key);
    const kept = this.entries.get(key);
    if (kept && untracked(() => kept.reads.every(([read, answer]) => this.answer(answerer, read) === answer))) {
      this.reused.push(key);
      inheritDependencies({ missingImports: new Set(kept.missingImports) });
      return kept.value;
    }
    this.computed.push(key);
    const { value, dependencies } = trackDependencies(compute);
    const reads = new Set<string>();
    const missingImports = new Set<MissingImportRecord>();
    for (const source of [dependencies, ...alsoDependsOn]) {
      for (const read of source.reads ?? []) reads.add(read);
      for (const failure of source.missingImports ?? []) missingImports.add(failure);
    }
    // The analysis is synchronous, so answering the reads now gives what they answered during the computation.
    const answers = untracked(() => [...reads].map((read): [string, unknown] => [read, this.answer(answerer, read)]));
    this.entries.set(key, { reads: answers, missingImports: [...missingImports], value });
    return value;
  }

  private answer(answerer: ReadAnswerer, read: string): unknown {
    if (this.answers.has(read)) return this.answers.get(read);
    const answer = answerer.answer(read);
    this.answers.set(read, answer);
    return answer;
  }

  /** Drops the results the analysis just finished did not use, and the answers it gathered. */
  end(): void {
    for (const key of this.entries.keys()) if (!this.used.has(key)) this.entries.delete(key);
    this.answers.clear();
  }
}
