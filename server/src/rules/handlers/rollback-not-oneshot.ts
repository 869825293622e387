/**
 * # rollback-not-oneshot
 *
 * **What.** An initrd rollback unit's `serviceConfig.Type` is absent or not `"oneshot"`.
 *
 * **Why.** A oneshot unit counts as started only when its process has exited; with the default `simple` type the
 * unit is "started" as soon as the process is forked, so `before = [ "sysroot.mount" ]` lets the mount proceed
 * while `zfs rollback` is still running (F19).
 *
 * **At boot.** The mount races the rollback.
 *
 * **Fix.**
 *
 * ```nix
 * # after
 * serviceConfig.Type = "oneshot";
 * ```
 */
import { finding, q, unitOrigin } from '../support';
import { ephemeralRollbackUnits } from '../btrfs-support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-not-oneshot',
  severity: 'error',
  summary: 'An initrd rollback unit is not Type=oneshot, so the mount does not wait for it.',
  facts: ['F19'],
  check(host) {
    const findings: Finding[] = [];
    for (const { unit } of ephemeralRollbackUnits(host)) {
      const type = unit.node.at('serviceConfig', 'Type').string();
      if (type.state === 'unknown' || (type.state === 'known' && type.value === 'oneshot')) continue;
      if (type.state === 'absent' && unit.node.at('serviceConfig').covers.length > 0) continue;
      const origin = type.state === 'known' ? type.definitions[0].origin : unitOrigin(unit);
      if (!origin) continue;
      const what = type.state === 'known' ? `is ${q(`Type=${type.value}`)}` : `has no ${q('serviceConfig.Type')}, so systemd uses ${q('Type=simple')}`;
      findings.push(
        finding(
          this,
          origin,
          `${q(unit.name)} ${what}: the unit counts as started before its script has finished, so ${q('sysroot.mount')} does not wait for the rollback. Set ${q('serviceConfig.Type = "oneshot";')}.`,
          { data: { unit } },
        ),
      );
    }
    return findings;
  },
};
