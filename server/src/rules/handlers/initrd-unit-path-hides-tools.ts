/**
 * # initrd-unit-path-hides-tools
 *
 * **What.** An initrd unit sets `path = [ pkgs.btrfs-progs ]` (or other packages of which we know every program)
 * and its script calls `mount`, `mkdir`, `mktemp`, … which none of them provides.
 *
 * **Why.** In stage 1 a non-empty `path` becomes the unit's whole `PATH` (`Environment=PATH=…`, without the
 * defaults a stage-2 service gets), replacing `/bin:/sbin` (F65, F18). The script runs with `set -e` and stops at the
 * first command it cannot find. btrfs-progs is already in the initrd (`initrdBin`, F64).
 *
 * **At boot.** "mount: command not found"; the unit fails and the root is not reset.
 *
 * **Fix.** Drop `path` (the initrd's own tools are found without it), or add `pkgs.coreutils pkgs.util-linux`.
 *
 * ```nix
 * # before
 * path = [ pkgs.btrfs-progs ];
 * # after
 * # (no path: btrfs, mount and mkdir are in the initrd)
 * ```
 */
import { commandWords, programName, simpleCommands } from '../../model/shell';
import { scriptText } from '../../model/disko';
import { finding, q, related, unitFieldOrigin } from '../support';
import { originOfRange } from '../../model/strings';
import type { Finding, Rule } from '../types';

/** Packages whose programs we know, by attribute path; none of them ships the tools below (F64, F65). */
const KNOWN_PACKAGES = [/^pkgs\.btrfs-progs$/, /^pkgs\.zfs(_\w+)?$/, /^config\.boot\.zfs\.package$/, /^pkgs\.cryptsetup$/];

/** Commands a rollback script typically needs that come from coreutils, util-linux or findutils, not shell builtins. */
const TOOLS = new Set(['mount', 'umount', 'mkdir', 'mktemp', 'rm', 'mv', 'cut', 'date', 'stat', 'find', 'sleep']);

export const rule: Rule = {
  code: 'initrd-unit-path-hides-tools',
  severity: 'error',
  summary: 'An initrd unit\'s path replaces the initrd PATH, so mount, mkdir and the like are not found.',
  facts: ['F65', 'F18', 'F64'],
  check(host) {
    if (host.systemdInitrd().state !== 'on') return [];
    const findings: Finding[] = [];
    for (const unit of host.initrdUnits().units) {
      if (unit.conditional) continue;
      const path = unit.node.child('path').list();
      if (path.open || path.items.length === 0) continue;
      const names = path.items.map((item) => {
        const value = item.thunk.force();
        return !item.definition.conditional && value.kind === 'symbol' ? value.path.join('.') : undefined;
      });
      if (names.some((name) => name === undefined || !KNOWN_PACKAGES.some((pattern) => pattern.test(name)))) continue;
      for (const fragment of unit.scripts) {
        if (fragment.definition.conditional || fragment.field !== 'script') continue;
        const text = scriptText(fragment.value);
        const command = simpleCommands(text).find((candidate) => {
          const words = commandWords(candidate);
          return words.length > 0 && !words[0].dynamic && !words[0].text.includes('/') && TOOLS.has(programName(words[0]));
        });
        if (!command) continue;
        const origin = unitFieldOrigin(unit, 'path');
        if (!origin) continue;
        const tool = programName(commandWords(command)[0]);
        findings.push(
          finding(
            this,
            origin,
            `${q('path')} of ${q(unit.name)} becomes its whole PATH in stage 1 (${names.map((name) => q(name!)).join(', ')}), replacing the initrd's ${q('/bin')}: its script calls ${q(tool)}, which none of them provides, so the script stops there (${q('set -e')}) and the root is not reset. Drop ${q('path')} (btrfs and zfs are already in the initrd), or add ${q('pkgs.coreutils')} and ${q('pkgs.util-linux')}.`,
            { related: [related(originOfRange(fragment.value, command.start, command.end), `${tool} is called here`)], data: { unit } },
          ),
        );
        break;
      }
    }
    return findings;
  },
};
