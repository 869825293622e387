/**
 * # machine-id-preserved-late
 *
 * **What.** `preservation.preserveAt."<S>".files` keeps `/etc/machine-id` without `inInitrd = true`.
 *
 * **Why.** preservation's own option text: "/etc/machine-id is an exception because it needs to be populated/read
 * very early", and every preservation example sets `inInitrd = true` for it (F54, F69). Without it the file is bound
 * in stage 2, after systemd has already read or generated a machine id.
 *
 * **At boot.** systemd starts with a different machine id than the one kept: the journal of earlier boots is under
 * another id (F54).
 *
 * **Fix.**
 *
 * ```nix
 * # before
 * preservation.preserveAt."/persist".files = [ "/etc/machine-id" ];
 * # after
 * preservation.preserveAt."/persist".files = [ { file = "/etc/machine-id"; inInitrd = true; } ];
 * ```
 */
import { finding, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'machine-id-preserved-late',
  severity: 'warning',
  summary: 'preservation keeps /etc/machine-id without inInitrd = true: it is bound after systemd read it.',
  facts: ['F54', 'F69'],
  check(host) {
    if (!host.isNixosHost) return [];
    const enable = host.config.at('preservation', 'enable').bool();
    if (!(enable.state === 'known' && enable.value)) return [];
    const findings: Finding[] = [];
    for (const root of host.persistenceDetails().roots) {
      if (root.module !== 'preservation' || root.conditional) continue;
      for (const entry of root.entries) {
        if (entry.type !== 'file' || entry.path !== '/etc/machine-id' || entry.inInitrd !== false || entry.user || !entry.origin) continue;
        findings.push(
          finding(this, entry.origin, `preservation keeps /etc/machine-id in ${JSON.stringify(root.path)} without inInitrd = true: it is bound in stage 2, after systemd has read or generated a machine id. Write { file = "/etc/machine-id"; inInitrd = true; }.`, {
            related: [related(root.origin, 'the preservation root')],
            data: { persistRoot: root.path },
          }),
        );
      }
    }
    return findings;
  },
};
