/**
 * # unknown-initrd-unit
 *
 * **What.** An initrd unit's `after`, `before`, `requires`, `wantedBy`, … names something that is not a unit name:
 * no `.service`, `.target`, `.mount`, … suffix.
 *
 * **Why.** systemd orders only against unit names; `before = [ "sysroot" ]` orders against nothing (F17).
 *
 * **At boot.** The ordering or dependency silently does not exist.
 *
 * **Fix.** Write the full unit name, e.g. `sysroot.mount`, `initrd.target`.
 *
 * ```nix
 * # before
 * before = [ "sysroot" ];
 * # after
 * before = [ "sysroot.mount" ];
 * ```
 */
import { UNIT_LIST_FIELDS } from '../../model/host-model';
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

const UNIT_SUFFIX = /\.(service|target|mount|automount|socket|device|path|timer|slice|scope|swap)$/;

export const rule: Rule = {
  code: 'unknown-initrd-unit',
  severity: 'warning',
  summary: 'An initrd unit dependency names something that is not a unit.',
  facts: ['F17'],
  check(host) {
    const findings: Finding[] = [];
    for (const unit of host.initrdUnits().units) {
      if (unit.conditional) continue;
      for (const field of UNIT_LIST_FIELDS) {
        for (const item of host.unitList(unit, field).values) {
          if (UNIT_SUFFIX.test(item.name) || !item.origin || item.definition.synthetic) continue;
          const guess = item.name === 'sysroot' ? 'sysroot.mount' : `${item.name}.service`;
          findings.push(finding(this, item.origin, `${q(item.name)} in ${q(field)} of ${q(unit.name)} is not a unit name (did you mean ${q(guess)}?): systemd ignores it.`, { data: { unit, item, field } }));
        }
      }
    }
    return findings;
  },
};
