/**
 * Young-generation garbage collection while the server waits for the next edit.
 *
 * An analysis allocates a few megabytes (about 5 MB for an edit of the largest corpus host), and much of it stays alive
 * until the analysis ends: it is the host model being built. A scavenge that falls inside an analysis copies all of
 * that, and with V8's own pacing several fell inside every analysis of that host: scavenges took a third of its
 * analysis time in a loop of edits, and made its slowest responses.
 *
 * So the server scavenges by itself once the analyses of a burst of edits are published and nothing else came for
 * `IDLE_DELAY_MS`, a pause between keystrokes. The next analysis then starts with an empty young generation large
 * enough to hold what it allocates (`--max-semi-space-size=8` on the server's command line) and usually runs without
 * any collection, and the idle scavenge copies only what is still alive: the current model, once. Typing one edit
 * every 40 ms on the largest corpus host, the median response went from 18–20 to 11–13 ms and p95 from 31 to
 * 19–22 ms (docs/performance.md). When edits come back to back with no pause (a replay, a fuzzer, a formatter's many edits),
 * there is no idle moment, and V8 collects as it would without this: scavenging right after every analysis there
 * only moved the cost in front of the next edit, and made small hosts slower.
 *
 * `gc` exists only when Node runs with `--expose-gc` (bin/ephemeral-root-ls.js and the extension pass it). Started any
 * other way, the server leaves collection to V8.
 */
/** How long the server must have had nothing to do before it scavenges: shorter than a pause between keystrokes. */
export const IDLE_DELAY_MS = 10;

export class IdleCollector {
  private scheduled = false;
  /** When the last piece of work ended. */
  private lastWork = 0;
  /** Idle scavenges run so far (the tests read it). */
  collections = 0;

  constructor(
    /** Whether work is queued or under way: then the server is not idle and the scavenge waits for the next chance. */
    private readonly busy: () => boolean,
    private readonly collect: ((options: { type: 'minor' }) => void) | undefined = globalThis.gc,
    private readonly clock: { now: () => number; after: (ms: number, callback: () => void) => void } = {
      now: () => performance.now(),
      // Unreferenced: a pending scavenge is no reason for the process to stay alive.
      after: (ms, callback) => void setTimeout(callback, ms).unref(),
    },
  ) {}

  /** Whether scavenges can run at all (Node was started with `--expose-gc`). */
  get available(): boolean {
    return this.collect !== undefined;
  }

  /**
   * Called when a piece of work ends. The scavenge runs once the server has then been idle for `IDLE_DELAY_MS`; work
   * that ends meanwhile pushes it back, and work still queued or running when it is due skips it.
   */
  workDone(): void {
    if (!this.collect) return;
    this.lastWork = this.clock.now();
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.after(IDLE_DELAY_MS, () => this.due());
  }

  private due(): void {
    const waited = this.clock.now() - this.lastWork;
    if (waited < IDLE_DELAY_MS) {
      this.clock.after(IDLE_DELAY_MS - waited, () => this.due());
      return;
    }
    this.scheduled = false;
    if (this.busy()) return;
    this.collect!({ type: 'minor' });
    this.collections++;
  }
}
