/**
 * # Decrypt the password secret before users are created
 *
 * Sets `neededForUsers = true` on the sops-nix secret a user's `hashedPasswordFile` reads, so `setupSecretsForUsers`
 * writes it before `users` runs (F44, F46). The secret's path moves to `/run/secrets-for-users/<n>`, and
 * `config.sops.secrets.<n>.path`, which the user already refers to, follows it. Safe only for root-owned secrets
 * (sops-nix allows no other owner there, F43): the rule leaves out the data this fix needs when `owner` or `uid`
 * names someone else. The binding goes into the secret's own attribute set, else next to its other settings.
 *
 * ```nix
 * # before
 * sops.secrets.alice-password = { };
 * users.users.alice.hashedPasswordFile = config.sops.secrets.alice-password.path;
 * # after
 * sops.secrets.alice-password = {
 *   neededForUsers = true;
 * };
 * users.users.alice.hashedPasswordFile = config.sops.secrets.alice-password.path;
 * ```
 */
import type { Origin } from '../../model/values';
import { setInHost } from '../filesystem-edits';
import { trySetAttribute } from '../nix-edit';
import { attrsetAt } from '../targets';
import type { FixProvider } from '../types';
import { isGenerated } from '../generated';

export const provider: FixProvider = {
  name: 'secret-needed-for-users',
  codes: ['password-secret-not-needed-for-users'],
  fixes({ finding, host, workspace }) {
    const name = finding.data?.secret;
    if (typeof name !== 'string') return [];
    const own = attrsetAt(workspace, finding.data?.secretOrigin as Origin | undefined);
    const edit = own && !isGenerated(own.file) ? trySetAttribute(own.file, own.body, ['neededForUsers'], 'true') : setInHost(host, workspace, ['sops', 'secrets', name, 'neededForUsers'], 'true');
    return edit ? [{ title: `Decrypt ${JSON.stringify(name)} before users are created (sops.secrets.${JSON.stringify(name)}.neededForUsers = true)`, preferred: true, edits: [edit] }] : [];
  },
};
