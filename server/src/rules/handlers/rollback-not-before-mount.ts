/**
 * # rollback-not-before-mount
 *
 * **What.** An initrd rollback unit is not ordered `before` the mount unit of the dataset it rolls back
 * (`sysroot.mount` for the root).
 *
 * **Why.** Only `Before=sysroot.mount` makes the mount wait for the rollback. `before = [ "initrd-root-fs.target" ]`
 * alone does not: the mount unit and the rollback are then both merely before that target, in any order (F17, F20).
 * The unit must also be `Type=oneshot` for the wait to last until the rollback is done (F19).
 *
 * **At boot.** The root can be mounted first. OpenZFS rolls back a mounted file system online — `zfs_ioc_rollback`
 * suspends it, swaps in the snapshot and resumes it (F39) — so the rollback succeeds, but it swaps the files under
 * the running mount: whatever early boot already wrote or opened there (activation, the journal, services in the
 * initrd) vanishes mid-flight, and the root is clean only by luck of timing.
 *
 * **btrfs** (RULES.md §H). The same for an initrd unit that deletes and restores the root subvolume.
 *
 * **Fix.** Order it before the mount.
 *
 * ```nix
 * # after
 * before = [ "sysroot.mount" ];
 * ```
 */
import { btrfsRollbackUnits } from '../btrfs-support';
import { finding, initrdMountUnit, q, related, rollbackUnits, unitFieldOrigin } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-not-before-mount',
  severity: 'error',
  summary: 'An initrd rollback unit is not ordered before the mount of the dataset it rolls back.',
  facts: ['F17', 'F19', 'F20', 'F39'],
  check(host) {
    const root = host.rootDataset();
    const subvolume = host.rootSubvolume();
    // Initrd units that reset the root: `zfs rollback` of the root dataset, or a btrfs rollback of the root subvolume.
    const units = [
      ...(root ? rollbackUnits(host).filter(({ rollbacks }) => rollbacks.some((rollback) => rollback.dataset === root.name)) : []).map(({ unit, rollbacks }) => ({ unit, origins: rollbacks.map((rollback) => rollback.origin), btrfs: false })),
      ...(subvolume ? btrfsRollbackUnits(host).filter(({ rollbacks }) => rollbacks.some((rollback) => rollback.subvolume === subvolume.name)) : []).map(({ unit, rollbacks }) => ({ unit, origins: rollbacks.map((rollback) => rollback.removalCommandOrigin), btrfs: true })),
    ];
    const findings: Finding[] = [];
    for (const { unit, origins, btrfs } of units) {
      const before = host.unitList(unit, 'before');
      const mountUnit = initrdMountUnit('/');
      if (before.open || before.values.some((item) => item.name === mountUnit)) continue;
      const origin = unitFieldOrigin(unit, 'before');
      if (!origin) continue;
      const targetOnly = before.values.find((item) => item.name.endsWith('.target'));
      let detail = targetOnly ? ` Being before ${q(targetOnly.name)} does not order it against the mount: both are merely before that target.` : '';
      // `requiredBy`/`wantedBy = [ "sysroot.mount" ]` pulls the unit in with the mount but does not order the two (F19).
      const pulledBy = (['requiredBy', 'wantedBy'] as const).find((field) => host.unitList(unit, field).values.some((item) => item.name === mountUnit));
      if (pulledBy) detail += ` ${q(pulledBy)} starts it together with ${q(mountUnit)} but does not order the two.`;
      findings.push(
        finding(this, origin, `${q(unit.name)} is not ordered before ${q(mountUnit)}, so the root can be mounted before it is ${btrfs ? 'reset' : 'rolled back'}: ${btrfs ? `the root subvolume ${q(subvolume!.name)} is then deleted and restored while it is mounted (or the delete fails), and what early boot already wrote there vanishes or survives by chance` : 'ZFS then rolls the mounted dataset back under the running system, and what early boot already wrote or holds open there vanishes mid-flight'}.${detail} Add \`before = [ "${mountUnit}" ];\`.`, {
          related: origins.map((rollbackOrigin) => related(rollbackOrigin, 'the rollback')),
          data: { unit, mountUnit },
        }),
      );
    }
    return findings;
  },
};
