/**
 * # rollback-not-pulled-in
 *
 * **What.** An initrd rollback unit has no `wantedBy`/`requiredBy`, and no other unit wants it.
 *
 * **Why.** `before`/`after` only order units; a unit runs only if something pulls it in (F19).
 *
 * **At boot.** The unit never runs: the root is silently never reset.
 *
 * **Fix.**
 *
 * ```nix
 * # after
 * wantedBy = [ "initrd.target" ];
 * ```
 */
import { stringText } from '../../model/values';
import { finding, q, rollbackUnits, unitOrigin } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-not-pulled-in',
  severity: 'error',
  summary: 'An initrd rollback unit is never pulled in, so it never runs.',
  facts: ['F19'],
  check(host) {
    const all = host.initrdUnits();
    if (all.open || host.kind !== 'nixos') return [];
    const targets = host.config.at('boot', 'initrd', 'systemd', 'targets');
    if (targets.open) return [];
    const findings: Finding[] = [];
    for (const { unit } of rollbackUnits(host)) {
      const pulled = ['wantedBy', 'requiredBy', 'upheldBy'] as const;
      const own = pulled.map((field) => host.unitList(unit, field));
      if (own.some((list) => list.open || list.values.length > 0)) continue;
      const unitName = `${unit.name}.service`;
      const wantedElsewhere = all.units.some((other) => {
        if (other === unit) return false;
        return (['wants', 'requires', 'upholds'] as const).some((field) => {
          const list = other.node.child(field).list();
          return list.open || list.items.some((item) => {
            const name = stringText(item.thunk.force());
            return name === undefined || name === unitName;
          });
        });
      });
      const wantedByTarget = targets.childNames().some((name) => {
        const list = targets.child(name).child('wants').list();
        return list.open || list.items.length > 0;
      });
      if (wantedElsewhere || wantedByTarget) continue;
      const origin = unitOrigin(unit);
      if (!origin) continue;
      findings.push(finding(this, origin, `Nothing pulls ${q(unit.name)} in (no wantedBy/requiredBy): it never runs, and the root is never reset.`, { data: { unit } }));
    }
    return findings;
  },
};
