/**
 * # btrfs-rollback-nested-subvolumes
 *
 * **What.** The btrfs rollback deletes the root subvolume (`btrfs subvolume delete <MNT>/<root>`) without first
 * deleting the subvolumes nested in it, while `/var/lib/machines` and `/var/lib/portables` lie on the root.
 *
 * **Why.** systemd-tmpfiles creates `/var/lib/machines` and `/var/lib/portables` as subvolumes when `/` is a
 * subvolume (`Q` lines that NixOS ships, F62). From the second boot `btrfs subvolume delete` of the root fails with
 * "Could not destroy subvolume/snapshot: Directory not empty", and the restore then lands *inside* the old root
 * (`root/root-blank`): the root is never wiped again (F61). In a systemd unit (`set -e`, F65) the unit fails.
 *
 * **At boot.** The first boot is fine; from the second one nothing is erased any more, silently for a scripted hook.
 *
 * **Fix.** Delete the nested subvolumes first (the impermanence README uses a recursive helper, F63).
 *
 * ```nix
 * # before
 * script = ''
 *   btrfs subvolume delete /mnt/root
 *   btrfs subvolume snapshot /mnt/root-blank /mnt/root
 * '';
 * # after
 * script = ''
 *   btrfs subvolume list -o /mnt/root | cut -f9 -d' ' | while read -r sv; do
 *     btrfs subvolume delete "/mnt/$sv"
 *   done
 *   btrfs subvolume delete /mnt/root
 *   btrfs subvolume snapshot /mnt/root-blank /mnt/root
 * '';
 * ```
 */
import { describeBtrfsPlace, pathKeptApart } from '../btrfs-support';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** Paths whose tmpfiles `Q`/`v` lines make nested subvolumes when they lie on the root subvolume (F62). */
const SUBVOLUME_PATHS = ['/var', '/var/lib', '/var/lib/machines', '/var/lib/portables'];

export const rule: Rule = {
  code: 'btrfs-rollback-nested-subvolumes',
  severity: 'error',
  summary: 'A btrfs rollback deletes the root subvolume without first deleting the subvolumes systemd nests in it.',
  facts: ['F61', 'F62', 'F65', 'F63'],
  check(host) {
    const root = host.rootSubvolume();
    if (!root) return [];
    const findings: Finding[] = [];
    for (const rollback of host.btrfsRollbacks().rollbacks) {
      if (rollback.conditional || rollback.subvolume !== root.name || rollback.removal !== 'delete' || rollback.deletesNested || rollback.opaqueCalls) continue;
      if (!SUBVOLUME_PATHS.every((target) => pathKeptApart(host, target) === 'none')) continue;
      const origin = rollback.removalCommandOrigin ?? rollback.removalOrigin;
      if (!origin) continue;
      findings.push(
        finding(
          this,
          origin,
          `${describeBtrfsPlace(rollback)} deletes the subvolume ${q(root.name)} without deleting the subvolumes nested in it. systemd-tmpfiles creates ${q('/var/lib/machines')} and ${q('/var/lib/portables')} as subvolumes inside ${q(root.name)} on the first boot, so from the second boot the delete fails ("Directory not empty"), the restore lands inside the old root, and the root is never wiped again. Delete the nested subvolumes first (${q(`btrfs subvolume list -o ${rollback.mountRoot}/${root.name}`)} in a loop).`,
          { related: [related(root.origin, `the root subvolume ${root.name}`)], data: { rollback, subvolume: root.name } },
        ),
      );
    }
    return findings;
  },
};
