/**
 * # Persist /etc/machine-id
 *
 * Adds `"/etc/machine-id"` to the `files` of the one impermanence root the host has, so the machine id (and with it
 * the journal directory of earlier boots, F54) survives the rollback. impermanence suppresses
 * `systemd-machine-id-commit.service` for this file itself (F49), so nothing else is needed. Offered only when the
 * rule names that root; a preservation root needs `inInitrd = true` instead, which `machine-id-preserved-late`
 * explains.
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
 * ```
 */
import { addPersistedPaths, persistenceRootNamed } from '../persistence-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'persist-machine-id',
  codes: ['machine-id-not-persisted'],
  fixes({ finding, host, workspace }) {
    const root = persistenceRootNamed(host, finding.data?.persistRoot, 'impermanence');
    const edit = root && addPersistedPaths(host, workspace, root, 'files', ['/etc/machine-id']);
    return edit ? [{ title: `Persist /etc/machine-id (environment.persistence."${root.path}".files)`, preferred: true, edits: [edit] }] : [];
  },
};
