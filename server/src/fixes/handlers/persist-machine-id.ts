/**
 * # Persist /etc/machine-id
 *
 * Adds `"/etc/machine-id"` to the `files` of the one persistence root the host has, so the machine id (and with it
 * the journal directory of earlier boots, F54) survives the rollback. impermanence suppresses
 * `systemd-machine-id-commit.service` for this file itself (F49), so nothing else is needed. preservation gets the
 * entry with `inInitrd = true`: its option text says this file "needs to be populated/read very early", and every one
 * of its examples binds it in the initrd (F54, F69); a plain entry would be `machine-id-preserved-late`. Offered only
 * when the rule names that root.
 *
 * ```nix
 * # before
 * environment.persistence."/persist" = {
 *   files = [ "/etc/adjtime" ];
 * };
 * # after
 * environment.persistence."/persist" = {
 *   files = [ "/etc/adjtime" "/etc/machine-id" ];
 * };
 *
 * # preservation, before
 * preservation.preserveAt."/persist".files = [ "/etc/adjtime" ];
 * # after
 * preservation.preserveAt."/persist".files = [ "/etc/adjtime" { file = "/etc/machine-id"; inInitrd = true; } ];
 * ```
 */
import { addPersistedItems, addPersistedPaths, persistenceRootNamed } from '../persistence-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'persist-machine-id',
  codes: ['machine-id-not-persisted'],
  fixes({ finding, host, workspace }) {
    const root = persistenceRootNamed(host, finding.data?.persistRoot);
    if (!root) return [];
    if (root.module === 'preservation') {
      const edit = addPersistedItems(host, workspace, root, 'files', ['{ file = "/etc/machine-id"; inInitrd = true; }']);
      return edit ? [{ title: `Preserve /etc/machine-id in the initrd (preservation.preserveAt."${root.path}".files, inInitrd = true)`, preferred: true, edits: [edit] }] : [];
    }
    const edit = addPersistedPaths(host, workspace, root, 'files', ['/etc/machine-id']);
    return edit ? [{ title: `Persist /etc/machine-id (environment.persistence."${root.path}".files)`, preferred: true, edits: [edit] }] : [];
  },
};
