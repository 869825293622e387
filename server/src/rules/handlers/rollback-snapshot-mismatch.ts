/**
 * # rollback-snapshot-mismatch
 *
 * **What.** A rollback names a snapshot that no disko hook creates: a typo (`@blank` vs `@start`), or a pool-level
 * snapshot (`zroot@blank`) while the root is a child dataset (`zroot/root`).
 *
 * **Why.** `zfs rollback pool/ds@snap` rolls back exactly that snapshot of exactly that dataset and does not recurse
 * into children (F14); the snapshots that exist are the ones disko's hooks take (F25).
 *
 * **At boot.** "dataset does not exist": the unit fails, the root keeps yesterday's state.
 *
 * **btrfs** (RULES.md §H). A btrfs rollback that restores a subvolume of the disko layout from B
 * (`btrfs subvolume snapshot <MNT>/<B> <MNT>/<X>`) needs B among the snapshots the btrfs content's hooks take (F60);
 * otherwise the restore fails after the delete and the subvolume is gone.
 *
 * **Fix.** Use one of the snapshots the hooks create (the quick fix offers each).
 *
 * ```nix
 * # before (disko: postCreateHook = "… zfs snapshot rpool/nixos/empty@start")
 * script = "zfs rollback -r rpool/nixos/empty@blank";
 * # after
 * script = "zfs rollback -r rpool/nixos/empty@start";
 * ```
 */
import type { HostModel } from '../../model/host-model';
import { finding, poolOf, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-snapshot-mismatch',
  severity: 'error',
  summary: 'A rollback names a snapshot that no disko hook creates.',
  facts: ['F14', 'F25'],
  check(host) {
    const layout = host.layout;
    const findings: Finding[] = btrfsSnapshotMismatches(this, host);
    if (!layout || layout.snapshotsOpen || layout.snapshots.length === 0) return findings;
    for (const rollback of host.certainStage1Rollbacks()) {
      if (!rollback.target || !rollback.dataset || !rollback.snapshot || !rollback.origin) continue;
      const dataset = rollback.dataset;
      // A pool that no disko config defines existed before (a data pool): its snapshots were taken by hand.
      if (!layout.pools.some((pool) => pool.name === poolOf(dataset))) continue;
      if (host.snapshotCreated(dataset, rollback.snapshot) !== false) continue;
      const offered = [...new Set(layout.snapshots.map((snapshot) => snapshot.target))];
      // The disko example's pool-level `zroot@blank` does not hold `zroot/root@blank`.
      const ancestor = layout.snapshots.find((snapshot) => snapshot.snapshot === rollback.snapshot && !snapshot.recursive && dataset.startsWith(`${snapshot.dataset}/`));
      const why = ancestor
        ? ` ${q(ancestor.target)} is a snapshot of ${q(ancestor.dataset)} alone: without ${q('-r')}, ${q('zfs snapshot')} does not snapshot its child datasets.`
        : '';
      const declared = host.datasetNamed(dataset) !== undefined;
      const reset = dataset === host.rootDataset()?.name ? ' and the root is not reset' : declared ? ` and ${q(dataset)} is not reset` : '';
      findings.push(
        finding(
          this,
          rollback.origin,
          `${q(rollback.target)} is never created: disko's hooks snapshot ${offered.map(q).join(', ')}.${why} At boot the rollback fails${reset}.`,
          {
            related: layout.snapshots.map((snapshot) => related(snapshot.origin, `snapshot ${snapshot.target} is created here`)),
            data: { rollback, offered },
          },
        ),
      );
    }
    return findings;
  },
};

/**
 * btrfs restores (in stage 1, certainly run) of a subvolume the disko layout declares, from a snapshot name no hook of
 * the disko btrfs content creates and no subvolume of it is called.
 */
function btrfsSnapshotMismatches(rule: Rule, host: HostModel): Finding[] {
  const layout = host.btrfsLayout();
  if (layout.open || layout.snapshotsOpen || layout.snapshots.length === 0) return [];
  if (layout.filesystems.some((filesystem) => filesystem.subvolumesOpen || filesystem.hooks.some((hook) => hook.open))) return [];
  const findings: Finding[] = [];
  for (const rollback of host.btrfsRollbacks().rollbacks) {
    if (rollback.conditional || rollback.recreate !== 'restore' || rollback.blank === undefined || rollback.subvolume === undefined || !rollback.blankOrigin) continue;
    if (rollback.place.kind !== 'initrd-unit' && rollback.place.kind !== 'hook') continue;
    const subvolume = rollback.subvolume;
    if (!layout.subvolumes.some((candidate) => candidate.name === subvolume)) continue;
    const blank = rollback.blank;
    if (layout.snapshots.some((snapshot) => snapshot.snapshot === blank) || layout.subvolumes.some((candidate) => candidate.name === blank)) continue;
    const offered = [...new Set(layout.snapshots.map((snapshot) => snapshot.snapshot))];
    const reset = subvolume === host.rootSubvolume()?.name ? 'the root subvolume is gone' : `${q(subvolume)} is gone`;
    findings.push(
      finding(
        rule,
        rollback.blankOrigin,
        `The snapshot subvolume ${q(blank)} is never created: disko's hooks snapshot ${offered.map(q).join(', ')}. At boot the restore fails after the delete, and ${reset}.`,
        {
          related: layout.snapshots.map((snapshot) => related(snapshot.origin, `snapshot ${snapshot.snapshot} is created here`)),
          data: { btrfs: true, blank, offered },
        },
      ),
    );
  }
  return findings;
}
