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

/**
 * A read whose answer is not a file's but a computation's (a host's merged `config`): checked by asking it again and
 * comparing the answers (config-reference.ts). Asking may evaluate, so `holds` asks only once a frame's file reads
 * all hold, and in a frame of its own (`isolated`).
 */
export abstract class AnswerCheck {
  /** Whether the read, made again now, answers what it answered when it was recorded. */
  abstract stillHolds(): boolean;
}

type Item = string | MissingImportRecord | Dependencies | AnswerCheck;

/**
 * What one computation depended on. A frame holds, in the order they happened, its own reads (keys the workspace
 * can answer again, `Workspace.answer`), the imports of missing files it met (one record per import expression, kept
 * by identity so that reuse adds no copies), and links to the frames of the computations it used: a thunk forced
 * inside it, or forced earlier and used again. Linking instead of copying makes handing dependencies on cost one
 * set insertion, however much the inner computation read; a frame is closed when its computation returns and never
 * changes after, so the links form a graph without cycles that `flattenDependencies` walks once per kept result.
 */
export class Dependencies {
  /** Read keys (strings), missing-import records, answer checks and linked frames, first occurrence first. */
  items: Set<Item> | undefined;
  /** The revision (see `Revisions`) in which the computation ran: its reads answered then as they were recorded. */
  readonly revision = revisionNow;
  /** The last revision in which `holds` checked this frame, and what it found. */
  checkedIn = -1;
  held = false;

  add(item: Item): void {
    (this.items ??= new Set()).add(item);
  }
}

let current: Dependencies | undefined;

/**
 * The revision of the workspace the current analysis reads. Lazy values kept from an earlier analysis (value-reuse.ts)
 * are checked against it before they are used again: a value whose reads all answer as they did when it was computed
 * still holds (`holds`), any other is computed again.
 */
let revisionNow = 0;

/** The reads of one workspace, each with its answer and the revision in which that answer last changed. */
let revisions: Revisions | undefined;

/**
 * The key of a read that holds for the current analysis only: a value that names the place it was first asked for
 * from records it (a file that cannot be imported is unknown "at" the import that reached it first). A lazy value
 * that recorded it is computed again in the next analysis (value-reuse.ts). A kept host needs no such check, as its
 * reads of the files it consists of decide it, so `ReuseCache.obtain` skips the key. (Reads of a host's merged
 * `config` are checked by asking them again instead: `AnswerCheck`.)
 */
export const ANALYSIS_LOCAL = 'local\0';

/** Records that what the open frame computes holds for the current analysis only (see `ANALYSIS_LOCAL`). */
export function recordAnalysisLocal(): void {
  current?.add(ANALYSIS_LOCAL);
}

export function isTracking(): boolean {
  return current !== undefined;
}

/** Records a read of `target` (a resolved path) of some kind; the key is built only while someone tracks. */
export function recordRead(kind: string, target: string): void {
  if (!current) return;
  const key = `${kind}\0${target}`;
  current.add(key);
  revisions?.remember(key);
}

export function recordMissingImport(failure: MissingImportRecord): void {
  current?.add(failure);
}

/** Records a read that a later analysis checks by asking it again (see `AnswerCheck`). */
export function recordAnswerCheck(check: AnswerCheck): void {
  current?.add(check);
}

/** Adds what an earlier computation depended on to the open frame (its value is being used again). */
export function inheritDependencies(dependencies: Dependencies | undefined): void {
  if (current && dependencies?.items && dependencies !== current) current.add(dependencies);
}

/**
 * Runs a computation in a frame of its own and returns what it depended on. The frame's dependencies also become
 * dependencies of the enclosing frame, whose result was computed from this one.
 */
export function trackDependencies<T>(compute: () => T): { value: T; dependencies: Dependencies } {
  const outer = current;
  const frame = new Dependencies();
  current = frame;
  try {
    return { value: compute(), dependencies: frame };
  } finally {
    current = outer;
    inheritDependencies(frame);
  }
}

export function isEmpty(dependencies: Dependencies): boolean {
  return !dependencies.items;
}

