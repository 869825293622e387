/**
 * # Mount the top level in the btrfs rollback
 *
 * Replaces the `subvol=<V>` (or `subvolid=<N>`) option of the rollback's `mount` with `subvol=/`, so the script sees
 * every subvolume of the file system by its own name, as disko itself does when it manages subvolumes (F60). Fixes
 * `btrfs-rollback-mounts-subvolume`. Offered only when the option is written literally in a file the user owns (not
 * a generated one).
 *
 * ```nix
 * # before
 * mount -o subvol=@ /dev/mapper/crypted /mnt
 * # after
 * mount -o subvol=/ /dev/mapper/crypted /mnt
 * ```
 */
import type { Origin } from '../../model/values';
import { isGenerated } from '../generated';
import { edit } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'mount-btrfs-top-level',
  codes: ['btrfs-rollback-mounts-subvolume'],
  fixes({ finding, workspace }) {
    const option = finding.data?.option as { text: string; origin?: Origin } | undefined;
    if (!option?.origin) return [];
    const source = workspace.source(option.origin.file);
    if (!source || isGenerated({ path: source.path, text: source.text })) return [];
    // The option must be written exactly where the finding points: a computed or escaped one is left alone.
    if (source.text.slice(option.origin.start, option.origin.end) !== option.text) return [];
    return [{ title: 'Mount the top level of the file system (subvol=/)', preferred: true, edits: [edit(source, option.origin.start, option.origin.end, 'subvol=/')] }];
  },
};
