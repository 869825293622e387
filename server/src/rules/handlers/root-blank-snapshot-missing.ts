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
import { finding, q, related, rootRollback } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'root-blank-snapshot-missing',
  severity: 'error',
  summary: 'The root dataset is rolled back, but no disko hook creates its snapshot.',
  facts: ['F14', 'F25'],
  check(host) {
    const layout = host.layout;
    const root = host.rootDataset();
    const rollback = rootRollback(host);
    if (!layout || !root?.dataset || !rollback || layout.snapshotsOpen) return [];
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
