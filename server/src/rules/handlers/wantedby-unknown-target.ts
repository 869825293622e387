/**
 * # wantedby-unknown-target
 *
 * **What.** A rollback unit (ZFS or btrfs) is wanted only by targets that do not exist and are one or two letters
 * away from a standard initrd target: `wantedBy = [ "intitrd.target" ];`.
 *
 * **Why.** A unit runs only when something pulls it in (F19); a target name that exists nowhere never starts, so
 * nothing starts the rollback (F67). NixOS checks that the name looks like a unit name, not that the unit exists.
 *
 * **At boot.** The rollback never runs; the root is never reset, silently.
 *
 * **Fix.** Write the target meant.
 *
 * ```nix
 * # before
 * wantedBy = [ "intitrd.target" ];
 * # after
 * wantedBy = [ "initrd.target" ];
 * ```
 */
import { editDistance } from '../../model/edit-distance';
import type { Unit } from '../../model/host-model';
import { btrfsRollbackUnits } from '../btrfs-support';
import { finding, q, rollbackUnits } from '../support';
import type { Finding, Rule } from '../types';

/** The targets an initrd rollback is wanted by in practice, and the others systemd's initrd knows (RULES.md §F). */
export const STANDARD_TARGETS = [
  'initrd.target',
  'initrd-fs.target',
  'initrd-root-fs.target',
  'initrd-root-device.target',
  'initrd-usr-fs.target',
  'initrd-switch-root.target',
  'sysinit.target',
  'basic.target',
  'local-fs.target',
  'local-fs-pre.target',
  'cryptsetup.target',
  'zfs.target',
  'zfs-import.target',
  'emergency.target',
  'rescue.target',
];

/** The standard target nearest to a name, when within two edits. */
export function nearestTarget(name: string): string | undefined {
  const ranked = STANDARD_TARGETS.map((target) => ({ target, distance: editDistance(name, target) })).sort((a, b) => a.distance - b.distance);
  return ranked[0].distance <= 2 ? ranked[0].target : undefined;
}

export const rule: Rule = {
  code: 'wantedby-unknown-target',
  severity: 'error',
  summary: 'A rollback unit is wanted only by a misspelt target that does not exist, so it never runs.',
  facts: ['F19', 'F67'],
  check(host) {
    const targets = host.config.at('boot', 'initrd', 'systemd', 'targets');
    if (targets.unknownNames().length > 0) return [];
    const defined = new Set(targets.childNames().map((name) => (name.endsWith('.target') ? name : `${name}.target`)));
    const units = new Set<Unit>([...rollbackUnits(host).map((item) => item.unit), ...btrfsRollbackUnits(host).map((item) => item.unit)]);
    const findings: Finding[] = [];
    for (const unit of units) {
      const lists = (['wantedBy', 'requiredBy'] as const).map((field) => ({ field, list: host.unitList(unit, field) }));
      if (lists.some(({ list }) => list.open)) continue;
      const entries = lists.flatMap(({ field, list }) => list.values.map((item) => ({ field, item })));
      if (entries.length === 0) continue;
      const typos = entries.map(({ field, item }) => ({ field, item, nearest: item.name.endsWith('.target') && !defined.has(item.name) && !STANDARD_TARGETS.includes(item.name) ? nearestTarget(item.name) : undefined }));
      if (typos.some((typo) => typo.nearest === undefined)) continue;
      const first = typos[0];
      if (!first.item.origin) continue;
      findings.push(
        finding(
          this,
          first.item.origin,
          `${q(unit.name)} is wanted only by ${typos.map((typo) => q(typo.item.name)).join(', ')}, which no unit defines: nothing starts the rollback, so the root is never reset. Did you mean ${q(first.nearest!)}?`,
          { data: { unit, typos: typos.map((typo) => ({ name: typo.item.name, nearest: typo.nearest, origin: typo.item.origin })) } },
        ),
      );
    }
    return findings;
  },
};
