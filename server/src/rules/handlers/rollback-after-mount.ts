/**
 * # rollback-after-mount
 *
 * **What.** The root dataset is rolled back after it is mounted: in `boot.initrd.postMountCommands`, in a stage-2
 * `systemd.services` unit, in an activation script, or in an initrd unit ordered after `sysroot.mount`,
 * `initrd-root-fs.target` or `initrd-fs.target`.
 *
 * **Why.** The root must be rolled back "just before mounting the dataset" (openzfs/zfs#15025, F20): once mounted,
 * the rollback either fails (busy) or pulls the running system's files away (F17 gives the unit order).
 *
 * **At boot.** A failed unit and a root that is not reset, or a system that breaks under its own feet.
 *
 * **Fix.** Roll back in an initrd unit ordered `before = [ "sysroot.mount" ]` (quick fix "Insert rollback service").
 *
 * ```nix
 * # before
 * systemd.services.rollback.script = "zfs rollback -r rpool/local/root@blank";
 * # after
 * boot.initrd.systemd.services.rollback = { before = [ "sysroot.mount" ]; … };
 * ```
 */
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

const MOUNTED_TARGETS = ['sysroot.mount', 'initrd-root-fs.target', 'initrd-fs.target'];

export const rule: Rule = {
  code: 'rollback-after-mount',
  severity: 'error',
  summary: 'The root dataset is rolled back after it is mounted.',
  facts: ['F17', 'F20'],
  check(host) {
    const root = host.rootDataset();
    if (!root) return [];
    const findings: Finding[] = [];
    for (const rollback of host.rollbacks().rollbacks) {
      if (rollback.conditional || rollback.dataset !== root.name) continue;
      const place = rollback.place;
      if (place.kind === 'initrd-unit') {
        if (place.unit.conditional) continue;
        const after = host.unitList(place.unit, 'after').values.find((item) => MOUNTED_TARGETS.includes(item.name));
        if (!after?.origin) continue;
        findings.push(
          finding(this, after.origin, `${q(place.unit.name)} is ordered after ${q(after.name)}: the root is already mounted when it is rolled back.`, {
            related: [related(rollback.origin, 'the rollback')],
            data: { rollback, after },
          }),
        );
        continue;
      }
      const definition = rollback.fragment.definition;
      const origin = place.kind === 'stage2-unit' ? place.unit.origin : definition.keyOrigin ?? definition.origin;
      if (!origin) continue;
      if (place.kind === 'hook' && place.hook === 'postMountCommands') {
        findings.push(finding(this, origin, '`postMountCommands` runs after the root is mounted: rolling it back there fails or pulls files from under the booting system.', { related: [related(rollback.origin, 'the rollback')], data: { rollback } }));
      } else if (place.kind === 'stage2-unit') {
        findings.push(finding(this, origin, `${q(place.unit.name)} is a stage-2 service: it rolls back the root of the running system. Roll back in an initrd unit before sysroot.mount.`, { related: [related(rollback.origin, 'the rollback')], data: { rollback } }));
      } else if (place.kind === 'activation') {
        findings.push(finding(this, origin, `The activation script ${q(place.name)} rolls back the root of the running system. Roll back in an initrd unit before sysroot.mount.`, { related: [related(rollback.origin, 'the rollback')], data: { rollback } }));
      }
    }
    return findings;
  },
};
