/**
 * # var-lib-nixos-not-persisted
 *
 * **What.** The root is erased at every boot and `/var/lib/nixos` is kept by nothing: neither it, `/var/lib` nor
 * `/var` is a mount, and no impermanence or preservation directory holds it.
 *
 * **Why.** `update-users-groups.pl` keeps the uid/gid allocation maps there (`uid-map`, `gid-map`,
 * `auto-subuid-map`, F53); NixOS added `/var/lib/nixos` to the stage-1 paths for this reason (F4). Without them users
 * and groups without a fixed id (most system users, e.g. `sshd`) can get other ids after a reboot and lose access to
 * their persisted files. impermanence prints its own evaluation warning for this when some user lacks a fixed id
 * (F32).
 *
 * **At boot.** Dynamic ids may change: services fail to read their state, files show foreign owners.
 *
 * **Fix.** Keep the directory (offered when one impermanence root is known); impermanence binds it in the initrd
 * because it is a needed-for-boot path (F49):
 *
 * ```nix
 * # before
 * environment.persistence."/persist".directories = [ "/var/log" ];
 * # after
 * environment.persistence."/persist".directories = [ "/var/log" "/var/lib/nixos" ];
 * ```
 */
import { finding, related } from '../support';
import { singlePersistenceRoot } from '../survival';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'var-lib-nixos-not-persisted',
  severity: 'warning',
  summary: 'The uid/gid maps in /var/lib/nixos are erased at every boot: dynamic ids can change.',
  facts: ['F4', 'F32', 'F52', 'F53', 'F49'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral || host.coverOf('/var/lib/nixos')?.kind !== 'none') return [];
    const root = singlePersistenceRoot(host, 'impermanence');
    const roots = host.persistenceDetails().roots.filter((candidate) => !candidate.conditional && candidate.origin);
    const origin = roots[0]?.origin ?? ephemeral.origin;
    if (!origin) return [];
    return [
      finding(this, origin, `/var/lib/nixos is kept by nothing while the root ${ephemeral.how}: the uid/gid maps NixOS allocates dynamic ids from are lost at every boot, so users and groups without a fixed id can change ids and lose access to their persisted files (impermanence warns about this too when enableWarnings is on). Persist /var/lib/nixos${root ? ` in environment.persistence."${root.path}".directories` : ''}.`, {
        related: [related(ephemeral.origin, 'what erases the root')],
        data: root ? { persistRoot: root.path } : undefined,
      }),
    ];
  },
};
