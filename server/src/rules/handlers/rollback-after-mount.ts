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
 * **btrfs** (RULES.md §H). The same holds for a btrfs rollback that deletes and restores the root subvolume: after
 * the mount, the running system's root subvolume is deleted from under it (or the delete fails).
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
import type { Definition } from '../../model/config';
import type { HostModel, RollbackPlace } from '../../model/host-model';
import type { Origin } from '../../model/values';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

interface RootReset {
  place: RollbackPlace;
  conditional: boolean;
  fragment: { definition: Definition };
  origin?: Origin;
  /** What the fixes read: `rollback` for `zfs rollback`, `btrfsRollback` for a btrfs delete and restore. */
  data: Record<string, unknown>;
}

/**
 * Every certain reset of the root: a `zfs rollback` of the root dataset, or a btrfs rollback (delete and restore or
 * recreate) of the root subvolume (RULES.md §H: the rule is the same for both).
 */
function rootResets(host: HostModel): RootReset[] {
  const resets: RootReset[] = [];
  const root = host.rootDataset();
  if (root) {
    for (const rollback of host.rollbacks().rollbacks) {
      if (!rollback.conditional && rollback.dataset === root.name) resets.push({ ...rollback, data: { rollback } });
    }
  }
  const subvolume = host.rootSubvolume();
  if (subvolume) {
    for (const rollback of host.btrfsRollbacks().rollbacks) {
      if (!rollback.conditional && rollback.subvolume === subvolume.name) resets.push({ place: rollback.place, conditional: false, fragment: rollback.fragment, origin: rollback.removalCommandOrigin, data: { btrfsRollback: rollback } });
    }
  }
  return resets;
}

const MOUNTED_TARGETS = ['sysroot.mount', 'initrd-root-fs.target', 'initrd-fs.target'];

/**
 * Units that systemd orders after the root is mounted (F17): `initrd.target`, `initrd-parse-etc.service`,
 * `initrd-cleanup.service` and `initrd-switch-root.*` come after `initrd-root-fs.target`, NixOS's
 * `initrd-nixos-activation.service` after `initrd-fs.target` (F4), and every mount below `/sysroot` after
 * `sysroot.mount`.
 */
const LATER_UNITS = ['initrd.target', 'initrd-parse-etc.service', 'initrd-nixos-activation.service', 'initrd-cleanup.service', 'initrd-switch-root.target', 'initrd-switch-root.service'];

function afterRootMount(name: string): 'direct' | 'later' | undefined {
  if (MOUNTED_TARGETS.includes(name)) return 'direct';
  if (LATER_UNITS.includes(name) || /^sysroot-.+\.mount$/.test(name)) return 'later';
  return undefined;
}

export const rule: Rule = {
  code: 'rollback-after-mount',
  severity: 'error',
  summary: 'The root dataset is rolled back after it is mounted.',
  facts: ['F17', 'F20'],
  check(host) {
    const findings: Finding[] = [];
    for (const rollback of rootResets(host)) {
      const place = rollback.place;
      if (place.kind === 'initrd-unit') {
        if (place.unit.conditional) continue;
        const afters = host.unitList(place.unit, 'after').values;
        const after = afters.find((item) => afterRootMount(item.name) === 'direct') ?? afters.find((item) => afterRootMount(item.name) === 'later');
        if (!after?.origin) continue;
        const chain = afterRootMount(after.name) === 'later' ? `, which itself comes after ${q('sysroot.mount')}` : '';
        findings.push(
          finding(this, after.origin, `${q(place.unit.name)} is ordered after ${q(after.name)}${chain}: the root is already mounted when it is rolled back. Order it ${q('before = [ "sysroot.mount" ]')} instead.`, {
            related: [related(rollback.origin, 'the rollback')],
            data: { ...rollback.data, after },
          }),
        );
        continue;
      }
      const definition = rollback.fragment.definition;
      // The unit or activation script by its name; the hook by its option name.
      const origin =
        place.kind === 'stage2-unit'
          ? place.unit.origin
          : place.kind === 'activation'
            ? (host.config.at('system', 'activationScripts', place.name).definitions.find((item) => item.keyOrigin)?.keyOrigin ?? definition.keyOrigin ?? definition.origin)
            : definition.keyOrigin ?? definition.origin;
      if (!origin) continue;
      if (place.kind === 'hook' && place.hook === 'postMountCommands') {
        findings.push(finding(this, origin, `${q('postMountCommands')} runs after the root is mounted: rolling it back there fails or pulls files from under the booting system. Roll back before the mount: in ${q('postResumeCommands')} with ${q('lib.mkAfter')} (${q('postDeviceCommands')} before 24.11), or in an initrd unit ordered before ${q('sysroot.mount')}.`, { related: [related(rollback.origin, 'the rollback')], data: rollback.data }));
      } else if (place.kind === 'stage2-unit') {
        findings.push(finding(this, origin, `${q(place.unit.name)} is a stage-2 service: it rolls back the root of the running system. Roll back in an initrd unit ordered before ${q('sysroot.mount')}.`, { related: [related(rollback.origin, 'the rollback')], data: rollback.data }));
      } else if (place.kind === 'activation') {
        findings.push(finding(this, origin, `The activation script ${q(place.name)} rolls back the root of the running system. Roll back in an initrd unit ordered before ${q('sysroot.mount')}.`, { related: [related(rollback.origin, 'the rollback')], data: rollback.data }));
      }
    }
    return findings;
  },
};
