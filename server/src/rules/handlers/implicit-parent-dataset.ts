/**
 * # implicit-parent-dataset
 *
 * **What.** A dataset `a/b/c` is declared without its parent `a/b`.
 *
 * **Why.** disko creates it with `zfs create -p` (F22), which makes the missing parent with default, inherited
 * properties: mounted by ZFS at `/a/b` (or wherever the pool root mounts), auto-snapshotted if the pool is.
 *
 * **At boot.** Usually nothing, but a stray ZFS-managed mount appears and properties you did not choose apply.
 *
 * **Fix.** Declare the parent as a container.
 *
 * ```nix
 * # after
 * "local" = { type = "zfs_fs"; options.mountpoint = "none"; };
 * ```
 */
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'implicit-parent-dataset',
  severity: 'information',
  summary: 'A dataset is declared without its parent, which zfs create -p then makes with default properties.',
  facts: ['F22'],
  check(host) {
    const layout = host.layout;
    if (!layout) return [];
    const findings: Finding[] = [];
    for (const pool of layout.pools) {
      if (pool.datasetsOpen) continue;
      const declared = new Set(pool.datasets.map((dataset) => dataset.attrName));
      const reported = new Set<string>();
      for (const dataset of pool.datasets) {
        const parts = dataset.attrName.split('/');
        for (let length = 1; length < parts.length; length++) {
          const parent = parts.slice(0, length).join('/');
          if (declared.has(parent) || reported.has(parent) || !dataset.origin) continue;
          reported.add(parent);
          findings.push(finding(this, dataset.origin, `${q(`${pool.name}/${parent}`)} is not declared: ${q('zfs create -p')} makes it with inherited properties (mounted by ZFS, snapshotted like the pool). Declare it with options.mountpoint = "none".`, { data: { pool, parent } }));
        }
      }
    }
    return findings;
  },
};
