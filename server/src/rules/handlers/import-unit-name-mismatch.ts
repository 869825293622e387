/**
 * # import-unit-name-mismatch
 *
 * **What.** A rollback unit orders itself after `zfs-import-<P>.service`, but P is not the pool it rolls back, or P
 * is not imported in stage 1.
 *
 * **Why.** The import unit is named after the pool, `zfs-import-<pool>` (F7), and only pools with a needed-for-boot
 * zfs file system are imported in the initrd (F6, F8). Ordering after a unit that does not exist orders after
 * nothing.
 *
 * **At boot.** A race between the import and the rollback (notthebee/nix-config had `zfs-import-zroot.service` for
 * pool `rpool`): sometimes the rollback fails and the root is not reset.
 *
 * **Fix.** Name the pool that is rolled back.
 *
 * ```nix
 * # before (script: zfs rollback -r rpool/nixos/empty@start)
 * after = [ "zfs-import-zroot.service" ];
 * # after
 * after = [ "zfs-import-rpool.service" ];
 * ```
 */
import { PATHS_NEEDED_FOR_BOOT } from '../../model/host-model';
import { finding, poolOf, q, related, rollbackUnits } from '../support';
import type { Finding, Rule } from '../types';

const IMPORT_UNIT = /^zfs-import-(.+)\.service$/;

export const rule: Rule = {
  code: 'import-unit-name-mismatch',
  severity: 'error',
  summary: 'The zfs-import unit a rollback is ordered after is not the rolled-back pool\'s import in stage 1.',
  facts: ['F7', 'F8', 'F6'],
  check(host) {
    const findings: Finding[] = [];
    for (const { unit, rollbacks } of rollbackUnits(host)) {
      const pools = new Set(rollbacks.map((rollback) => rollback.dataset).filter((dataset): dataset is string => !!dataset).map(poolOf));
      if (pools.size === 0 || rollbacks.some((rollback) => !rollback.dataset)) continue;
      const after = host.unitList(unit, 'after');
      const names = after.values.map((item) => item.name);
      if (names.includes('zfs-import.target') || names.includes('zfs.target')) continue;
      for (const field of ['after', 'requires', 'wants', 'bindsTo', 'requisite'] as const) {
        for (const item of host.unitList(unit, field).values) {
          const match = IMPORT_UNIT.exec(item.name);
          if (!match || !item.origin) continue;
          const pool = match[1];
          if (!pools.has(pool)) {
            // Another item may already order it after the right import; then the extra name is harmless.
            const wanted = [...pools].find((candidate) => !names.includes(`zfs-import-${candidate}.service`));
            if (wanted === undefined) continue;
            findings.push(
              finding(this, item.origin, `${q(item.name)} is the import unit of pool ${q(pool)}, but ${q(unit.name)} rolls back a dataset of pool ${q(wanted)}: nothing orders the rollback after ${q(`zfs-import-${wanted}.service`)}, so it can run before the pool is imported.`, {
                related: rollbacks.map((rollback) => related(rollback.origin, `rolls back a dataset of pool ${wanted}`)),
                data: { unit, item, pool: wanted, field },
              }),
            );
          } else if (field === 'after' && notImportedInStage1(host, pool)) {
            findings.push(
              finding(this, item.origin, `Pool ${q(pool)} has no file system needed for boot, so NixOS does not import it in stage 1: ${q(item.name)} does not exist in the initrd, and the rollback of ${q(datasetsOf(rollbacks, pool))} there fails because the pool is not imported. Set ${q('neededForBoot = true')} on a mount of ${q(pool)}, or do not roll it back in the initrd.`, {
                related: rollbacks.filter((rollback) => rollback.dataset && poolOf(rollback.dataset) === pool).map((rollback) => related(rollback.origin, `rolls back a dataset of pool ${pool}`)),
                data: { unit, item, pool, field },
              }),
            );
          }
        }
      }
    }
    return findings;
  },
};

function datasetsOf(rollbacks: { dataset?: string }[], pool: string): string {
  return [...new Set(rollbacks.map((rollback) => rollback.dataset).filter((dataset): dataset is string => !!dataset && poolOf(dataset) === pool))].join(', ');
}

/** True when the host's file systems are all known and none of pool P's is mounted in stage 1 (F6). */
function notImportedInStage1(host: Parameters<Rule['check']>[0], pool: string): boolean {
  const { entries, open } = host.fileSystems();
  if (open || host.kind !== 'nixos') return false;
  for (const entry of entries) {
    if (entry.fsType.state !== 'known' || entry.device.state !== 'known') return false;
    if (entry.fsType.value !== 'zfs' || poolOf(entry.device.value) !== pool) continue;
    const needed = PATHS_NEEDED_FOR_BOOT.includes(entry.mountPoint) || host.neededForBoot(entry);
    if (needed !== false) return false;
  }
  return true;
}
