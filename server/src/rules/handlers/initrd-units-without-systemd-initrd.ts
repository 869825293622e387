/**
 * # initrd-units-without-systemd-initrd
 *
 * **What.** A rollback is defined as a `boot.initrd.systemd.services` unit, but systemd in stage 1 is off: set to
 * `false`, or unset on a nixpkgs older than 26.05, where it was off by default (F15).
 *
 * **Why.** Units under `boot.initrd.systemd` are only built into a systemd initrd; the scripted stage 1 ignores them.
 *
 * **At boot.** The unit never runs: the root is silently never reset.
 *
 * **btrfs** (RULES.md §H). The same for an initrd unit that deletes and restores a btrfs subvolume.
 *
 * **Fix.** Turn systemd stage 1 on.
 *
 * ```nix
 * # after
 * boot.initrd.systemd.enable = true;
 * ```
 */
import type { Unit } from '../../model/host-model';
import { btrfsRollbackUnits } from '../btrfs-support';
import { finding, q, related, rollbackUnits, unitOrigin } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'initrd-units-without-systemd-initrd',
  severity: 'error',
  summary: 'A rollback unit is defined under boot.initrd.systemd, but systemd stage 1 is off.',
  facts: ['F15', 'F16'],
  check(host) {
    const systemd = host.systemdInitrd();
    if (systemd.state === 'on' || (systemd.state === 'unknown' && !systemd.releaseUnknown)) return [];
    const findings: Finding[] = [];
    const root = host.rootDataset();
    const subvolume = host.rootSubvolume();
    // Units that run a `zfs rollback` or a btrfs rollback (RULES.md §H: generic), each with whether it resets the root.
    const units = new Map<Unit, boolean>();
    for (const { unit, rollbacks } of rollbackUnits(host)) units.set(unit, rollbacks.some((rollback) => rollback.dataset !== undefined && rollback.dataset === root?.name));
    for (const { unit, rollbacks } of btrfsRollbackUnits(host)) units.set(unit, (units.get(unit) ?? false) || rollbacks.some((rollback) => rollback.subvolume !== undefined && rollback.subvolume === subvolume?.name));
    for (const [unit, resetsRoot] of units) {
      const origin = unitOrigin(unit);
      if (!origin) continue;
      const lost = resetsRoot ? 'the root is never reset' : 'its rollback never happens';
      const fix = `Set ${q('boot.initrd.systemd.enable = true;')}`;
      const message =
        systemd.state === 'off'
          ? `${q(unit.name)} is a systemd initrd unit, but systemd stage 1 is off (${systemd.reason}): the scripted stage 1 ignores ${q('boot.initrd.systemd.services')}, so ${lost}. ${fix}.`
          : `${q(unit.name)} is a systemd initrd unit, but ${q('boot.initrd.systemd.enable')} is unset and the nixpkgs release is unknown: before 26.05 systemd stage 1 is off by default, and then ${lost}. ${fix} to be sure.`;
      findings.push(
        finding(this, origin, message, {
          severity: systemd.state === 'off' ? 'error' : 'warning',
          related: systemd.definitions.map((definition) => related(definition.origin, 'systemd stage 1 is turned off here')),
          data: { unit },
        }),
      );
    }
    return findings;
  },
};
