/**
 * # rollback-target-not-root
 *
 * **What.** A stage-1 rollback targets a dataset that is not the root file system: either nothing rolls back the
 * root at all, or the dataset rolled back holds `/nix`, `/persist` or a persistence path.
 *
 * **Why.** The root dataset is the one `fileSystems."/".device` names (or the disko dataset mounted at `/`);
 * `zfs rollback` resets exactly the dataset it is given and none of its children (F14).
 *
 * **At boot.** The root keeps its state (nothing is erased) — or, worse, the Nix store or the persisted data is
 * erased on every boot and the machine drops to an emergency shell.
 *
 * **Fix.** Roll back the root dataset.
 *
 * ```nix
 * # before (fileSystems."/".device = "rpool/local/root")
 * script = "zfs rollback -r rpool/local/nix@blank";
 * # after
 * script = "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-target-not-root',
  severity: 'error',
  summary: 'A stage-1 rollback targets a dataset other than the root file system.',
  facts: ['F14', 'F1'],
  check(host) {
    const root = host.rootDataset();
    if (!root) return [];
    const rollbacks = host.certainStage1Rollbacks().filter((rollback) => rollback.dataset !== undefined);
    const rootIsRolledBack = rollbacks.some((rollback) => rollback.dataset === root.name);
    const persistPaths = host.persistence().map((persist) => persist.path);
    const findings: Finding[] = [];
    for (const rollback of rollbacks) {
      if (rollback.dataset === root.name || !rollback.origin) continue;
      const mount = host.fileSystems().entries.find((entry) => !entry.conditional && entry.device.state === 'known' && entry.device.value === rollback.dataset);
      const mountPoint = mount?.mountPoint ?? host.layout?.emitted.find((emitted) => emitted.device === rollback.dataset)?.mountPoint;
      const precious = mountPoint !== undefined && (mountPoint === '/nix' || mountPoint === '/nix/store' || mountPoint === '/persist' || persistPaths.includes(mountPoint));
      // Rolling back a second dataset (say /home) beside the root is a deliberate choice; say nothing then.
      if (rootIsRolledBack && !precious) continue;
      const consequence = precious
        ? `it holds ${q(mountPoint!)}, which is then erased on every boot`
        : `the root file system is ${q(root.name)}, which is never reset`;
      findings.push(
        finding(this, rollback.origin, `The rollback targets ${q(rollback.dataset!)}, not the root dataset: ${consequence}.`, {
          related: [related(root.origin, `the root file system is ${root.name}`), related(mount?.origin, `${rollback.dataset} is mounted at ${mountPoint}`)],
          data: { rollback, root: root.name },
        }),
      );
    }
    return findings;
  },
};
