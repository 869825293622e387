/**
 * # blank-snapshot-unused
 *
 * **What.** disko snapshots the root dataset (the blank snapshot of an ephemeral root), but nothing rolls back to it.
 *
 * **Why.** The snapshot only matters if an initrd unit (or a scripted stage-1 hook) runs `zfs rollback -r` to it
 * before the root is mounted (F20). Without one, the root keeps all its state: the setup is not ephemeral.
 *
 * **At boot.** Nothing fails; the root is simply never erased.
 *
 * **Fix.** Insert the rollback unit (quick fix "Insert rollback service").
 *
 * ```nix
 * # after
 * boot.initrd.systemd.services.rollback = {
 *   description = "Rollback the root dataset to a blank snapshot";
 *   wantedBy = [ "initrd.target" ];
 *   after = [ "zfs-import-rpool.service" ];
 *   before = [ "sysroot.mount" ];
 *   unitConfig.DefaultDependencies = "no";
 *   serviceConfig.Type = "oneshot";
 *   script = "zfs rollback -r rpool/nixos/empty@start";
 * };
 * ```
 */
import { finding, q } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'blank-snapshot-unused',
  severity: 'information',
  summary: 'The root dataset has a blank snapshot, but nothing rolls back to it.',
  facts: ['F20', 'F25'],
  check(host) {
    const layout = host.layout;
    const root = host.rootDataset();
    if (!layout || !root) return [];
    const snapshot = layout.snapshots.find((created) => created.dataset === root.name && created.origin);
    if (!snapshot) return [];
    if (host.kind === 'disko-only') {
      // A layout on its own (a disko example, a template): the host that imports it needs the rollback.
      return [
        finding(
          this,
          snapshot.origin!,
          `${q(snapshot.target)} is the blank snapshot of the root, but no configuration in reach rolls back to it; the host that imports this layout needs a rollback unit.`,
          { data: { snapshot, root: root.name } },
        ),
      ];
    }
    if (host.kind !== 'nixos') return [];
    const { rollbacks, open } = host.rollbacks();
    // Any rollback of the root, even a conditional or mistyped one, is the user's intent: other rules speak then.
    if (open || rollbacks.some((rollback) => rollback.dataset === undefined || rollback.dataset === root.name)) return [];
    // A stage-1 rollback of another dataset is most likely meant for the root: rollback-target-not-root reports it.
    if (host.certainStage1Rollbacks().length > 0) return [];
    return [
      finding(
        this,
        snapshot.origin!,
        `${q(snapshot.target)} is the blank snapshot of the root, but nothing rolls back to it: the root keeps its state across reboots. Roll back to it in stage 1, before the root is mounted (an initrd unit ordered before ${q("sysroot.mount")}).`,
        { data: { snapshot, root: root.name } },
      ),
    ];
  },
};
