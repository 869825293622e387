/**
 * # Persist /var/lib/nixos
 *
 * Adds `"/var/lib/nixos"` to the `directories` of the one impermanence root the host has, so the uid/gid maps
 * survive the rollback (F53). impermanence binds it in stage 1 because it is one of the needed-for-boot paths (F4,
 * F49), before users are created. Offered only when the rule names that root (a single, unconditional root on a
 * separate mount that stage 1 mounts); the path goes into the list the host already writes, in its layout, else
 * into a new `directories` binding next to the root.
 *
 * ```nix
 * # before
 * environment.persistence."/persist" = {
 *   directories = [ "/var/log" ];
 * };
 * # after
 * environment.persistence."/persist" = {
 *   directories = [ "/var/log" "/var/lib/nixos" ];
 * };
 * ```
 */
import { addPersistedPaths, persistenceRootNamed } from '../persistence-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'persist-var-lib-nixos',
  codes: ['var-lib-nixos-not-persisted'],
  fixes({ finding, host, workspace }) {
    const root = persistenceRootNamed(host, finding.data?.persistRoot, 'impermanence');
    const edit = root && addPersistedPaths(host, workspace, root, 'directories', ['/var/lib/nixos']);
    return edit ? [{ title: `Persist /var/lib/nixos (environment.persistence."${root.path}".directories)`, preferred: true, edits: [edit] }] : [];
  },
};
