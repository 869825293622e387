/**
 * # Take the blank snapshot in disko
 *
 * Adds an idempotent `postCreateHook` to the root dataset in the disko file: it snapshots the dataset right after
 * disko creates it, while it is empty, under the name the rollback uses, and skips the snapshot when a re-run of
 * the format script finds it already there (F25). The hook goes into the dataset's attribute set, or beside its
 * dotted bindings; for a pool's own root dataset, into the pool. Fixes `root-blank-snapshot-missing`. No fix when the
 * dataset already writes a `postCreateHook` there (its commands are the user's; we do not rewrite them) or its
 * definition is not a plain attribute set (a function call, `lib.mkIf`).
 *
 * The hook runs only when disko formats the disks: the next `disko --mode format` (or a fresh install), not on the
 * installed system. On a system installed moments ago, whose root still holds nothing but the fresh install, take the
 * snapshot once by hand: `zfs snapshot rpool/local/root@blank`. Never on a root that has been used: the rollback would
 * then restore everything in it at every boot.
 *
 * ```nix
 * # before (the rollback: zfs rollback -r rpool/local/root@blank)
 * "local/root" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   mountpoint = "/";
 * };
 * # after
 * "local/root" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   mountpoint = "/";
 *   postCreateHook = "zfs list -t snapshot -H -o name | grep -qxF 'rpool/local/root@blank' || zfs snapshot rpool/local/root@blank";
 * };
 * ```
 */
import type { Dataset } from '../../model/disko';
import type { Workspace } from '../../model/workspace';
import { definitionScope } from '../filesystem-edits';
import { type TextEdit, insertBinding, locate, nixString } from '../nix-edit';
import { isPlainName } from '../script-edits';
import type { FixProvider } from '../types';
import { guardedSnapshot } from './insert-rollback-service';

/**
 * A guarded `postCreateHook` on a disko dataset (or pool) that writes none, taking `target` (`pool/ds@snap`): in the
 * dataset's attribute set, or next to its dotted bindings (`datasets."local/root".postCreateHook = …`).
 */
export function addSnapshotHook(workspace: Workspace, dataset: Dataset, target: string): TextEdit | undefined {
  if (!isPlainName(target)) return undefined;
  for (const definition of dataset.node.definitions) {
    if (definition.conditional || definition.synthetic || !definition.keyOrigin) continue;
    const scope = definitionScope(workspace, definition);
    if (!scope) continue;
    // A hook written there already is the user's (we do not rewrite it); an `inherit` or a computed value in the way
    // would make a second binding fail to parse.
    const located = locate(scope.body, [...scope.prefix, 'postCreateHook']);
    if (located.binding || located.blocked) return undefined;
    return insertBinding(scope.file, located.container, located.rest, nixString(guardedSnapshot(target)));
  }
  return undefined;
}

export const provider: FixProvider = {
  name: 'add-blank-snapshot-hook',
  codes: ['root-blank-snapshot-missing'],
  fixes({ finding, workspace }) {
    const dataset = finding.data?.dataset as Dataset | undefined;
    const snapshot = finding.data?.snapshot as string | undefined;
    if (!dataset || !snapshot) return [];
    const target = `${dataset.fullName}@${snapshot}`;
    const edit = addSnapshotHook(workspace, dataset, target);
    // The hook runs at the next format only; an installed system needs the one-off snapshot (see the header).
    return edit ? [{ title: `Snapshot ${target} in a guarded postCreateHook of the root dataset (runs at the next disko format; on a fresh install take it once now: zfs snapshot ${target})`, preferred: true, edits: [edit] }] : [];
  },
};
