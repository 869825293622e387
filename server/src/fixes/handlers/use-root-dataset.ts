/**
 * # Roll back the root dataset
 *
 * Replaces the dataset of the rollback target by the root dataset (`fileSystems."/".device`, or the disko dataset
 * mounted at `/`). The snapshot is one the disko hooks create for the root: the same name when it exists, else each
 * snapshot of the root (preferred when there is exactly one); when the root has no snapshot at all, the same fix
 * adds an idempotent `postCreateHook` to the root dataset in the disko file. Fixes `rollback-target-not-root`. No
 * fix when the root is already rolled back by another command (the wrong command should then go, which is the
 * user's call), or when the target is not written literally.
 *
 * ```nix
 * # before (fileSystems."/".device = "rpool/local/root")
 * script = "zfs rollback -r rpool/local/nix@blank";
 * # after
 * script = "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import type { Rollback } from '../../model/host-model';
import { snapshotCovers } from '../../model/disko';
import { isPlainName, replaceWord } from '../script-edits';
import type { FixProvider, QuickFix } from '../types';
import { addSnapshotHook } from './add-blank-snapshot-hook';

export const provider: FixProvider = {
  name: 'use-root-dataset',
  codes: ['rollback-target-not-root'],
  fixes({ finding, host, workspace }) {
    const rollback = finding.data?.rollback as Rollback | undefined;
    const root = finding.data?.root as string | undefined;
    const operand = rollback?.invocation.operands[0];
    if (!rollback?.target || !rollback.snapshot || !root || !operand || operand.text !== rollback.target) return [];
    // Rolling back the root twice is not what anyone wants: the extra command should be removed instead.
    if (host.rootIsRolledBack()) return [];
    const snapshotsOfRoot = [...new Set((host.layout?.snapshots ?? []).filter((created) => snapshotCovers(created, root, created.snapshot)).map((created) => created.snapshot))];
    const fix = (snapshot: string, preferred: boolean, hook = false): QuickFix | undefined => {
      const target = `${root}@${snapshot}`;
      if (!isPlainName(target)) return undefined;
      const edit = replaceWord(workspace, rollback.fragment.value, operand, target);
      if (!edit) return undefined;
      if (!hook) return { title: `Roll back the root dataset: ${target}`, preferred, edits: [edit] };
      const dataset = host.rootDataset()?.dataset;
      const hookEdit = dataset && addSnapshotHook(workspace, dataset, target);
      return hookEdit ? { title: `Roll back the root dataset: ${target} (and snapshot it in a disko postCreateHook)`, preferred, edits: [edit, hookEdit] } : undefined;
    };
    const fixes: (QuickFix | undefined)[] = [];
    if (snapshotsOfRoot.includes(rollback.snapshot)) fixes.push(fix(rollback.snapshot, true));
    else if (snapshotsOfRoot.length > 0) fixes.push(...snapshotsOfRoot.map((snapshot) => fix(snapshot, snapshotsOfRoot.length === 1)));
    else if (host.snapshotCreated(root, rollback.snapshot) === false) fixes.push(fix(rollback.snapshot, true, true));
    return fixes.filter((item): item is QuickFix => item !== undefined);
  },
};
