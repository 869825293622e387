/**
 * Young-generation garbage collection while the server waits for the next edit.
 *
 * An analysis allocates a few megabytes (about 5 MB for an edit of the largest corpus host), and much of it stays alive
 * until the analysis ends: it is the host model being built. A scavenge that falls inside an analysis copies all of
 * that, and with V8's own pacing several fell inside every analysis of that host: scavenges took a third of its
 * analysis time in a loop of edits, and made its slowest responses.
 *
 * So the server scavenges by itself once the analyses of a burst of edits are published and nothing else is queued.
 * The next analysis then starts with an empty young generation large enough to hold what it allocates
 * (`--max-semi-space-size=8` on the server's command line) and usually runs without any collection, and the idle
 * scavenge copies only what is still alive: the current model, once. Typing one edit every 40 ms on the largest corpus
 * host, the median response went from 15.1 to 10.5 ms and the slowest of 1,000 from 56.5 to 29.5 ms
 * (docs/performance.md). When edits come back to back with no pause, the scavenge is paid right before the next edit
 * instead of inside it; measured that way, the difference is within the noise.
 *
 * `gc` exists only when Node runs with `--expose-gc` (bin/ephemeral-root-ls.js and the extension pass it). Started any
 * other way, the server leaves collection to V8.
 */
export class IdleCollector {
  private scheduled = false;
  /** Idle scavenges run so far (the tests read it). */
  collections = 0;

  constructor(
    /** Whether work is queued or under way: then the server is not idle and the scavenge waits for the next chance. */
    private readonly busy: () => boolean,
    private readonly collect: ((options: { type: 'minor' }) => void) | undefined = globalThis.gc,
  ) {}

  /** Whether scavenges can run at all (Node was started with `--expose-gc`). */
  get available(): boolean {
    return this.collect !== undefined;
  }

  /**
   * Called when a piece of work ends. The scavenge runs on the next turn of the event loop, after the replies and
   * notifications just written, and only if nothing new was queued meanwhile.
   */
  workDone(): void {
    if (!this.collect || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.busy()) return;
      this.collect!({ type: 'minor' });
      this.collections++;
    });
  }
}