/** A frame that depended on nothing but the given missing imports (a kept result reports them again). */
export function missingImportsOnly(records: Iterable<MissingImportRecord>): Dependencies {
  const frame = new Dependencies();
  for (const record of records) frame.add(record);
  return frame;
}

/**
 * Every read and missing import of some frames and of the frames they link to, each once, in the order a copy made
 * at each step would have had: depth first, a linked frame's items where the link stands, a frame met again skipped
 * (all its items came before). Iterative, because a chain of thunks forced inside one another may be thousands deep.
 */
export function flattenDependencies(frames: Dependencies[]): { reads: Set<string>; missingImports: Set<MissingImportRecord> } {
  const reads = new Set<string>();
  const missingImports = new Set<MissingImportRecord>();
  walkDependencies(frames, (read) => reads.add(read), (record) => missingImports.add(record));
  return { reads, missingImports };
}

/**
 * The missing imports alone of some frames and of the frames they link to, each once, in the order of
 * `flattenDependencies`: what an analysis reports, without a set of every read it made (thousands, for a large host).
 */
export function missingImportsOf(frames: Dependencies[]): Set<MissingImportRecord> {
  const missingImports = new Set<MissingImportRecord>();
  walkDependencies(frames, () => undefined, (record) => missingImports.add(record));
  return missingImports;
}

/** Visits every item of some frames and of the frames they link to, depth first, each frame once. */
function walkDependencies(frames: Dependencies[], onRead: (read: string) => void, onMissingImport: (record: MissingImportRecord) => void): void {
  const visited = new Set<Dependencies>();
  const stack: Iterator<Item>[] = [];
  const enter = (frame: Dependencies) => {
    if (visited.has(frame) || !frame.items) return;
    visited.add(frame);
    stack.push(frame.items.values());
  };
  for (const frame of frames) {
    enter(frame);
    while (stack.length > 0) {
      const next = stack[stack.length - 1].next();
      if (next.done) stack.pop();
      else if (typeof next.value === 'string') onRead(next.value);
      else if (next.value instanceof Dependencies) enter(next.value);
      // A kept host is decided by the files it read (see `ANALYSIS_LOCAL`): answer checks are for values inside it.
      else if (!(next.value instanceof AnswerCheck)) onMissingImport(next.value);
    }
  }
}

/**
 * Runs a computation whose reads must not count for the open frame, but are still recorded by every lazy value it
 * computes (asking an answer check again evaluates, and a value computed then may be used later by a value that must
 * know what it read).
 */
export function isolated<T>(compute: () => T): T {
  return inFrame(new Dependencies(), compute);
}

/** Runs a computation whose reads must not count for the open frame (checking whether a kept result still holds). */
export function untracked<T>(compute: () => T): T {
  return inFrame(undefined, compute);
}

function inFrame<T>(frame: Dependencies | undefined, compute: () => T): T {
  const outer = current;
  current = frame;
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
    // Replaced rather than cleared, as the value store's (value-reuse.ts `begin`): a cleared table stays linked to its
    // successor, and the scavenges kept everything the old one held.
    if (context !== this.context) this.entries = new Map();
    this.context = context;
    this.used = new Set();
    this.answers = new Map();
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
      inheritDependencies(missingImportsOnly(kept.missingImports));
      return kept.value;
    }
    this.computed.push(key);
    // The kept result is replaced below: dropping it first lets what only it holds be collected while the new one is
    // computed, instead of being copied by every scavenge on the way and promoted.
    this.entries.delete(key);
    const { value, dependencies } = trackDependencies(compute);
    const { reads, missingImports } = flattenDependencies([dependencies, ...alsoDependsOn]);
    reads.delete(ANALYSIS_LOCAL);
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
    this.answers = new Map();
  }
}

// ------------------------------------------------------------------------------------------------ revisions

export function currentRevision(): number {
  return revisionNow;
}

/** Whether some analysis has kept lazy values for a later one in this process (value-reuse.ts). */
let valuesOutliveAnalyses = false;

