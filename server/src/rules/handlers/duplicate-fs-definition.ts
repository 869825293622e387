/**
 * # duplicate-fs-definition
 *
 * **What.** A mount point is emitted by disko and also written by hand with a different `device` or `fsType`, or
 * with `lib.mkForce` hiding such a difference.
 *
 * **Why.** disko's module defines `fileSystems` at normal priority (F26): equal strings merge, different ones are a
 * "conflicting definition values" error; `lib.mkForce` silences the conflict by dropping disko's whole entry —
 * including the `zfsutil` option it computed (F23).
 *
 * **At build or boot.** A build error, or a mount of another dataset than the layout says.
 *
 * **Fix.** Keep disko's entry and write only what disko does not: `neededForBoot`.
 *
 * ```nix
 * # before
 * fileSystems."/persist" = lib.mkForce { device = "rpool/persist"; fsType = "zfs"; neededForBoot = true; };
 * # after
 * fileSystems."/persist".neededForBoot = true;
 * ```
 */
import { stringText } from '../../model/values';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'duplicate-fs-definition',
  severity: 'warning',
  summary: 'A mount point is defined by disko and again by hand with a different device or fsType.',
  facts: ['F26', 'F23'],
  check(host) {
    if (host.diskoInEffect() !== true) return [];
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      const all = entry.node.definitions;
      const disko = all.filter((definition) => definition.synthetic === 'disko');
      const written = all.filter((definition) => definition.synthetic !== 'disko' && !definition.conditional);
      if (disko.length === 0 || written.length === 0) continue;
      const forced = written.some((definition) => definition.priority < disko[0].priority);
      for (const field of ['device', 'fsType'] as const) {
        const diskoValue = entry.node.child(field).definitions.find((definition) => definition.synthetic === 'disko');
        const own = entry.node.child(field).definitions.find((definition) => definition.synthetic !== 'disko' && !definition.conditional);
        const diskoText = diskoValue && stringText(diskoValue.value);
        const ownText = own && stringText(own.value);
        if (!diskoText || ownText === undefined || diskoText === ownText || !own?.origin) continue;
        const how = forced ? 'lib.mkForce hides the difference' : 'the module system rejects the conflicting values';
        findings.push(
          finding(this, own.origin, `disko mounts ${q(diskoText)} at ${q(entry.mountPoint)}, but this entry says ${field} = ${q(ownText)} (${how}). Keep disko's entry and set only neededForBoot here.`, {
            related: [related(diskoValue.origin, `disko's ${field} for ${entry.mountPoint}`)],
            data: { entry },
          }),
        );
        break;
      }
    }
    return findings;
  },
};
