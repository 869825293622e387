/**
 * # rollback-self-import
 *
 * **What.** A scripted stage-1 hook imports the pool itself (`zpool import`) without `-N` before rolling back, and
 * the pool has a dataset that such an import mounts: its ZFS `mountpoint` property is a path and `canmount` is on, as
 * the disko layout says, or as a `fileSystems` entry that mounts it with `zfsutil` implies (F13).
 *
 * **Why.** Without `-N`, `zpool import` mounts every dataset whose `mountpoint` property is a path, inside the
 * initrd's own tree; NixOS imports with `-N` and mounts through fstab (F9). A root dataset with `mountpoint=/` lands
 * on the initrd's `/`, the datasets are mounted before the rollback, and stage 1 then mounts them a second time.
 * With every dataset `legacy` or `none` nothing is mounted, and the rule stays silent.
 *
 * **At boot.** Datasets mounted in the wrong place, a rollback of a mounted file system, failing stage-1 mounts.
 *
 * **Fix.** Use the hook that runs after NixOS's own import (see scripted-rollback-wrong-hook), or add `-N`.
 *
 * ```nix
 * # before
 * zpool import rpool
 * # after
 * zpool import -N rpool
 * ```
 */
import { type Dataset, effectiveMountProperty, scriptText } from '../../model/disko';
import type { HostModel } from '../../model/host-model';
import { findInvocations, hasFlag, UNKNOWN_CHAR, type ZfsInvocation } from '../../model/shell';
import { originOfRange } from '../../model/strings';
import { finding, poolOf, q, related } from '../support';
import type { Finding, Rule } from '../types';
import type { Origin } from '../../model/values';

/** The pools a `zpool import` imports (`-a`: every pool we know of); undefined when the name cannot be read. */
function importedPools(host: HostModel, invocation: ZfsInvocation): string[] | undefined {
  if (hasFlag(invocation.flags, 'a')) {
    const pools = new Set(host.layout?.pools.map((pool) => pool.name));
    for (const entry of host.fileSystems().entries) {
      if (!entry.conditional && entry.fsType.state === 'known' && entry.fsType.value === 'zfs' && entry.device.state === 'known') pools.add(poolOf(entry.device.value));
    }
    return [...pools];
  }
  const operand = invocation.operands[0];
  if (!operand || operand.dynamic || operand.text.includes(UNKNOWN_CHAR)) return undefined;
  return [operand.text];
}

/**
 * A dataset of the pools that an import without `-N` certainly mounts: its ZFS mountpoint property is a path and
 * `canmount` is on — read from the disko layout, or (for a dataset disko does not declare) from a `fileSystems`
 * entry that mounts it with `zfsutil`, which only works on such a dataset (F13).
 */
function mountedDataset(host: HostModel, pools: string[], preferred?: string): { name: string; origin?: Origin } | undefined {
  const found: { name: string; origin?: Origin }[] = [];
  const layout = host.layout;
  for (const dataset of layout?.datasets ?? []) {
    if (!pools.includes(dataset.pool.name) || !autoMounted(dataset)) continue;
    found.push({ name: dataset.fullName, origin: dataset.origin });
  }
  for (const entry of host.fileSystems().entries) {
    if (entry.conditional || entry.fsType.state !== 'known' || entry.fsType.value !== 'zfs' || entry.device.state !== 'known') continue;
    const device = entry.device.value;
    if (!pools.includes(poolOf(device)) || !entry.options?.includes('zfsutil')) continue;
    if (layout && host.datasetNamed(device)) continue;
    found.push({ name: device, origin: entry.origin });
  }
  return found.find((item) => item.name === preferred) ?? found[0];

  function autoMounted(dataset: Dataset): boolean {
    if (dataset.type !== 'zfs_fs') return false;
    const canmount = dataset.canmount;
    if (canmount.state === 'unknown' || (canmount.state === 'known' && canmount.value !== 'on')) return false;
    return effectiveMountProperty(dataset, layout!)?.kind === 'path';
  }
}

export const rule: Rule = {
  code: 'rollback-self-import',
  severity: 'warning',
  summary: 'A scripted hook imports the pool without -N before rolling back.',
  facts: ['F9', 'F13'],
  check(host) {
    const findings: Finding[] = [];
    const seen = new Set<unknown>();
    for (const rollback of host.rollbacks().rollbacks) {
      if (rollback.place.kind !== 'hook' || rollback.conditional || seen.has(rollback.fragment.definition)) continue;
      seen.add(rollback.fragment.definition);
      const value = rollback.fragment.value;
      for (const invocation of findInvocations(scriptText(value), 'zpool')) {
        if (invocation.subcommand !== 'import' || hasFlag(invocation.flags, 'N') || invocation.command.start > rollback.invocation.command.start) continue;
        const pools = importedPools(host, invocation);
        if (!pools || pools.length === 0) continue;
        // Only when something is known to get mounted: with every dataset legacy or `none`, nothing is.
        const mounted = mountedDataset(host, pools, rollback.dataset);
        if (!mounted) continue;
        const origin = originOfRange(value, invocation.command.start, invocation.command.end) ?? rollback.fragment.definition.origin;
        if (!origin) continue;
        findings.push(
          finding(
            this,
            origin,
            `${q('zpool import')} without ${q('-N')} mounts every dataset whose mountpoint property is a path (${q(mounted.name)} among them) inside the initrd, before the rollback runs; NixOS imports with ${q('-N')} and mounts the file systems itself. Add ${q('-N')}, or leave the import to NixOS and roll back in the hook that runs after it.`,
            {
              related: [related(mounted.origin, `${mounted.name} has a mountpoint property that is a path`)],
              data: { invocation, fragment: rollback.fragment },
            },
          ),
        );
      }
    }
    return findings;
  },
};
