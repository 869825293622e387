/**
 * # btrfs-rollback-mounts-subvolume
 *
 * **What.** The btrfs rollback mounts the device with `-o subvol=<V>` (V not `/`) or `subvolid=<N>` (N not 5), so
 * it works inside a subvolume instead of the top level.
 *
 * **Why.** The script then looks for `<MNT>/<root>` inside V; the delete fails (or hits a directory of the same name)
 * and nothing is reset. disko itself reaches subvolumes through `mount … -o subvol=/` (F60, F61).
 *
 * **At boot.** The root is never reset; a unit with `set -e` fails.
 *
 * **Fix.** Mount the top level.
 *
 * ```nix
 * # before
 * mount -o subvol=root /dev/mapper/crypted /mnt
 * # after
 * mount -o subvol=/ /dev/mapper/crypted /mnt
 * ```
 */
import { describeBtrfsPlace } from '../btrfs-support';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'btrfs-rollback-mounts-subvolume',
  severity: 'error',
  summary: 'A btrfs rollback mounts a subvolume instead of the top level.',
  facts: ['F60', 'F61'],
  check(host) {
    const findings: Finding[] = [];
    for (const rollback of host.btrfsRollbacks().rollbacks) {
      const options = rollback.mount?.options;
      if (rollback.conditional || !options) continue;
      const chosen = [...options].reverse().find((option) => option.text.startsWith('subvol=') || option.text.startsWith('subvolid='));
      if (!chosen?.origin) continue;
      const value = chosen.text.slice(chosen.text.indexOf('=') + 1);
      const topLevel = chosen.text.startsWith('subvolid=') ? value === '5' : value.replace(/^\/+/, '') === '';
      if (topLevel) continue;
      findings.push(
        finding(
          this,
          chosen.origin,
          `${describeBtrfsPlace(rollback)} mounts ${q(chosen.text)}, a subvolume, not the top level: ${q(`${rollback.mountRoot}/${rollback.subvolume ?? '…'}`)} is then looked for inside it, the delete fails and the root is not reset. Mount the top level with ${q('subvol=/')}.`,
          { related: [related(rollback.removalCommandOrigin, 'the delete')], data: { rollback, option: chosen } },
        ),
      );
    }
    return findings;
  },
};
