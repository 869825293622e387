/**
 * # rollback-default-dependencies
 *
 * **What.** An initrd rollback unit keeps systemd's default dependencies: no `unitConfig.DefaultDependencies = "no"`.
 *
 * **Why.** With default dependencies a service is ordered after `sysinit.target` and `basic.target` (F19). A unit
 * after `basic.target` and before `sysroot.mount` produced an ordering cycle (systemd#12231); NixOS's own
 * `zfs-import-*` units and impermanence's initrd mounts all set `DefaultDependencies=no`.
 *
 * **At boot.** An ordering cycle that systemd breaks by dropping a unit — possibly the rollback — or a late rollback.
 *
 * **Fix.**
 *
 * ```nix
 * # after
 * unitConfig.DefaultDependencies = "no";
 * ```
 */
import { stringText } from '../../model/values';
import { finding, q, rollbackUnits, unitOrigin } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-default-dependencies',
  severity: 'warning',
  summary: 'An initrd rollback unit keeps systemd default dependencies.',
  facts: ['F19'],
  check(host) {
    const findings: Finding[] = [];
    for (const { unit } of rollbackUnits(host)) {
      const resolved = unit.node.at('unitConfig', 'DefaultDependencies').scalar();
      if (resolved.state === 'unknown') continue;
      if (resolved.state === 'known') {
        const value = resolved.value;
        const off = value.kind === 'bool' ? !value.value : ['no', 'false', '0', 'off'].includes((stringText(value) ?? '').toLowerCase());
        if (off) continue;
      } else if (unit.node.at('unitConfig').covers.length > 0) continue;
      const origin = unitOrigin(unit);
      if (!origin) continue;
      findings.push(finding(this, origin, `${q(unit.name)} keeps the default dependencies (after basic.target), which can make an ordering cycle with sysroot.mount; set unitConfig.DefaultDependencies = "no".`, { data: { unit } }));
    }
    return findings;
  },
};
