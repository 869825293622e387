/**
 * # password-file-not-at-activation
 *
 * **What.** The root is erased at every boot and `users.users.<u>.hashedPasswordFile` (or `passwordFile`) is a plain
 * path that does not exist when users are created: it lies on the erased root, on a mount that stage 1 does not
 * mount, in an impermanence `files` entry or stage-2 directory, or in a preservation entry without `inInitrd`.
 *
 * **Why.** `update-users-groups.pl` reads the file during activation; a missing one prints "warning: password file
 * ‘P’ does not exist" and the account gets `!` (F52, nixpkgs#148044). Activation runs after the needed-for-boot mounts
 * only (F4, F1), and impermanence links its files after users are created (F49). On an ephemeral root every user is
 * new at every boot, so this happens each time.
 *
 * **At boot.** The user is locked out; for `root` or a `wheel` user, administrative access is lost (error), for
 * other users it is a warning.
 *
 * **Fix.** Keep the file on a needed-for-boot mount and point at it:
 *
 * ```nix
 * # before
 * users.users.alice.hashedPasswordFile = "/etc/passwords/alice";
 * # after (with fileSystems."/persist".neededForBoot = true)
 * users.users.alice.hashedPasswordFile = "/persist/passwords/alice";
 * ```
 */
import { lateBecause } from '../../model/activation';
import { isRuntimePath } from '../../model/persistence';
import { secretReference } from '../../model/secrets';
import { stringText } from '../../model/values';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';
import { PASSWORD_FILE_OPTIONS } from './password-secret-not-needed-for-users';

export const rule: Rule = {
  code: 'password-file-not-at-activation',
  severity: 'error',
  summary: 'hashedPasswordFile is a path that is gone or not yet mounted when users are created at activation.',
  facts: ['F52', 'F4', 'F1', 'F49'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral || host.activationMode('users').mode !== 'activation') return [];
    const findings: Finding[] = [];
    const users = host.config.at('users', 'users');
    for (const user of users.childNames()) {
      for (const option of PASSWORD_FILE_OPTIONS) {
        const { definitions } = users.child(user).child(option).effective();
        if (definitions.length !== 1 || definitions[0].conditional) continue;
        const definition = definitions[0];
        // A Nix path literal is copied into the store; a secrets path is password-secret-not-needed-for-users' business.
        if (definition.value.kind !== 'string' || secretReference(definition.value)) continue;
        const file = stringText(definition.value);
        if (!file || !file.startsWith('/') || isRuntimePath(file) || !definition.origin) continue;
        const cover = host.coverOf(file);
        if (!cover || host.earlyFor(file, 'before-users') !== false) continue;
        const groups = users.child(user).child('extraGroups').list();
        const wheel = groups.items.some((item) => !item.definition.conditional && stringText(item.thunk.force()) === 'wheel');
        const admin = user === 'root' || wheel;
        findings.push(
          finding(this, definition.origin, `users.users.${user}.${option} is ${q(file)}, which does not exist when users are created at activation (${lateBecause(cover)}); the root ${ephemeral.how}, so ${q(user)} is created anew and locked (\`!\`) at every boot. Keep the file on a needed-for-boot mount and point at it.`, {
            severity: admin ? 'error' : 'warning',
            related: [related(cover.kind === 'mount' ? cover.entry.origin : cover.kind === 'none' ? ephemeral.origin : cover.entry.origin, cover.kind === 'none' ? 'what erases the root' : 'what keeps the file')],
          }),
        );
      }
    }
    return findings;
  },
};
