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
import { type Dataset, effectiveMountProperty, zfsMountPath } from '../../model/disko';
import { finding, q, related } from '../support';
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
      // Names below the pool, from the full names: a dataset's `name` may differ from its attribute.
      const relative = (dataset: Dataset) => dataset.fullName.slice(pool.name.length + 1);
      const declared = new Set(pool.datasets.map(relative));
      const reported = new Set<string>();
      for (const dataset of pool.datasets) {
        const parts = relative(dataset).split('/');
        for (let length = 1; length < parts.length; length++) {
          const parent = parts.slice(0, length).join('/');
          if (declared.has(parent) || reported.has(parent) || !dataset.origin) continue;
          reported.add(parent);
          // What the missing parent inherits: the nearest declared ancestor's mountpoint decides whether ZFS mounts it.
          const ancestor = [...pool.datasets, pool.root]
            .filter((candidate) => candidate.isPoolRoot || parent.startsWith(`${relative(candidate)}/`))
            .sort((a, b) => b.fullName.length - a.fullName.length)[0];
          const property = ancestor ? effectiveMountProperty(ancestor, layout) : undefined;
          const base = ancestor && property?.kind === 'path' ? zfsMountPath(ancestor, layout)?.path : undefined;
          const rest = ancestor ? parent.slice(ancestor.isPoolRoot ? 0 : relative(ancestor).length + 1) : parent;
          const mounted = base ? `, so ZFS mounts it at ${q(base === '/' ? `/${rest}` : `${base}/${rest}`)}` : '';
          findings.push(
            finding(
              this,
              dataset.origin,
              `${q(`${pool.name}/${parent}`)} is not declared: ${q('zfs create -p')} makes it with default properties and whatever it inherits${ancestor ? ` from ${q(ancestor.fullName)}` : ''}${mounted}. Declare it, e.g. with options.mountpoint = "none".`,
              { related: [related(ancestor?.origin, `${ancestor?.fullName} is declared here`)], data: { pool, parent } },
            ),
          );
        }
      }
    }
    return findings;
  },
};
