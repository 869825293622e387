/**
 * # password-secret-not-needed-for-users
 *
 * **What.** `users.users.<u>.hashedPasswordFile` (or the older `passwordFile`) is `config.sops.secrets.<n>.path`,
 * and that secret does not set `neededForUsers = true`.
 *
 * **Why.** sops-nix writes regular secrets in `setupSecrets`, which runs after `users` (F44); the sops-nix README says
 * a password cannot be such a secret and gives `neededForUsers = true` as the way out (F46). When users are created the
 * file is not there: the account gets `!` (F52). On an ephemeral root every user is new at every boot, and with
 * `users.mutableUsers = false` an existing hash is overwritten, so this happens at every boot (F52).
 *
 * **At boot.** The user cannot log in with a password (locked account).
 *
 * **Fix.** Decrypt the secret before users are created (its path moves to `/run/secrets-for-users/<n>`, and
 * `config.sops.secrets.<n>.path` follows):
 *
 * ```nix
 * # before
 * sops.secrets.alice-password = { };
 * # after
 * sops.secrets.alice-password.neededForUsers = true;
 * ```
 */
import { secretReferenceAt, sopsSecrets } from '../../model/secrets';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** The password options that name a file (`passwordFile` is the older name). */
export const PASSWORD_FILE_OPTIONS = ['hashedPasswordFile', 'passwordFile'] as const;

export const rule: Rule = {
  code: 'password-secret-not-needed-for-users',
  severity: 'error',
  summary: 'hashedPasswordFile is a sops-nix secret without neededForUsers: it is written after users are created.',
  facts: ['F43', 'F44', 'F46', 'F52'],
  check(host) {
    if (!host.isNixosHost || host.activationMode('sops').mode !== 'activation') return [];
    const ephemeral = host.ephemeralRoot();
    const mutable = host.config.at('users', 'mutableUsers').bool();
    const immutable = mutable.state === 'known' && !mutable.value;
    if (!ephemeral && !immutable) return [];
    const findings: Finding[] = [];
    const users = host.config.at('users', 'users');
    const secrets = sopsSecrets(host);
    for (const user of users.childNames()) {
      for (const option of PASSWORD_FILE_OPTIONS) {
        const reference = secretReferenceAt(users.child(user).child(option));
        if (!reference || reference.tool !== 'sops') continue;
        const secret = secrets.secrets.find((candidate) => candidate.name === reference.name);
        if (!secret || secret.conditional) continue;
        const flag = secret.node.child('neededForUsers').bool();
        if (flag.state === 'unknown' || (flag.state === 'known' && flag.value)) continue;
        // A secret that must stay owned by someone else cannot move to /run/secrets-for-users (root only, F43).
        const owner = secret.node.child('owner').string();
        const uid = secret.node.child('uid').scalar();
        const ownedByOther = (owner.state === 'known' && owner.value !== 'root') || (uid.state === 'known' && !(uid.value.kind === 'int' && uid.value.value === 0));
        const origin = reference.origin;
        if (!origin) continue;
        const when = ephemeral ? `the root ${ephemeral.how}, so ${q(user)} is created anew` : `users.mutableUsers = false rewrites the password of ${q(user)}`;
        findings.push(
          finding(this, origin, `users.users.${user}.${option} is the sops-nix secret ${q(reference.name)}, which is written by setupSecrets after users are created (it lacks neededForUsers = true): ${when} at every boot without the file, and the account is locked. Set sops.secrets.${JSON.stringify(reference.name)}.neededForUsers = true.`, {
            related: [related(secret.origin, 'the secret'), related(ephemeral?.origin, 'what erases the root')],
            data: ownedByOther ? undefined : { secret: reference.name, secretOrigin: secret.origin },
          }),
        );
      }
    }
    return findings;
  },
};
