/**
 * A `mkIf` condition decided after the host's modules are merged.
 *
 * The commonest shape of a module of one's own is `config = lib.mkIf cfg.enable { … }`, where `cfg.enable` is an
 * option the same repository declares. The merge pushes that `mkIf` into every definition below it before `config` is
 * readable, so the condition is then only the name `config.x.enable`. The NixOS module system does the same and
 * decides the condition only where an option's definitions are merged, which is what keeps `cfg.enable` from depending
 * on itself. A late condition does likewise: it is decided when a rule first asks whether a definition under it holds,
 * by reading the merged configuration (config-reference.ts). While it is being decided — a definition under it was
 * asked about while reading the condition itself — it answers "not known", as a cycle in Nix would fail; definitions
 * stay conditional then, which only keeps rules silent.
 */
import { currentRevision } from './dependencies';
import type { ConfigReader, Thunk, Value } from './values';

/** How many late conditions are being decided right now (nested: deciding one can read another). */
let decidingNow = 0;

/**
 * Counts the events that can change what a late condition left undecided answers: another condition decided (a read
 * that left one undecided may decide it after), or a host's `config` made readable or unreadable (`configChanged`).
 * Within one revision, while it stays the same, an undecided condition answers the same — what `LateCondition.value`
 * and `ConfigNode.effective` rely on not to ask again.
 */
let undecidedEpoch = 0;

export function lateConditionsEpoch(): number {
  return undecidedEpoch;
}

/** Called when a host's `config` becomes readable or unreadable (config-reference.ts). */
export function configChanged(): void {
  undecidedEpoch++;
}

/**
 * Whether some late condition is being decided: a read of the merged configuration made meanwhile may see that
 * condition as "not known" (a cycle), so what it answers holds only for this moment and must not be kept.
 */
export function someConditionDeciding(): boolean {
  return decidingNow > 0;
}

export class LateCondition {
  private deciding = false;
  private decided: boolean | undefined;
  /**
   * The revision and the state of `config` the decision was read in. A definition under this condition is kept from
   * one merge to the next while its module is (config.ts, `Expansion`), and the next merge may define the option
   * otherwise: the decision holds only for the configuration it was read from.
   */
  private decidedInRevision = 0;
  private decidedInState = 0;
  /**
   * Where a read left this condition undecided: the revision, the state of `config` and `undecidedEpoch` then. The
   * same read made again there answers the same, so it is not made again: a condition on an option nothing readable
   * defines (`mkIf cfg.enable` of a module the host imports but never enables in a way we can read) was read once for
   * every definition under it, each time it was asked, some 640 times per analysis of the largest corpus host, three
   * reads of `config` in four.
   */
  private undecidedIn: { revision: number; state: number; epoch: number } | undefined;

  constructor(
    /** The condition as it evaluated while the modules were collected: the name of a `config` option. */
    private readonly symbol: { path: string[]; config: ConfigReader },
  ) {}

  /**
   * A condition worth deciding late: one that names an option of `config` which could not be read yet. Anything else
   * the merge decides at once, as before.
   */
  static of(condition: Thunk): LateCondition | undefined {
    const value: Value = condition.force();
    if (value.kind !== 'symbol' || !value.config || value.path[0] !== 'config') return undefined;
    return new LateCondition({ path: value.path, config: value.config });
  }

  /** True or false once the merged configuration decides it; undefined while it cannot (or is being decided). */
  value(): boolean | undefined {
    const config = this.symbol.config;
    if (this.decided !== undefined && (this.decidedInRevision !== currentRevision() || this.decidedInState !== config.state)) this.decided = undefined;
    if (this.decided !== undefined || this.deciding) return this.decided;
    const undecided = this.undecidedIn;
    if (undecided && undecided.revision === currentRevision() && undecided.state === config.state && undecided.epoch === undecidedEpoch) return undefined;
    // Only a read made outside every other decision is remembered as undecided: inside one, the condition being
    // decided reads as not known, and the same read made later may answer otherwise.
    const outermost = decidingNow === 0;
    const state = config.state;
    this.deciding = true;
    decidingNow++;
    try {
      const read = config.read(this.symbol.path.slice(1));
      if (read?.kind === 'bool') {
        this.decided = read.value;
        this.decidedInRevision = currentRevision();
        this.decidedInState = state;
        undecidedEpoch++;
      } else if (outermost && config.state === state) {
        this.undecidedIn = { revision: currentRevision(), state, epoch: undecidedEpoch };
      }
    } finally {
      this.deciding = false;
      decidingNow--;
    }
    return this.decided;
  }
}

/** Whether every late condition holds (a definition under them is then as certain as its other wrappers say). */
export function allHold(conditions: LateCondition[] | undefined): boolean {
  return !conditions || conditions.every((condition) => condition.value() === true);
}

/** Whether some late condition is known to be false (the definition is then not there at all). */
export function someFails(conditions: LateCondition[] | undefined): boolean {
  return !!conditions && conditions.some((condition) => condition.value() === false);
}
