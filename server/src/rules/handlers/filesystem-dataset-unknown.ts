/**
 * # filesystem-dataset-unknown
 *
 * **What.** A zfs `fileSystems` device names a dataset of a pool that disko manages, but disko does not declare that
 * dataset (nor any dataset below it, which would create it as a parent, F22).
 *
 * **Why.** disko creates exactly the datasets it declares (and their missing parents, with `zfs create -p`); any
 * other name does not exist on the installed disk.
 *
 * **At boot.** "cannot open '…': dataset does not exist" and an emergency shell (for a needed-for-boot mount).
 *
 * **Fix.** Use a declared name (the quick fix offers the declared datasets), or declare the dataset in disko.
 *
 * ```nix
 * # before (disko declares rpool/nixos/nix)
 * fileSystems."/nix".device = "rpool/nix";
 * # after
 * fileSystems."/nix".device = "rpool/nixos/nix";
 * ```
 */
import { entryOrigin, finding, poolOf, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'filesystem-dataset-unknown',
  severity: 'error',
  summary: 'A zfs fileSystems device names a dataset that disko does not declare.',
  facts: ['F22', 'F6'],
  check(host) {
    const layout = host.layout;
    if (!layout) return [];
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional || entry.device.state !== 'known' || entry.fsType.state !== 'known' || entry.fsType.value !== 'zfs') continue;
      const device = entry.device.value;
      const pool = layout.pools.find((candidate) => candidate.name === poolOf(device));
      if (!pool || pool.datasetsOpen) continue;
      const declared = [pool.root, ...pool.datasets].map((dataset) => dataset.fullName);
      if (declared.includes(device) || declared.some((name) => name.startsWith(`${device}/`))) continue;
      if (pool.datasets.some((dataset) => dataset.type === 'unknown')) continue;
      const origin = entryOrigin(entry, 'device');
      if (!origin) continue;
      const candidates = pool.datasets.filter((dataset) => dataset.type === 'zfs_fs').map((dataset) => dataset.fullName);
      // The dataset the layout itself mounts here is the likely intended one.
      const here = layout.emitted.find((mount) => mount.mountPoint === entry.mountPoint && mount.dataset?.pool === pool)?.device;
      const hint = here ? `the layout mounts ${q(here)} at ${q(entry.mountPoint)}` : `declared: ${candidates.map(q).join(', ') || 'none'}`;
      findings.push(
        finding(this, origin, `Dataset ${q(device)} is not declared in disko's pool ${q(pool.name)}, so it will not exist on the disk (${hint}).`, {
          related: [related(pool.origin, `pool ${pool.name} is declared here`)],
          data: { entry, candidates },
        }),
      );
    }
    return findings;
  },
};
