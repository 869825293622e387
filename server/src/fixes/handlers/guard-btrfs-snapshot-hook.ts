/**
 * # Guard the btrfs snapshot in the disko hook
 *
 * Puts `btrfs subvolume show <B> >/dev/null 2>&1 ||` in front of a bare `btrfs subvolume snapshot -r <A> <B>` in a
 * disko btrfs hook, so a re-run of the format script skips the snapshot that already exists instead of aborting
 * with "Read-only file system" (F61 a, F25). The snapshot operand is copied as written (quotes, variables). Fixes
 * `snapshot-hook-not-idempotent` for btrfs; no edit in a generated file.
 *
 * ```nix
 * # before
 * btrfs subvolume snapshot -r "$MNTPOINT/root" "$MNTPOINT/root-blank"
 * # after
 * btrfs subvolume show "$MNTPOINT/root-blank" >/dev/null 2>&1 || btrfs subvolume snapshot -r "$MNTPOINT/root" "$MNTPOINT/root-blank"
 * ```
 */
import type { BtrfsSnapshotCreation } from '../../model/btrfs';
import { isGenerated } from '../generated';
import { edit } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'guard-btrfs-snapshot-hook',
  codes: ['snapshot-hook-not-idempotent'],
  fixes({ finding, workspace }) {
    const snapshot = finding.data?.btrfsSnapshot as BtrfsSnapshotCreation | undefined;
    const command = snapshot?.commandOrigin;
    const operand = snapshot?.origin;
    if (!command || !operand || command.file !== operand.file || operand.start < command.start || operand.end > command.end) return [];
    const source = workspace.source(command.file);
    if (!source || isGenerated({ path: source.path, text: source.text })) return [];
    const written = source.text.slice(command.start, command.end);
    // Only a command written on one line, as the finding reads it: anything else is left to the user.
    if (!/^btrfs\s/.test(written) || written.includes('\n')) return [];
    const target = source.text.slice(operand.start, operand.end);
    return [
      {
        title: `Guard the snapshot: skip it when ${snapshot.snapshot} exists`,
        preferred: true,
        edits: [edit(source, command.start, command.start, `btrfs subvolume show ${target} >/dev/null 2>&1 || `)],
      },
    ];
  },
};
