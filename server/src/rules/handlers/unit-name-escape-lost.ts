/**
 * # unit-name-escape-lost
 *
 * **What.** A unit name in `after`, `before`, `requires`, `wants`, `bindsTo`, `wantedBy` or `requiredBy` is a
 * double-quoted Nix string with `\x` in it, typically a device unit: `"dev-disk-by\x2dlabel-ROOT.device"`.
 *
 * **Why.** In a double-quoted Nix string a backslash before anything but `n`, `r`, `t` is dropped (F66):
 * `"dev-disk-by\x2dlabel-ROOT.device"` is `dev-disk-byx2dlabel-ROOT.device`, a unit that never appears. systemd's
 * own escape `\x2d` must reach it as written (F67).
 *
 * **At boot.** In `requires`/`bindsTo`/`wantedBy`/`requiredBy` (error) the unit waits for, or is wanted by, a unit
 * that never shows up; in `after`/`before`/`wants` (warning) it is ordered against nothing.
 *
 * **Fix.** Double the backslash (or use an indented `''…''` string, which keeps it).
 *
 * ```nix
 * # before
 * after = [ "dev-disk-by\x2dlabel-ROOT.device" ];
 * # after
 * after = [ "dev-disk-by\\x2dlabel-ROOT.device" ];
 * ```
 */
import { stringText } from '../../model/values';
import { lostEscapes } from '../btrfs-support';
import { finding, q } from '../support';
import type { Finding, Rule, Severity } from '../types';

/** Fields where a name that never appears stops or orphans the unit (error), and those where it only orders (warning). */
const FIELDS: [string, Severity][] = [
  ['requires', 'error'],
  ['bindsTo', 'error'],
  ['wantedBy', 'error'],
  ['requiredBy', 'error'],
  ['after', 'warning'],
  ['before', 'warning'],
  ['wants', 'warning'],
];

export const rule: Rule = {
  code: 'unit-name-escape-lost',
  severity: 'error',
  summary: 'A "\\x2d" in a double-quoted Nix string loses its backslash, so the unit name never matches.',
  facts: ['F66', 'F67'],
  check(host) {
    const findings: Finding[] = [];
    for (const units of [host.initrdUnits(), host.stage2Units()]) {
      for (const unit of units.units) {
        for (const [field, severity] of FIELDS) {
          for (const item of unit.node.child(field).list().items) {
            const value = item.thunk.force();
            const lost = lostEscapes(value);
            if (lost.length === 0) continue;
            const name = stringText(value) ?? '';
            findings.push(
              finding(
                this,
                lost[0],
                `In a double-quoted Nix string ${q('\\x')} loses its backslash, so this ${q(field)} entry of ${q(unit.name)} is ${q(name)}, a unit that never appears${severity === 'error' ? (field === 'wantedBy' || field === 'requiredBy' ? ': nothing pulls the unit in' : ': the unit waits for it and fails') : ': it orders against nothing'}. Write ${q('\\\\x')} (or use an indented ${q("''…''")} string).`,
                { severity, data: { unit, escapes: lost } },
              ),
            );
          }
        }
      }
    }
    return findings;
  },
};
