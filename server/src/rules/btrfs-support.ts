/**
 * Helpers the btrfs and tmpfs rules (RULES.md §F, §G) share: the initrd units that run a btrfs rollback, whether a
 * path is kept apart from the root file system, and the Nix string escape that loses its backslash (F66).
 */
import type { BtrfsRollback } from '../model/btrfs-rollback';
import type { HostModel, Unit } from '../model/host-model';
import { type Origin, type StringValue, type Value } from '../model/values';
import { byInitrdUnit, q, rollbackUnits } from './support';

export interface BtrfsRollbackUnit {
  unit: Unit;
  rollbacks: BtrfsRollback[];
}

/** Initrd units that certainly run a btrfs rollback (not under an unknown condition). */
export function btrfsRollbackUnits(host: HostModel): BtrfsRollbackUnit[] {
  return byInitrdUnit(host.btrfsRollbacks().rollbacks);
}

/** Where a btrfs rollback runs, for messages. */
export function describeBtrfsPlace(rollback: BtrfsRollback): string {
  switch (rollback.place.kind) {
    case 'initrd-unit':
      return `the initrd unit ${q(rollback.place.unit.name)}`;
    case 'stage2-unit':
      return `the stage-2 service ${q(rollback.place.unit.name)}`;
    case 'hook':
      return q(`boot.initrd.${rollback.place.hook}`);
    case 'activation':
      return `the activation script ${q(rollback.place.name)}`;
  }
}

/**
 * Whether a path is kept apart from the root file system: `kept` when a mount other than "/" holds it or an
 * impermanence/preservation entry is the path or one of its parents; `none` when it certainly lies on the root;
 * undefined when a `fileSystems` name, a persistence root or a persistence list cannot be read.
 * (The §E family's COVER answers the same question with more detail; this is the part §F needs.)
 */
export function pathKeptApart(host: HostModel, target: string): 'kept' | 'none' | undefined {
  const { entries, open } = host.fileSystems();
  const holds = (mountPoint: string) => mountPoint !== '/' && (target === mountPoint || target.startsWith(`${mountPoint}/`));
  if (entries.some((entry) => !entry.conditional && holds(entry.mountPoint))) return 'kept';
  if (open || entries.some((entry) => entry.conditional && holds(entry.mountPoint))) return undefined;
  for (const option of [['environment', 'persistence'], ['preservation', 'preserveAt']]) {
    if (host.config.at(...option).unknownNames().length > 0) return undefined;
  }
  for (const root of host.persistence()) {
    if (root.entries.some((entry) => target === entry || target.startsWith(`${entry}/`))) {
      if (root.conditional) return undefined;
      return 'kept';
    }
    if (root.entriesOpen || root.conditional) return undefined;
  }
  if (host.kind !== 'nixos') return undefined;
  return 'none';
}

/**
 * The `\x` escapes of a double-quoted Nix string that lost their backslash (F66: after `\`, only `n`, `r`, `t` are
 * translated; `"\x2d"` is `x2d`). Recognised from the string's pieces: an escape leaves a piece of its own that maps
 * to no source characters, and a two-character gap before the next written piece is a `\x` (an indented string's
 * `''\x` leaves three). Returns where each `\x` is written.
 */
export function lostEscapes(value: Value): Origin[] {
  if (value.kind !== 'string') return [];
  const string = value as StringValue;
  if (!string.origin) return [];
  const found: Origin[] = [];
  const pieces = string.pieces;
  for (let index = 0; index < pieces.length; index++) {
    const piece = pieces[index];
    if (piece.origin || piece.unknown || piece.symbol || piece.text !== 'x') continue;
    const previous = pieces[index - 1];
    const next = pieces[index + 1];
    const start = index === 0 ? string.origin.start + 1 : previous?.origin?.end;
    const end = index === pieces.length - 1 ? string.origin.end - 1 : next?.origin?.start;
    if (start === undefined || end === undefined || end - start !== 2) continue;
    found.push({ file: string.origin.file, start, end });
  }
  return found;
}

/**
 * Initrd units that certainly reset the root, ZFS (`zfs rollback`) or btrfs (BR): the rules about how such a unit
 * must be written (oneshot, pulled in, no default dependencies) hold for both (RULES.md §H, "generic").
 */
export function ephemeralRollbackUnits(host: HostModel): { unit: Unit }[] {
  const units = new Set<Unit>([...rollbackUnits(host).map((item) => item.unit), ...btrfsRollbackUnits(host).map((item) => item.unit)]);
  return [...units].map((unit) => ({ unit }));
}
