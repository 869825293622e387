/**
 * What one analysis may spend: evaluation steps, allocated cells and nesting depth.
 *
 * Every Nix file may come from a stranger (a pull request checked in CI, a repository opened in the editor), and a few
 * hundred bytes of Nix can ask for exponential work (`l ++ l` thirty times over) or for unbounded recursion
 * (`(x: x x) (x: x x)`). Each host is analysed under a budget of its own: when the budget runs out, everything the host
 * still evaluates becomes unknown, the host reports no finding but one unknown note, and the other hosts are analysed
 * in full with budgets of their own.
 *
 * The active budget is module state, as dependency tracking is (dependencies.ts): the operators and builtins that
 * allocate have no evaluator at hand, and a budget is always entered and left around one synchronous computation.
 */
import type { StringPiece } from './values';

export interface BudgetLimits {
  /** Evaluation steps (one per expression evaluated or function applied). */
  steps: number;
  /**
   * Cells allocated in total: one per list element, attribute or string piece created, and one per 16 characters of
   * string text. Cumulative, not live: a doubling that builds 2^20 elements on its way is stopped there.
   */
  cells: number;
  /** Nested evaluations (each one a few JavaScript frames), checked before the JavaScript stack can run out. */
  depth: number;
}

/**
 * Generous for real configurations and small enough that a host that exhausts one stays within about a quarter of a
 * second and a few hundred MiB. Measured: the largest corpus host (66 files) takes 1,419 steps and 174 cells, the
 * generated 20,000-line host 10,965 steps; the deepest real nesting stays far below 600 evaluations.
 */
export const DEFAULT_LIMITS: BudgetLimits = { steps: 1_000_000, cells: 250_000, depth: 600 };

/** Which limit a budget ran out of, in words for `--explain`. */
export type Exceeded = 'steps' | 'cells' | 'depth' | 'stack';

const EXCEEDED_TEXT: Record<Exceeded, string> = {
  steps: 'its evaluation step budget',
  cells: 'its memory budget (lists, strings and attribute sets it builds)',
  depth: 'its nesting depth budget',
  stack: 'the nesting depth the analysis can follow',
};

/**
 * Thrown out of `step()` when a time slice is over (the language server's cooperative scheduling): the analysis
 * unwinds, keeping every value it finished, and resumes after pending requests have been answered. It is control
 * flow, thrown often on a large host: no stack trace is captured for it (that alone once took a tenth of the time).
 */
export class SliceExpired extends Error {
  constructor() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('time slice expired');
    Error.stackTraceLimit = limit;
  }
}

export class Budget {
  private stepsLeft: number;
  private cellsLeft: number;
  /** The first limit exceeded, if any: from then on every further step and allocation is refused. */
  exceeded: Exceeded | undefined;
  /**
   * `performance.now()` value after which `step()` throws `SliceExpired` (checked every few thousand steps); set only
   * by a caller that catches it (see `TimeSlices`).
   */
  sliceEnd: number | undefined;
  /**
   * How often this budget's computation was interrupted by the end of a slice. Past the first few, each interruption
   * doubles the host's next slice (`TimeSlices`): much of what an interrupted slice did is done again by the next one
   * (a module applied afresh, a large attribute set built again), so with slices of one length a host whose
   * unsplittable part takes longer than a slice would start over until it had spent its budget on repetitions.
   */
  interruptions = 0;
  /** Steps spent before slices apply to this budget (see `SLICE_AFTER_STEPS`). */
  sliceAfterSteps = SLICE_AFTER_STEPS;
  private untilClockCheck = CLOCK_CHECK_INTERVAL;

  constructor(readonly limits: BudgetLimits = DEFAULT_LIMITS) {
    this.stepsLeft = limits.steps;
    this.cellsLeft = limits.cells;
  }

  /** Starts a time slice that ends at `end` (`performance.now()` time). */
  startSlice(end: number): void {
    this.sliceEnd = end;
  }

  /** Consumes one step; false once any limit is exceeded. */
  step(): boolean {
    if (this.exceeded) return false;
    if (--this.untilClockCheck <= 0) {
      this.untilClockCheck = CLOCK_CHECK_INTERVAL;
      // Only a host that evaluates a lot is interrupted: a real host (at most some ten thousand steps) finishes in one
      // go, since its restart would repeat its merge and rules, which take no steps and keep nothing between slices.
      if (this.sliceEnd !== undefined && this.limits.steps - this.stepsLeft > this.sliceAfterSteps && performance.now() > this.sliceEnd) {
        this.interruptions++;
        throw new SliceExpired();
      }
    }
    if (--this.stepsLeft > 0) return true;
    this.exceed('steps');
    return false;
  }

