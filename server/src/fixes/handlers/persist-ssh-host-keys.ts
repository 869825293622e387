/**
 * # Persist the sshd host keys
 *
 * Adds each lost host key and its `.pub` to the `files` of the one persistence root the host has (impermanence or
 * preservation), so `sshd-keygen` finds them after the rollback instead of making new ones (F51). The public half
 * goes with it: sshd-keygen regenerates only a missing private key, and clients compare the public one. Offered only
 * when the rule names that root (single, unconditional, on a separate mount stage 1 mounts). sshd reads the keys
 * long after stage 2 has set up both kinds of entries, so a plain entry is enough.
 *
 * ```nix
 * # before
 * environment.persistence."/persist".files = [ "/etc/machine-id" ];
 * # after
 * environment.persistence."/persist".files = [
 *   "/etc/machine-id" "/etc/ssh/ssh_host_ed25519_key" "/etc/ssh/ssh_host_ed25519_key.pub"
 * ];
 * ```
 * (each new path is appended in the list's own layout: on its line, or one per line.)
 */
import { addPersistedPaths, persistenceRootNamed, rootOptionPath } from '../persistence-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'persist-ssh-host-keys',
  codes: ['ssh-host-keys-not-persisted'],
  fixes({ finding, host, workspace }) {
    const keys = finding.data?.keys;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'string' && key.startsWith('/'))) return [];
    const root = persistenceRootNamed(host, finding.data?.persistRoot);
    if (!root) return [];
    // A public half that something already keeps is not listed twice (impermanence rejects duplicate paths).
    const paths = (keys as string[]).flatMap((key) => [key, `${key}.pub`]).filter((item) => host.coverOf(item)?.kind === 'none');
    const edit = addPersistedPaths(host, workspace, root, 'files', paths);
    const where = `${rootOptionPath(root.module, root.path).slice(0, 2).join('.')}."${root.path}".files`;
    return edit ? [{ title: `Persist the sshd host key${keys.length > 1 ? 's' : ''} (${where})`, preferred: true, edits: [edit] }] : [];
  },
};
