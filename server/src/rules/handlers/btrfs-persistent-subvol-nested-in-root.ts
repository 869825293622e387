/**
 * # btrfs-persistent-subvol-nested-in-root
 *
 * **What.** disko declares a subvolume with a mount point (`/nix`, `/persist`, `/home`) whose name puts it inside the
 * root subvolume (`root/nix` under `root`), and the btrfs rollback deletes the root's nested subvolumes.
 *
 * **Why.** disko nests subvolumes by name (F60: `root/nix` is created inside `root`), and `btrfs subvolume list -o`
 * of the root lists it with the others (F61 d): the loop that makes the rollback work deletes it too.
 *
 * **At boot.** The data kept on that subvolume (the store, the persisted state) is deleted at every boot.
 *
 * **Fix.** None automatic: make it a top-level subvolume (`nix`, not `root/nix`), which needs the disk reformatted
 * or the subvolume moved by hand.
 *
 * ```nix
 * # before
 * subvolumes = { "root" = { mountpoint = "/"; }; "root/nix" = { mountpoint = "/nix"; }; };
 * # after
 * subvolumes = { "root" = { mountpoint = "/"; }; "nix" = { mountpoint = "/nix"; }; };
 * ```
 */
import { describeBtrfsPlace } from '../btrfs-support';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'btrfs-persistent-subvol-nested-in-root',
  severity: 'error',
  summary: 'A persistent btrfs subvolume is nested inside the root subvolume that the rollback wipes.',
  facts: ['F60', 'F61'],
  check(host) {
    const root = host.rootSubvolume();
    if (!root?.subvolume) return [];
    const rollback = host.btrfsRollbacks().rollbacks.find((candidate) => !candidate.conditional && candidate.subvolume === root.name && candidate.removal !== 'move' && candidate.deletesNested);
    if (!rollback) return [];
    const findings: Finding[] = [];
    for (const subvolume of root.subvolume.filesystem.subvolumes) {
      if (!subvolume.name.startsWith(`${root.name}/`) || subvolume.mountpoint.state !== 'known' || !subvolume.mountpoint.value || !subvolume.origin) continue;
      findings.push(
        finding(
          this,
          subvolume.origin,
          `The subvolume ${q(subvolume.name)} (mounted at ${q(subvolume.mountpoint.value)}) lies inside the root subvolume ${q(root.name)}, and ${describeBtrfsPlace(rollback)} deletes every subvolume nested in ${q(root.name)} before restoring it: what ${q(subvolume.mountpoint.value)} holds is deleted at every boot. Make it a top-level subvolume (for example ${q(subvolume.name.slice(root.name.length + 1))}); that needs the disk reformatted or the subvolume moved by hand.`,
          { related: [related(rollback.removalCommandOrigin, 'the rollback deletes the nested subvolumes'), related(root.subvolume.origin, `the root subvolume ${root.name}`)] },
        ),
      );
    }
    return findings;
  },
};
