/**
 * # Persist the secrets key and read it from the persistent copy
 *
 * For a sops-nix `sops.age.keyFile` or the agenix identities that lie on the erased root: adds each key path to
 * the `files` of the one persistence root the host has (so the key, or sshd's host key it is, is kept), and points
 * the tool at the copy on that root, which is on a mount stage 1 mounts, so the key is there when the tool decrypts
 * in activation too (F46, F47, F48). Offered only when the rule names that root. sops-nix ssh keys are left alone:
 * whether a key came from `sops.age.sshKeyPaths` or `sops.gnupg.sshKeyPaths` decides the option to write. The key
 * must then be copied to its place under the root once, by hand; the title says so.
 *
 * ```nix
 * # before
 * environment.persistence."/persist".files = [ "/etc/machine-id" ];
 * sops.age.keyFile = "/var/lib/sops-nix/key.txt";
 * # after
 * environment.persistence."/persist".files = [ "/etc/machine-id" "/var/lib/sops-nix/key.txt" ];
 * sops.age.keyFile = "/persist/var/lib/sops-nix/key.txt";
 * ```
 */
import path from 'node:path';
import { setInHost } from '../filesystem-edits';
import { nixString } from '../nix-edit';
import { addPersistedPaths, persistenceRootNamed } from '../persistence-edits';
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
