/**
 * # Roll back to a snapshot that exists
 *
 * Replaces the target of `zfs rollback` by a snapshot that disko's hooks actually create, one fix per snapshot.
 * The preferred fix keeps the dataset and changes only the snapshot name (`@blank` → `@start`), also when a
 * recursive `zfs snapshot -r` of a parent creates it; a snapshot of another dataset (the pool-level `zroot@blank`
 * while the root is `zroot/root`) is offered but never preferred, since it rolls back a different dataset. Fixes
 * `rollback-snapshot-mismatch`. No fix when the target is not written literally (interpolated, escaped), and no
 * preferred one when several snapshots of the dataset would fit.
 *
 * ```nix
 * # before (disko: postCreateHook = "… zfs snapshot rpool/nixos/empty@start")
 * script = "zfs rollback -r rpool/nixos/empty@blank";
 * # after
 * script = "zfs rollback -r rpool/nixos/empty@start";
 * ```
 */
import type { Rollback } from '../../model/host-model';
import { isPlainName, replaceWord } from '../script-edits';
import type { FixProvider, QuickFix } from '../types';

export const provider: FixProvider = {
  name: 'replace-rollback-snapshot',
  codes: ['rollback-snapshot-mismatch'],
  fixes({ finding, host, workspace }) {
    const rollback = finding.data?.rollback as Rollback | undefined;
    const offered = (finding.data?.offered as string[] | undefined) ?? [];
    const operand = rollback?.invocation.operands[0];
    if (!rollback?.dataset || !rollback.target || !operand || operand.text !== rollback.target) return [];
    const dataset = rollback.dataset;
    // Each snapshot a hook creates, as a target for this rollback: the same dataset when the snapshot is of it (or of
    // a parent, taken with -r), else the snapshot's own dataset.
    const candidates = new Map<string, boolean>();
    for (const created of host.layout?.snapshots ?? []) {
      if (!offered.includes(created.target)) continue;
      const sameDataset = created.dataset === dataset || (created.recursive && dataset.startsWith(`${created.dataset}/`));
      const target = sameDataset ? `${dataset}@${created.snapshot}` : created.target;
      if (target !== rollback.target && isPlainName(target)) candidates.set(target, (candidates.get(target) ?? false) || sameDataset);
    }
    const ofDataset = [...candidates.values()].filter(Boolean).length;
    const fixes: QuickFix[] = [];
    for (const [target, sameDataset] of candidates) {
      const edit = replaceWord(workspace, rollback.fragment.value, operand, target);
      if (!edit) continue;
      fixes.push({ title: `Roll back to ${target}${sameDataset ? '' : ' (another dataset)'}`, preferred: sameDataset && ofDataset === 1, edits: [edit] });
    }
    // The preferred fix first, as editors list them.
    return fixes.sort((a, b) => Number(b.preferred) - Number(a.preferred));
  },
};
