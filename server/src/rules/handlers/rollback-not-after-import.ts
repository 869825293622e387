/**
 * # rollback-not-after-import
 *
 * **What.** An initrd rollback unit is not ordered after its pool's import: neither
 * `after = [ "zfs-import-<pool>.service" ]` nor `after = [ "zfs-import.target" ]` (or `zfs.target`, which is reached
 * only after it). `unitConfig.After` counts too.
 *
 * **Why.** NixOS imports each root pool in its own `zfs-import-<pool>.service` (F7, F8); without `after` the units
 * start in parallel and the rollback races the import. `requires`/`wants` do not order (F19).
 *
 * **At boot.** Sometimes "dataset does not exist" and a root that is not reset — a race that passes in a VM and
 * fails on the real disk.
 *
 * **Fix.** Order it after the import.
 *
 * ```nix
 * # after
 * after = [ "zfs-import-rpool.service" ];
 * ```
 */
import { finding, poolOf, q, related, rollbackUnits, unitFieldOrigin } from '../support';
import type { Finding, Rule } from '../types';

/**
 * Targets reached only after every root pool's import: `zfs-import.target`, and `zfs.target`, which wants it and so
 * (a target's default dependencies) is ordered after it (F7, F8).
 */
const ORDERS_AFTER_IMPORT = new Set(['zfs-import.target', 'zfs.target']);

export const rule: Rule = {
  code: 'rollback-not-after-import',
  severity: 'error',
  summary: 'An initrd rollback unit is not ordered after the pool import.',
  facts: ['F7', 'F8', 'F19'],
  check(host) {
    const findings: Finding[] = [];
    for (const { unit, rollbacks } of rollbackUnits(host)) {
      const after = host.unitList(unit, 'after');
      if (after.open) continue;
      if (after.values.some((item) => ORDERS_AFTER_IMPORT.has(item.name) || /^zfs-import-.+\.service$/.test(item.name))) continue;
      const origin = unitFieldOrigin(unit, 'after');
      if (!origin) continue;
      const pools = [...new Set(rollbacks.map((rollback) => rollback.dataset).filter((dataset): dataset is string => !!dataset).map(poolOf))];
      const suggestion = pools.length === 1 ? q(`zfs-import-${pools[0]}.service`) : q('zfs-import.target');
      // `requires`/`wants` on the import pull it in but do not order the two units (F19): say so, it is the usual mix-up.
      const pulledOnly = (['requires', 'wants', 'bindsTo', 'requisite'] as const).find((field) =>
        host.unitList(unit, field).values.some((item) => item.name === 'zfs-import.target' || /^zfs-import-.+\.service$/.test(item.name)),
      );
      const detail = pulledOnly ? ` ${q(pulledOnly)} pulls the import in but does not order the two units; list it in ${q('after')} too.` : ` Add ${suggestion} to ${q('after')}.`;
      findings.push(
        finding(this, origin, `${q(unit.name)} is not ordered after the pool import, so it can run before ${suggestion} has imported the pool and fail with "dataset does not exist", leaving the root un-reset.${detail}`, {
          related: rollbacks.map((rollback) => related(rollback.origin, 'the rollback')),
          data: { unit, pools },
        }),
      );
    }
    return findings;
  },
};
