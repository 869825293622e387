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
      const where = dataset !== root.dataset ? `${q('com.sun:auto-snapshot')} is "true" on ${q(dataset.fullName)} and the root dataset ${q(root.name)} inherits it` : `${q('com.sun:auto-snapshot')} is "true" on the root dataset ${q(root.name)}`;
      return [
        finding(this, origin, `${where}, but the root is rolled back on every boot: its automatic snapshots keep nothing, and ${q('zfs rollback -r')} destroys them. Set "com.sun:auto-snapshot" = "false" on ${q(root.name)}.`, {
          related: [related(rollback.origin, 'the rollback')],
          data: { dataset: root.dataset },
        }),
      ];
    }
    return [];
  },
};
