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
import type { ConfigNode } from '../../model/config';
import { stringText } from '../../model/values';
import { finding, q, unitFieldOrigin, unitOrigin } from '../support';
import { ephemeralRollbackUnits } from '../btrfs-support';
import type { Finding, Rule } from '../types';
import { guessUnitName } from './unknown-initrd-unit';

/** A systemd unit name ends in its type. */
const UNIT_NAME = /\.(service|target|mount|automount|socket|device|path|timer|slice|scope|swap)$/;

export const rule: Rule = {
  code: 'rollback-not-pulled-in',
  severity: 'error',
  summary: 'An initrd rollback unit is never pulled in, so it never runs.',
  facts: ['F19'],
  check(host) {
    const all = host.initrdUnits();
    if (all.open || host.kind !== 'nixos') return [];
    const systemd = host.config.at('boot', 'initrd', 'systemd');
    const others = ['targets', 'mounts', 'units', 'sockets', 'timers', 'paths'].map((kind) => systemd.child(kind));
    if (others.some((node) => node.open)) return [];
    const findings: Finding[] = [];
    for (const { unit } of ephemeralRollbackUnits(host)) {
      const pulled = ['wantedBy', 'requiredBy', 'upheldBy'] as const;
      const own = pulled.map((field) => host.unitList(unit, field));
      // An entry without a unit type (`wantedBy = [ "initrd" ]`) names no unit, so it pulls nothing in
      // (unknown-initrd-unit reports the entry itself).
      const invalid = own.flatMap((list, index) => list.values.filter((item) => !UNIT_NAME.test(item.name)).map((item) => ({ name: item.name, field: pulled[index] })));
      if (own.some((list) => list.open || list.values.some((item) => UNIT_NAME.test(item.name)))) continue;
      const unitName = `${unit.name}.service`;
      const wantedByService = all.units.some((other) => other !== unit && pullsIn(other.node, unitName));
      // Another target, mount, … that wants it; `units."rollback.service"` or a socket/timer/path of the same name
      // may add dependencies or activate it: stay silent then.
      const [targets, mounts, units, ...activators] = others;
      const wantedByOther =
        [targets, mounts].some((kind) => kind.childNames().some((name) => pullsIn(kind.child(name), unitName))) ||
        !units.child(unitName).absent ||
        activators.some((kind) => kind.childNames().includes(unit.name));
      if (wantedByService || wantedByOther) continue;
      const origin = invalid.length > 0 ? unitFieldOrigin(unit, invalid[0].field) : unitOrigin(unit);
      if (!origin) continue;
      const why =
        invalid.length > 0
          ? `${invalid.map((item) => `${q(item.name)} in ${q(item.field)}`).join(', ')} is not a unit name`
          : 'no wantedBy/requiredBy, and no other unit wants it';
      const guess = invalid.length > 0 ? guessUnitName(invalid[0].name) : undefined;
      const fix = guess ? `Write ${q(guess)} there.` : 'Add `wantedBy = [ "initrd.target" ];`.';
      findings.push(
        finding(this, origin, `Nothing pulls ${q(unit.name)} in (${why}): \`before\`/\`after\` only order units, so it never runs and the root is never reset. ${fix}`, {
          data: { unit },
        }),
      );
    }
    return findings;
  },
};

/** Whether a unit's `wants`/`requires`/`bindsTo`/`upholds` (or their raw `unitConfig` spelling) might name `unitName`. */
function pullsIn(node: ConfigNode, unitName: string): boolean {
  for (const field of ['wants', 'requires', 'bindsTo', 'upholds']) {
    const list = node.child(field).list();
    const names = list.items.map((item) => stringText(item.thunk.force()));
    if (list.open || names.some((name) => name === undefined || name === unitName)) return true;
    const raw = node.at('unitConfig', field.charAt(0).toUpperCase() + field.slice(1)).scalar();
    if (raw.state === 'unknown') return true;
    if (raw.state === 'known') {
      const text = stringText(raw.value);
      if (text === undefined || text.split(/\s+/).includes(unitName)) return true;
    }
  }
  return false;
}
