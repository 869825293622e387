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
          const guess = guessUnitName(item.name);
          const hint = guess ? ` (did you mean ${q(guess)}?)` : '';
          findings.push(
            finding(
              this,
              item.origin,
              `${q(item.name)} in ${q(field)} of ${q(unit.name)} is not a unit name${hint}: a unit name ends in its type (.service, .target, .mount, …), so systemd ignores this entry and the dependency does not exist.`,
              { data: { unit, item, field, guess } },
            ),
          );
        }
      }
    }
    return findings;
  },
};
