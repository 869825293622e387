/**
 * # imperative-passwords-lost
 *
 * **What.** The root is erased at every boot, users are mutable (`users.mutableUsers`, true by default), `/etc/shadow`
 * is not kept, and a user who can log in (`isNormalUser`, or `root`) has no declarative password: none of
 * `hashedPassword`, `hashedPasswordFile`, `password`, `passwordFile`.
 *
 * **Why.** `update-users-groups.pl` treats every user missing from `/etc/shadow` as new: it applies
 * `initialPassword`/`initialHashedPassword` or locks the account with `!` (F52). A password set with `passwd` lives
 * only in `/etc/shadow`, which the rollback erases. The NixOS wiki's impermanence page warns about the same: the
 * installer sets passwords imperatively (F52).
 *
 * **At boot.** After every reboot the password set with `passwd` is gone: the initial one is back, or the account is
 * locked.
 *
 * **Fix.** None automatic. Declare the password on persistent storage:
 *
 * ```nix
 * # before
 * users.users.alice.isNormalUser = true;
 * # after
 * users.mutableUsers = false;
 * users.users.alice.hashedPasswordFile = "/persist/passwords/alice";
 * ```
 */
import { usersBySystemd } from '../../model/activation';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

const PASSWORD_OPTIONS = ['hashedPassword', 'hashedPasswordFile', 'password', 'passwordFile'];

export const rule: Rule = {
  code: 'imperative-passwords-lost',
  severity: 'warning',
  summary: 'Mutable users on an ephemeral root: a login user without a declarative password loses the one set with passwd at every boot.',
  facts: ['F52'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral) return [];
    const mutable = host.config.at('users', 'mutableUsers').bool();
    if (mutable.state === 'unknown' || (mutable.state === 'known' && !mutable.value)) return [];
    if (usersBySystemd(host) !== false) return [];
    if (host.coverOf('/etc/shadow')?.kind !== 'none') return [];
    const users = host.config.at('users', 'users');
    if (users.unknownNames().length > 0) return [];
    const findings: Finding[] = [];
    for (const name of users.childNames()) {
      const user = users.child(name);
      const definitions = user.effective().definitions;
      if (definitions.length === 0 || definitions.every((definition) => definition.conditional)) continue;
      const normal = user.child('isNormalUser').bool();
      if (normal.state === 'unknown') continue;
      if (name !== 'root' && !(normal.state === 'known' && normal.value)) continue;
      let declared: boolean | undefined = false;
      for (const option of PASSWORD_OPTIONS) {
        const value = user.child(option).scalar();
        if (value.state === 'unknown') declared = undefined;
        else if (value.state === 'known' && value.value.kind !== 'null' && declared === false) declared = true;
        if (declared !== false) break;
      }
      if (declared !== false) continue;
      const origin = definitions.find((definition) => definition.keyOrigin)?.keyOrigin;
      if (!origin) continue;
      findings.push(
        finding(this, origin, `${q(name)} can log in but has no declarative password (hashedPassword, hashedPasswordFile, password or passwordFile), users are mutable, and /etc/shadow is not kept while the root ${ephemeral.how}: a password set with passwd is lost at every boot (the initial password comes back, or the account is locked). Set users.mutableUsers = false with a hashedPasswordFile on persistent storage, or keep /etc/shadow.`, {
          related: [related(ephemeral.origin, 'what erases the root')],
        }),
      );
    }
    return findings;
  },
};
