/**
 * # root-blank-snapshot-missing
 *
 * **What.** The host rolls its root dataset back on every boot, but no disko hook ever creates a snapshot of the
 * root dataset.
 *
 * **Why.** `zfs rollback` needs the snapshot to exist (F14). disko creates datasets with `zfs create -u` and runs
 * each dataset's `postCreateHook` right after it (F25): that hook is the one moment the dataset is empty, so it is
 * where the blank snapshot must be taken.
 *
 * **At boot.** The rollback unit fails with "dataset does not exist"; the root is never reset, silently.
 *
 * **btrfs** (RULES.md §H). The same holds for a btrfs rollback that restores the root subvolume from a blank snapshot
 * (`btrfs subvolume snapshot <MNT>/<B> <MNT>/<X>`): B exists only if a hook of the disko btrfs content snapshots the
 * root subvolume (F60); without it the restore fails and, after the delete, the root subvolume is gone. A rollback
 * that creates the root subvolume afresh needs no snapshot.
 *
 * **Fix.** Add an idempotent `postCreateHook` to the root dataset in the disko file.
 *
 * ```nix
 * # before
 * "nixos/empty" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/"; };
 * # after
 * "nixos/empty" = {
 *   type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/";
 *   postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^rpool/nixos/empty@start$' || zfs snapshot rpool/nixos/empty@start";
 * };
 * ```
 */
import type { HostModel } from '../../model/host-model';
import { finding, q, related, rootRollback } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'root-blank-snapshot-missing',
  severity: 'error',
  summary: 'The root dataset is rolled back, but no disko hook creates its snapshot.',
  facts: ['F14', 'F25'],
  check(host) {
    const layout = host.layout;
    const root = host.rootDataset();
    const rollback = rootRollback(host);
    if (!rollback) return btrfsBlankMissing(this, host);
    if (!layout || !root?.dataset || layout.snapshotsOpen) return [];
    // Any snapshot at all makes a wrong name the likelier story: rollback-snapshot-mismatch reports that.
    if (layout.snapshots.length > 0) return [];
    return [
      finding(
        this,
        root.dataset.origin ?? rollback.origin!,
        `${q(root.name)} is rolled back to ${q(rollback.target!)} on every boot, but no disko hook creates a snapshot of it: the rollback fails at boot and the root is never reset. Take the snapshot in a guarded ${q('postCreateHook')} of this dataset, right after disko creates it.`,
        {
          related: [related(rollback.origin, `rolled back here to ${rollback.target}`)],
          data: { dataset: root.dataset, snapshot: rollback.snapshot },
        },
      ),
    ];
  },
};

/**
 * The btrfs root subvolume is restored from a blank snapshot, but the disko btrfs content that declares the root
 * subvolume takes no snapshot at all in its hooks (a snapshot under another name is rollback-snapshot-mismatch's).
 */
function btrfsBlankMissing(rule: Rule, host: HostModel): Finding[] {
  const rollback = host.btrfsRootRollback();
  const root = host.rootSubvolume();
  const layout = host.btrfsLayout();
  if (!rollback || rollback.recreate !== 'restore' || !rollback.removalOrigin || !root?.subvolume) return [];
  if (layout.open || layout.snapshotsOpen || layout.snapshots.length > 0) return [];
  if (root.subvolume.filesystem.hooks.some((hook) => hook.open)) return [];
  const blank = rollback.blank === undefined ? 'the blank snapshot' : q(rollback.blank);
  return [
    finding(
      rule,
      root.subvolume.origin ?? rollback.removalOrigin,
      `The root subvolume ${q(root.name)} is deleted and restored from ${blank} on every boot, but no disko hook snapshots it: the restore fails at boot, after the delete, and the root subvolume is gone. Take the snapshot in a guarded ${q('postCreateHook')} of this btrfs content.`,
      {
        related: [related(rollback.blankOrigin ?? rollback.removalOrigin, `restored here from ${rollback.blank ?? 'a snapshot'}`)],
        data: { subvolume: root.name, blank: rollback.blank },
      },
    ),
  ];
}