  /** Reserves `count` cells before they are allocated; false (and nothing may be allocated) when that exceeds the budget. */
  allocate(count: number): boolean {
    if (this.exceeded) return false;
    this.cellsLeft -= count;
    if (this.cellsLeft >= 0) return true;
    this.exceed('cells');
    return false;
  }

  exceed(what: Exceeded): void {
    this.exceeded ??= what;
  }

  /** What ran out, in words, or undefined. */
  get reason(): string | undefined {
    return this.exceeded && `the analysis of this host stopped: it exceeded ${EXCEEDED_TEXT[this.exceeded]}`;
  }

  /** Steps and cells used so far (for the benchmark and tests). */
  get used(): { steps: number; cells: number } {
    return { steps: this.limits.steps - this.stepsLeft, cells: this.limits.cells - this.cellsLeft };
  }
}

const CLOCK_CHECK_INTERVAL = 1024;

/** Steps a host evaluates before its time slices apply (the largest real host measured takes about 11,000). */
const SLICE_AFTER_STEPS = 20_000;

/**
 * A host's first slices keep their length however often they are interrupted. A host that burns its whole budget
 * (a hostile file: a million steps, about a quarter of a second) spends it within them, and short slices keep the server answering other folders meanwhile;
 * restarting it costs nothing, since its budget, spent across all its slices, is what stops it.
 */
const SHORT_SLICES = 16;

/**
 * The language server's time slices over one analysis of a folder, and the budgets of its hosts, kept from one slice
 * to the next. A host's budget is spent across all its slices, so a host whose work cannot be split stops at its
 * budget however often it is interrupted. After its first few slices (`SHORT_SLICES`), each interruption doubles the
 * host's next slice: whatever part of a large host's work cannot be resumed, it finishes after a few more slices,
 * having done at most about twice its work, instead of starting over until its budget is spent on repetitions.
 */
export class TimeSlices {
  private readonly budgets = new Map<string, Budget>();
  /** When the current slice started. */
  start = performance.now();

  constructor(
    readonly sliceMs: number,
    private readonly limits: BudgetLimits = DEFAULT_LIMITS,
    /** Steps a host spends before its slices apply (a test lowers it to slice a small host). */
    private readonly sliceAfterSteps = SLICE_AFTER_STEPS,
  ) {}

  /** Starts the next slice. */
  next(): void {
    this.start = performance.now();
  }

  /** Steps spent so far by all the hosts of the analysis, in all their slices (for tests and the benchmark). */
  get stepsSpent(): number {
    let total = 0;
    for (const budget of this.budgets.values()) total += budget.used.steps;
    return total;
  }

  /** The budget of a host (by key), with the end of its current slice. */
  budgetFor(key: string): Budget {
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = new Budget(this.limits);
      budget.sliceAfterSteps = this.sliceAfterSteps;
      this.budgets.set(key, budget);
    }
    budget.startSlice(this.start + this.sliceMs * 2 ** Math.max(0, budget.interruptions - SHORT_SLICES));
    return budget;
  }
}

/**
 * The budget of work done outside any host (a hover that evaluates a little further, a test calling the evaluator):
 * replaced by a fresh one whenever the outermost `withBudget` returns, so that it never stays exhausted for long.
 */
let ambient = new Budget();
let active: Budget = ambient;
let nesting = 0;

export function activeBudget(): Budget {
  return active;
}

/** Runs `compute` with `budget` as the active budget (restored afterwards, also on an exception). */
export function withBudget<T>(budget: Budget, compute: () => T): T {
  const outer = active;
  active = budget;
  nesting++;
  try {
    return compute();
  } finally {
    active = outer;
    if (--nesting === 0) {
      ambient = new Budget();
      active = ambient;
    }
  }
}

/** Reserves cells in the active budget (see `Budget.allocate`). */
export function allocate(count: number): boolean {
  return active.allocate(count);
}

/** Cells a string of this length costs. */
export function textCells(length: number): number {
  return Math.ceil(length / 16);
}

/** Reserves the cells of a copy of these string pieces (one per piece and one per 16 characters). */
export function allocateString(pieces: readonly StringPiece[]): boolean {
  let length = 0;
  for (const piece of pieces) length += piece.text.length;
  return allocate(pieces.length + textCells(length));
}

/** Whether an error is the JavaScript engine's stack overflow (which a depth guard should have prevented). */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
