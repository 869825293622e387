/**
 * # rollback-default-dependencies
 *
 * **What.** An initrd rollback unit keeps systemd's default dependencies: no `unitConfig.DefaultDependencies = "no"`.
 *
 * **Why.** With default dependencies a service is ordered after `sysinit.target` and `basic.target` (F19). In the
 * initrd `basic.target` is reached late, and a unit that must run before `sysroot.mount` then waits for everything
 * `basic.target` waits for: the rollback starts late, and any unit in that chain that is itself ordered after the
 * root mount turns the wait into a deadlock that systemd resolves by dropping a job. The ordering cycle every such
 * unit once produced (systemd#12231) was fixed in 2019 by systemd PR #12281, which gave the `/sysroot` mounts
 * `DefaultDependencies=no` (F38); NixOS's own `zfs-import-*` units and impermanence's initrd mounts still set
 * `DefaultDependencies=no`.
 *
 * **At boot.** A late rollback, and a fragile order that a further unit can turn into a deadlock.
 *
 * **Fix.**
 *
 * ```nix
 * # after
 * unitConfig.DefaultDependencies = "no";
 * ```
 */
import { stringText } from '../../model/values';
import { finding, q, unitOrigin } from '../support';
import { ephemeralRollbackUnits } from '../btrfs-support';
import type { Finding, Rule } from '../types';

/** The spellings of "yes" systemd's parse_boolean() accepts. */
const YES = new Set(['1', 'yes', 'y', 'true', 't', 'on']);

export const rule: Rule = {
  code: 'rollback-default-dependencies',
  severity: 'warning',
  summary: 'An initrd rollback unit keeps systemd default dependencies.',
  facts: ['F19', 'F38'],
  check(host) {
    const findings: Finding[] = [];
    for (const { unit } of ephemeralRollbackUnits(host)) {
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
          `${q(unit.name)} ${what}: it is then ordered after ${q('sysinit.target')} and ${q('basic.target')}, which the initrd reaches late, so the rollback that ${q('sysroot.mount')} waits for starts late, and a unit in that chain ordered after the root mount makes it a deadlock that systemd breaks by dropping a job. Set ${q('unitConfig.DefaultDependencies = "no";')} as NixOS's own zfs-import units do.`,
          { data: { unit } },
        ),
      );
    }
    return findings;
  },
};