/** Whether a lazy value must keep how to compute itself after it is forced: a later analysis may need it again. */
export function keepsRecomputation(): boolean {
  return valuesOutliveAnalyses;
}

export class Revisions {
  private readonly answers = new Map<string, unknown>();
  private readonly changedIn = new Map<string, number>();

  constructor(private readonly answerer: ReadAnswerer) {
    valuesOutliveAnalyses = true;
  }

  /**
   * Starts a new revision (an analysis of the workspace as it is now): every read recorded so far is answered again,
   * and those whose answer differs are marked as changed in it.
   */
  begin(): void {
    revisionNow++;
    const active = revisions;
    revisions = undefined;
    try {
      for (const [key, answer] of this.answers) {
        const now = untracked(() => this.answerer.answer(key));
        if (now === answer) continue;
        this.answers.set(key, now);
        this.changedIn.set(key, revisionNow);
      }
    } finally {
      revisions = active;
    }
  }

  /**
   * Runs one slice of an analysis of the current revision: reads are remembered with what they answer, and kept
   * values are checked against this workspace. Outside (between slices, in a hover) the workspace may have changed
   * since `begin`, so nothing kept is trusted there.
   */
  during<T>(compute: () => T): T {
    const outer = revisions;
    revisions = this;
    try {
      return compute();
    } finally {
      revisions = outer;
    }
  }

  /** Remembers what a read answers now, the first time it is made. */
  remember(key: string): void {
    if (this.answers.has(key)) return;
    // Answering reads the workspace again: those reads are not the computation's, and must not be remembered here.
    revisions = undefined;
    try {
      this.answers.set(key, untracked(() => this.answerer.answer(key)));
    } finally {
      revisions = this;
    }
    this.changedIn.set(key, revisionNow);
  }

  /** Whether a read answers now as it did in `revision` (a read never remembered is taken as changed). */
  unchangedSince(key: string, revision: number): boolean {
    const changed = this.changedIn.get(key);
    return changed !== undefined && changed <= revision;
  }
}

/**
 * Whether what a frame depended on still answers the same in the current revision: no read of it or of the frames it
 * links to changed since the revision each frame was computed in, none holds for its own analysis only, and every
 * answer check (a read of a host's merged `config`) answers again what it answered. Each frame is decided once per
 * revision. The walk is depth first and iterative, as chains of forced thunks may be thousands deep: a frame holds
 * once everything it links to was walked and held and then its own answer checks held; a changed read fails the
 * frames on the way to it.
 *
 * Answer checks evaluate, and evaluating may ask again about a frame this walk has entered but not decided (a value
 * that the answer is computed from): such a frame reads as not holding until it is decided, so that the value is
 * computed afresh rather than trusted before its own checks ran.
 */
export function holds(frame: Dependencies): boolean {
  const checker = revisions;
  if (!checker) return false;
  if (frame.checkedIn === revisionNow) return frame.held;
  const stack: { frame: Dependencies; items: Iterator<Item> | undefined; checks?: AnswerCheck[] }[] = [];
  const enter = (next: Dependencies) => {
    next.checkedIn = revisionNow;
    next.held = false;
    stack.push({ frame: next, items: next.items?.values() });
  };
  enter(frame);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const step = top.items?.next();
    let failed = false;
    if (!step || step.done) {
      // Everything the frame links to holds: now ask its own checks again (which may evaluate).
      failed = top.checks !== undefined && !top.checks.every((check) => check.stillHolds());
      if (!failed) {
        top.frame.held = true;
        stack.pop();
        continue;
      }
    } else {
      const item = step.value;
      if (typeof item === 'string') failed = item === ANALYSIS_LOCAL || !checker.unchangedSince(item, top.frame.revision);
      else if (item instanceof Dependencies) {
        if (item.checkedIn !== revisionNow) enter(item);
        else failed = !item.held;
      } else if (item instanceof AnswerCheck) (top.checks ??= []).push(item);
    }
    // Every frame still open leads to the failure; they were marked as not holding on entry.
    if (failed) return false;
  }
  return frame.held;
}
