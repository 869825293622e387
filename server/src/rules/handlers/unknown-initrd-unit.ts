/**
 * # unknown-initrd-unit
 *
 * **What.** An initrd unit's `after`, `before`, `wants`, `requires`, `wantedBy`, `requiredBy`, … names something that
 * is not a unit name: no `.service`, `.target`, `.mount`, … suffix. Or the raw `unitConfig.Before = "…"` spelling
 * does.
 *
 * **Why.** NixOS types those fields of `boot.initrd.systemd.services.<n>` as `listOf unitNameType`, a string that
 * must end in a unit type (`nixos/lib/systemd-unit-options.nix`, F33): `before = [ "sysroot" ]` fails evaluation
 * with "is not of type `string matching the pattern …`". The free-form `unitConfig.Before = "sysroot"` is not
 * checked; it reaches systemd, which ignores a dependency on a name that is no unit (F17).
 *
 * **At build or boot.** In a typed field, with systemd stage 1 on, the build fails: **error**. With systemd stage 1
 * off the initrd units are never built, so the mistake waits for the day it is turned on: warning, as when that is
 * unknown. In `unitConfig` the build passes and the ordering or dependency silently does not exist: warning.
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
import { editDistance } from '../../model/edit-distance';

const UNIT_TYPES = ['service', 'target', 'mount', 'automount', 'socket', 'device', 'path', 'timer', 'slice', 'scope', 'swap'];
const UNIT_SUFFIX = new RegExp(`\\.(${UNIT_TYPES.join('|')})$`);

/** Targets that initrd and ZFS units commonly name (bootup(7), F8, F17). */
const KNOWN_TARGETS = new Set([
  'initrd', 'initrd-root-device', 'initrd-root-fs', 'initrd-usr-fs', 'initrd-fs', 'initrd-switch-root', 'initrd-cleanup',
  'zfs', 'zfs-import', 'sysinit', 'basic', 'local-fs', 'local-fs-pre', 'remote-fs', 'cryptsetup', 'cryptsetup-pre',
  'network', 'network-online', 'network-pre', 'multi-user', 'default', 'shutdown', 'emergency', 'rescue', 'sockets',
  'timers', 'paths', 'slices', 'swap', 'umount', 'final',
]);


/** The unit name the user most likely meant, if we can tell. */
export function guessUnitName(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    // A misspelt type (`.serivce`, `.mnt`): offer the closest real one.
    const suffix = name.slice(dot + 1);
    const closest = UNIT_TYPES.map((type) => ({ type, distance: editDistance(suffix, type) })).sort((a, b) => a.distance - b.distance)[0];
    if (/^[a-z]+$/.test(suffix) && closest.distance <= 2) return `${name.slice(0, dot)}.${closest.type}`;
  }
  if (name === 'sysroot' || name.startsWith('sysroot-')) return `${name}.mount`;
  if (name.startsWith('dev-')) return `${name}.device`;
  if (KNOWN_TARGETS.has(name)) return `${name}.target`;
  if (/^[A-Za-z0-9:_.@\\-]+$/.test(name) && !name.includes('/')) return `${name}.service`;
  return undefined;
}

export const rule: Rule = {
  code: 'unknown-initrd-unit',
  severity: 'error',
  summary: 'An initrd unit dependency names something that is not a unit (a build error in the typed fields).',
  facts: ['F33', 'F17'],
  check(host) {
    const findings: Finding[] = [];
    // The initrd units are evaluated (and their typed fields checked) only when systemd stage 1 is on.
    const built = host.systemdInitrd().state === 'on';
    for (const unit of host.initrdUnits().units) {
      if (unit.conditional) continue;
      for (const field of UNIT_LIST_FIELDS) {
        for (const item of host.unitList(unit, field).values) {
          if (UNIT_SUFFIX.test(item.name) || !item.origin || item.definition.synthetic) continue;
          const guess = guessUnitName(item.name);
          const hint = guess ? ` (did you mean ${q(guess)}?)` : '';
          const rawField = `unitConfig.${field.charAt(0).toUpperCase()}${field.slice(1)}`;
          let consequence: string;
          if (item.raw) consequence = `NixOS passes ${q(rawField)} to systemd unchecked, and systemd ignores a name that is no unit, so the dependency does not exist`;
          else if (built) consequence = `NixOS types ${q(field)} as a list of unit names and the build fails ("is not of type \`string matching the pattern …\`")`;
          else consequence = `NixOS types ${q(field)} as a list of unit names, so the build fails as soon as systemd stage 1 is on (${host.systemdInitrd().reason})`;
          findings.push(
            finding(this, item.origin, `${q(item.name)} in ${q(item.raw ? rawField : field)} of ${q(unit.name)} is not a unit name${hint}: a unit name ends in its type (.service, .target, .mount, …). ${consequence}.`, {
              severity: !item.raw && built ? 'error' : 'warning',
              data: { unit, item, field, guess },
            }),
          );
        }
      }
    }
    return findings;
  },
};
