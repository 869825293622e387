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
import { finding } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-missing-r',
  severity: 'warning',
  summary: '`zfs rollback` without `-r`: it fails as soon as a newer snapshot exists.',
  facts: ['F14'],
  check(host) {
    return host
      .rollbacks()
      .rollbacks.filter((rollback) => !rollback.conditional && !rollback.destroysNewer && rollback.commandOrigin)
      .map((rollback) =>
        finding(this, rollback.commandOrigin!, '`zfs rollback` without `-r` refuses to roll back past a newer snapshot: one manual or automatic snapshot of the root and the reset stops working.', {
          data: { rollback },
        }),
      );
  },
};
