/**
 * # Mark the mount needed for boot
 *
 * Sets `fileSystems."<mp>".neededForBoot = true;` for the mount that holds persistent storage (or is a parent of a
 * persisted path), so stage 1 mounts it before impermanence or preservation set up their paths from it (F31, F1).
 * It goes into the file that writes that entry, in the entry's own style (inside its attribute set, also under
 * `lib.mkForce`, or as one more dotted binding), else into the host's configuration (an entry disko alone emits);
 * a written `neededForBoot = false` becomes `true`. Fixes `persist-not-needed-for-boot` and
 * `ephemeral-parent-not-needed-for-boot`. No fix when `neededForBoot` is written as something other than a literal,
 * or under a condition.
 *
 * An entry in a generated file (`hardware-configuration.nix`, or a "do not modify" header) stays as it is:
 * `fileSystems."<mp>".neededForBoot = true;` goes into the host's own module and merges with it. A `false` written
 * in a generated file would take `lib.mkForce true`: no fix.
 *
 * ```nix
 * # before (environment.persistence."/persist" in another module)
 * fileSystems."/persist" = {
 *   device = "rpool/safe/persist";
 *   fsType = "zfs";
 * };
 * # after
 * fileSystems."/persist" = {
 *   device = "rpool/safe/persist";
 *   fsType = "zfs";
 *   neededForBoot = true;
 * };
 * ```
 */
import type { FileSystemEntry } from '../../model/host-model';
import { setNeededForBoot } from '../filesystem-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'mark-needed-for-boot',
  codes: ['persist-not-needed-for-boot', 'ephemeral-parent-not-needed-for-boot'],
  fixes({ finding, host, workspace }) {
    const entry = finding.data?.entry as FileSystemEntry | undefined;
    if (!entry) return [];
    const edits = setNeededForBoot(host, workspace, entry.mountPoint);
    return edits ? [{ title: `Mount ${entry.mountPoint} in stage 1 (fileSystems.${JSON.stringify(entry.mountPoint)}.neededForBoot = true)`, preferred: true, edits }] : [];
  },
};
