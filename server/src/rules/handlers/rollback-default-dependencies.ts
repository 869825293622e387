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

/** The spellings of "yes" systemd's parse_boolean() accepts. */
const YES = new Set(['1', 'yes', 'y', 'true', 't', 'on']);

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
      let written: string | undefined;
      if (resolved.state === 'known') {
        const value = resolved.value;
        const text = value.kind === 'bool' ? String(value.value) : stringText(value);
        // Report only a value that certainly means yes; "no", "false", "0", … (or anything unreadable) is not ours to judge.
        if (text === undefined || !YES.has(text.toLowerCase())) continue;
        written = value.kind === 'bool' ? text : `"${text}"`;
      } else if (unit.node.at('unitConfig').covers.length > 0) continue;
      const origin = resolved.state === 'known' ? resolved.definitions[0].origin : unitOrigin(unit);
      if (!origin) continue;
      const what = written ? `sets ${q(`unitConfig.DefaultDependencies = ${written}`)}` : 'keeps systemd\'s default dependencies';
      findings.push(
        finding(
          this,
          origin,
          `${q(unit.name)} ${what}: it is then ordered after ${q('sysinit.target')} and ${q('basic.target')}, which with ${q('before = [ "sysroot.mount" ]')} can form an ordering cycle that systemd breaks by dropping a unit (possibly the rollback). Set ${q('unitConfig.DefaultDependencies = "no";')}.`,
          { data: { unit } },
        ),
      );
    }
    return findings;
  },
};
