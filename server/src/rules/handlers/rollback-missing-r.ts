/**
 * # rollback-missing-r
 *
 * **What.** `zfs rollback` without `-r` (or `-R`).
 *
 * **Why.** zfs-rollback(8) refuses to roll back to any snapshot but the most recent one unless `-r` destroys the
 * newer snapshots and bookmarks (F14). Any later snapshot of the root — a manual one, an auto-snapshot — blocks it.
 *
 * **At boot.** "more recent snapshots or bookmarks exist": the rollback fails and the root keeps its state.
 *
 * **Fix.** Add `-r`.
 *
 * ```nix
 * # before
 * script = "zfs rollback rpool/local/root@blank";
 * # after
 * script = "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import { originOfRange } from '../../model/strings';
import type { Rollback } from '../../model/host-model';
import { finding, q } from '../support';
import type { Rule } from '../types';

/** A word we cannot read that is not the snapshot itself (`$FLAGS`, `${cfg.flags}`, `-${flags}`) may well be `-r`. */
function argumentsUnknown(rollback: Rollback): boolean {
  const { operands, flags } = rollback.invocation;
  return operands.some((word) => word.dynamic && !word.text.includes('@')) || flags.some((word) => word.dynamic);
}

/**
 * The command; when interpolations split it (`${pkgs.zfs}/bin/zfs rollback …`, `… ${dataset}@blank`), the longest
 * part of it that is written in one place.
 */
function commandRange(rollback: Rollback) {
  const { command, program } = rollback.invocation;
  const value = rollback.fragment.value;
  const whole = originOfRange(value, command.start, command.end);
  if (whole) return whole;
  const subcommand = command.words.find((word) => word.start > program.start && word.text === 'rollback');
  if (!subcommand) return rollback.commandOrigin;
  return (
    originOfRange(value, subcommand.start, command.end) ??
    originOfRange(value, program.start, subcommand.end) ??
    originOfRange(value, subcommand.start, subcommand.end) ??
    rollback.commandOrigin
  );
}

export const rule: Rule = {
  code: 'rollback-missing-r',
  severity: 'warning',
  summary: '`zfs rollback` without `-r`: it fails as soon as a newer snapshot exists.',
  facts: ['F14'],
  check(host) {
    return host
      .rollbacks()
      .rollbacks.filter((rollback) => !rollback.conditional && !rollback.destroysNewer && !argumentsUnknown(rollback))
      .flatMap((rollback) => {
        const origin = commandRange(rollback);
        if (!origin) return [];
        const root = host.rootDataset();
        const subject = rollback.dataset === undefined ? 'the dataset' : q(rollback.dataset);
        const consequence = rollback.dataset !== undefined && rollback.dataset === root?.name ? 'the rollback fails and the root is no longer reset' : 'the rollback fails';
        return [
          finding(
            this,
            origin,
            `${q('zfs rollback')} without ${q('-r')} only rolls back to the most recent snapshot: once a newer snapshot of ${subject} exists (taken by hand or by auto-snapshot), ${consequence}. Add ${q('-r')}.`,
            { data: { rollback } },
          ),
        ];
      });
  },
};
