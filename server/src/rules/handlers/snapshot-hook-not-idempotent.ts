/**
 * # snapshot-hook-not-idempotent
 *
 * **What.** A disko hook runs a bare `zfs snapshot X@snap`.
 *
 * **Why.** disko runs every `postCreateHook` each time the format script runs, outside its "already exists" check,
 * under `set -e` (F25). The second `disko --mode format` (re-running an install, a `destroy,format,mount` that kept
 * the pool) finds the snapshot already there and aborts.
 *
 * **At install.** "cannot create snapshot '…': dataset already exists"; the format script stops half way.
 *
 * **Fix.** Guard the snapshot, as disko's own example does.
 *
 * ```nix
 * # before
 * postCreateHook = "zfs snapshot rpool/nixos/empty@start";
 * # after
 * postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^rpool/nixos/empty@start$' || zfs snapshot rpool/nixos/empty@start";
 * ```
 */
import { finding, q } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'snapshot-hook-not-idempotent',
  severity: 'warning',
  summary: 'A disko hook takes a snapshot unconditionally; re-running the format script aborts.',
  facts: ['F25'],
  check(host) {
    const layout = host.layout;
    if (!layout) return [];
    return layout.snapshots
      .filter((snapshot) => snapshot.bare && snapshot.origin && !snapshot.definition.conditional)
      .map((snapshot) =>
        finding(this, snapshot.origin!, `${q(`zfs snapshot ${snapshot.target}`)} is not guarded: disko runs this hook on every format run, and the second run aborts because the snapshot exists.`, {
          data: { snapshot },
        }),
      );
  },
};
