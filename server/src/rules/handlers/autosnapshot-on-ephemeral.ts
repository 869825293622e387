/**
 * # autosnapshot-on-ephemeral
 *
 * **What.** `com.sun:auto-snapshot = "true"` is set on, or inherited by, the root dataset while it is rolled back on
 * every boot.
 *
 * **Why.** Automatic snapshots of a dataset that is reset at boot keep nothing worth keeping, and every newer
 * snapshot is destroyed by `zfs rollback -r` (F14) — or blocks a rollback without `-r`.
 *
 * **At boot.** Wasted snapshots, destroyed at each boot.
 *
 * **Fix.** Turn it off on the root dataset.
 *
 * ```nix
 * # after
 * "local/root" = { …; options."com.sun:auto-snapshot" = "false"; };
 * ```
 */
import { parentDataset } from '../../model/disko';
import { finding, q, related, rootRollback } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'autosnapshot-on-ephemeral',
  severity: 'information',
  summary: 'The root dataset is auto-snapshotted although it is rolled back on every boot.',
  facts: ['F14'],
  check(host) {
    const layout = host.layout;
    const root = host.rootDataset();
    const rollback = rootRollback(host);
    if (!layout || !root?.dataset || !rollback) return [];
    for (let dataset = root.dataset as typeof root.dataset | undefined, depth = 0; dataset && depth < 32; dataset = parentDataset(dataset, layout), depth++) {
      const property = dataset.autoSnapshot;
      if (property.state === 'unknown') return [];
      if (property.state === 'absent') continue;
      if (property.value !== 'true') return [];
      const origin = property.definitions[0].origin;
      if (!origin) return [];
      const inherited = dataset !== root.dataset ? ` (inherited by ${q(root.name)})` : '';
      return [finding(this, origin, `Automatic snapshots are on${inherited}, but ${q(root.name)} is rolled back on every boot: the snapshots keep nothing. Set "com.sun:auto-snapshot" = "false" on the root dataset.`, { related: [related(rollback.origin, 'the rollback')], data: { dataset: root.dataset } })];
    }
    return [];
  },
};
