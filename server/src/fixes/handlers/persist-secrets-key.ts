/**
 * # Persist the secrets key and read it from the persistent copy
 *
 * For a sops-nix `sops.age.keyFile` or the agenix identities that lie on the erased root: adds each key path to
 * the `files` of the one persistence root the host has (so the key, or sshd's host key it is, is kept), and points
 * the tool at the copy on that root, which is on a mount stage 1 mounts, so the key is there when the tool decrypts
 * in activation too (F46, F47, F48). Offered only when the rule names that root. For sops-nix's ssh keys (by default
 * sshd's host keys, F43) each lost key goes to the `files`, and the list it came from — `sops.age.sshKeyPaths`
 * (ed25519, as an age key) or `sops.gnupg.sshKeyPaths` (rsa, as a gpg key) — is pointed at the copies; only when
 * every key of that list is lost, so that no key the host keeps is dropped, and only when the list is written in at
 * most one place (a second definition would be merged with the new one). The key must then be copied to its place
 * under the root once, by hand; the title says so (sshd's own host key is the same file and is kept along with it).
 *
 * ```nix
 * # before
 * environment.persistence."/persist".files = [ "/etc/machine-id" ];
 * sops.age.keyFile = "/var/lib/sops-nix/key.txt";
 * # after
 * environment.persistence."/persist".files = [ "/etc/machine-id" "/var/lib/sops-nix/key.txt" ];
 * sops.age.keyFile = "/persist/var/lib/sops-nix/key.txt";
 *
 * # before (sops-nix reads sshd's default host keys)
 * services.openssh.enable = true;
 * sops.secrets.wifi = { };
 * # after
 * environment.persistence."/persist".files = [ "/etc/ssh/ssh_host_ed25519_key" "/etc/ssh/ssh_host_rsa_key" ];
 * sops.age.sshKeyPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];
 * sops.gnupg.sshKeyPaths = [ "/persist/etc/ssh/ssh_host_rsa_key" ];
 * ```
 */
import path from 'node:path';
import { setInHost } from '../filesystem-edits';
import { nixString } from '../nix-edit';
import { addPersistedPaths, persistenceRootNamed } from '../persistence-edits';
import { pointSopsSshKeys } from '../sops-key-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'persist-secrets-key',
  codes: ['secret-key-not-persisted'],
  fixes({ finding, host, workspace }) {
    const { tool, keys, keyFile, persistRoot } = finding.data ?? {};
    const root = persistenceRootNamed(host, persistRoot);
    if (!root || !Array.isArray(keys) || keys.length === 0) return [];
    const paths = keys.map((key) => (key as { path?: unknown }).path);
    if (!paths.every((item): item is string => typeof item === 'string' && item.startsWith('/'))) return [];
    const copies = paths.map((item) => path.posix.join(root.path, item));
    if (tool === 'sops' && keyFile !== true) {
      // sops-nix's ssh keys: persist each and point its list at the copies.
      const lost = keys.filter((key): key is { path: string; source: string } => typeof (key as { source?: unknown }).source === 'string') as { path: string; source: string }[];
      if (lost.length !== keys.length) return [];
      const point = pointSopsSshKeys(host, workspace, root.path, lost, true);
      const persist = addPersistedPaths(host, workspace, root, 'files', paths);
      if (!point || !persist) return [];
      return [{ title: `Persist the ssh key${paths.length > 1 ? 's' : ''} in ${root.path} and read ${paths.length > 1 ? 'them' : 'it'} from there (${point.options.join(', ')}; copy ${copies.join(', ')} once)`, preferred: true, edits: [persist, ...point.edits] }];
    }
    let option: string[];
    let value: string;
    if (tool === 'agenix') {
      option = ['age', 'identityPaths'];
      value = `[ ${copies.map(nixString).join(' ')} ]`;
    } else if (tool === 'sops' && keyFile === true && copies.length === 1) {
      option = ['sops', 'age', 'keyFile'];
      value = nixString(copies[0]);
    } else return [];
    const persist = addPersistedPaths(host, workspace, root, 'files', paths);
    const point = setInHost(host, workspace, option, value);
    if (!persist || !point) return [];
    return [{ title: `Persist the key in ${root.path} and read it from there (${option.join('.')}; copy the key to ${copies.join(', ')} once)`, preferred: true, edits: [persist, point] }];
  },
};
