/**
 * # Read the secrets key from its persistent copy
 *
 * Points agenix (`age.identityPaths`) or sops-nix (`sops.age.keyFile`) at the copy of its key on the persistence
 * root, which the rule has checked to be a separate mount that stage 1 mounts, so the key is there when the tool
 * decrypts in the activation script (F44, F46, F47, F48). impermanence and preservation keep `<S><path>` as the
 * source of `<path>`. Only the keys the rule found persisted are listed: one that lies on the erased root would be
 * gone anyway. For sops-nix's ssh keys the finding names the list each key came from: `sops.age.sshKeyPaths`
 * (ed25519, imported as an age key) or `sops.gnupg.sshKeyPaths` (rsa, imported as a gpg key, F43); each list that
 * holds a persisted key is set to the copies of its persisted keys, a list without one is left as it is.
 *
 * ```nix
 * # before
 * environment.persistence."/persist".files = [ "/etc/ssh/ssh_host_ed25519_key" ];
 * age.secrets.wifi.file = ./wifi.age;
 * # after
 * environment.persistence."/persist".files = [ "/etc/ssh/ssh_host_ed25519_key" ];
 * age.secrets.wifi.file = ./wifi.age;
 * age.identityPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];
 *
 * # before (sops-nix, a secret for users, the host key linked by impermanence after it is needed)
 * environment.persistence."/persist".files = [ "/etc/ssh/ssh_host_ed25519_key" ];
 * services.openssh.hostKeys = [ { path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ];
 * # after
 * sops.age.sshKeyPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];
 * ```
 */
import path from 'node:path';
import { setInHost } from '../filesystem-edits';
import { nixString } from '../nix-edit';
import { pointSopsSshKeys } from '../sops-key-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'read-key-from-persistent-copy',
  codes: ['secret-key-not-at-activation'],
  fixes({ finding, host, workspace }) {
    const { tool, persistRoot, keys, keyFile } = finding.data ?? {};
    if (typeof persistRoot !== 'string' || !Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'string' && key.startsWith('/'))) return [];
    const copies = (keys as string[]).map((key) => path.posix.join(persistRoot, key));
    const { sources } = finding.data ?? {};
    if (tool === 'sops' && keyFile !== true) {
      if (!Array.isArray(sources) || sources.length !== keys.length || !sources.every((source) => typeof source === 'string')) return [];
      const point = pointSopsSshKeys(host, workspace, persistRoot, (keys as string[]).map((key, index) => ({ path: key, source: sources[index] as string })), false);
      return point ? [{ title: `Read the ssh key${keys.length > 1 ? 's' : ''} from the persistent cop${keys.length > 1 ? 'ies' : 'y'} (${point.options.join(', ')})`, preferred: true, edits: point.edits }] : [];
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
    const edit = setInHost(host, workspace, option, value);
    return edit ? [{ title: `Read the key from its persistent copy (${option.join('.')} = ${value})`, preferred: true, edits: [edit] }] : [];
  },
};
