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
 * **btrfs** (RULES.md §H). The same for a disko btrfs hook that snapshots the root subvolume (the subvolume mounted
 * at `/`, F60) when no script deletes the root subvolume and restores it (§F's rollback).
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
import { scriptText } from '../../model/disko';
import type { HostModel } from '../../model/host-model';
import { UNKNOWN_CHAR } from '../../model/shell';
import type { StringValue } from '../../model/values';
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'blank-snapshot-unused',
  severity: 'information',
  summary: 'The root dataset has a blank snapshot, but nothing rolls back to it.',
  facts: ['F20', 'F25'],
  check(host) {
    const layout = host.layout;
    const root = host.rootDataset();
    if (!layout || !root) return unusedBtrfsBlank(this, host);
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

/**
 * Some stage-1 or stage-2 script may reset a btrfs subvolume in a way the rollback reader does not follow: it has a
 * part we cannot read, or it deletes, creates or snapshots a subvolume. Then the blank snapshot may well be used.
 */
function scriptsMayResetBtrfs(host: HostModel): boolean {
  const texts: string[] = [];
  for (const units of [host.initrdUnits(), host.stage2Units()]) {
    if (units.open) return true;
    for (const unit of units.units) {
      if (unit.scriptsOpen) return true;
      texts.push(...unit.scripts.map((fragment) => scriptText(fragment.value)));
    }
  }
  for (const hook of host.scriptedHooks()) {
    if (hook.open) return true;
    for (const definition of hook.fragments) {
      if (definition.value.kind !== 'string') return true;
      texts.push(scriptText(definition.value as StringValue));
    }
  }
  for (const script of host.activationScripts()) {
    if (script.open) return true;
    texts.push(...script.fragments.map((fragment) => scriptText(fragment.value)));
  }
  return texts.some((text) => text.includes(UNKNOWN_CHAR) || /btrfs\s+\S+\s+(?:delete|create|snapshot)\b/.test(text));
}

/** A disko btrfs hook snapshots the subvolume mounted at `/`, and nothing restores the root from it. */
function unusedBtrfsBlank(rule: Rule, host: HostModel): Finding[] {
  const layout = host.btrfsLayout();
  const root = layout.subvolumes.find((subvolume) => subvolume.mountpoint.state === 'known' && subvolume.mountpoint.value === '/');
  if (!root) return [];
  const snapshot = layout.snapshots.find((created) => created.source === root.name && created.origin);
  if (!snapshot) return [];
  // `btrfsSnapshot` lets the btrfs rollback insertion derive the unit; the ZFS insertion ignores it.
  const data = { btrfsSnapshot: snapshot, rootSubvolume: root.name };
  if (host.kind === 'disko-only') {
    return [
      finding(rule, snapshot.origin!, `${q(snapshot.snapshot)} is the blank snapshot of the root subvolume ${q(root.name)}, but no configuration in reach restores it; the host that imports this layout needs a rollback (delete the root subvolume, restore it from ${q(snapshot.snapshot)}).`, { data }),
    ];
  }
  if (host.kind !== 'nixos' || host.rootSubvolume()?.name !== root.name) return [];
  const { rollbacks, open } = host.btrfsRollbacks();
  // Any rollback at all, even of another subvolume or a conditional one, is the user's intent: other rules speak then.
  if (open || rollbacks.length > 0 || host.rollbacks().rollbacks.length > 0 || host.rollbacks().open) return [];
  if (scriptsMayResetBtrfs(host)) return [];
  return [
    finding(
      rule,
      snapshot.origin!,
      `${q(snapshot.snapshot)} is the blank snapshot of the root subvolume ${q(root.name)}, but nothing restores it: the root keeps its state across reboots. In stage 1, before the root is mounted (an initrd unit ordered before ${q('sysroot.mount')}), delete ${q(root.name)} and restore it from ${q(snapshot.snapshot)}.`,
      { data },
    ),
  ];
}
