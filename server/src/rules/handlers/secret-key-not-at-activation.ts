/**
 * # secret-key-not-at-activation
 *
 * **What.** The root is erased at every boot, sops-nix or agenix decrypts in the activation script, and its key is
 * persisted — but by something that makes it appear only after the decryption ran: an impermanence `files` entry
 * (linked after users are created), an impermanence directory outside NixOS's needed-for-boot list (bound in stage
 * 2), a mount without `neededForBoot`, or a preservation entry without `inInitrd`.
 *
 * **Why.** Activation runs after the needed-for-boot mounts and before every other mount (F4, F1). sops-nix's
 * `setupSecretsForUsers` and agenix run before `users`; impermanence's `persist-files` runs after `users`, and its
 * directories are stage-2 mounts unless they are in `pathsNeededForBoot` (F44, F47, F49, F50): impermanence#282,
 * impermanence#301, agenix#45, agenix#219 (F48). sops-nix's regular `setupSecrets` runs after `persist-files`, so there
 * impermanence `files` do arrive in time. Since impermanence PR #272 (2025-09-20) the sops-nix README advice
 * `fileSystems."/etc/ssh".neededForBoot = true` (F46) no longer moves a persisted directory into stage 1.
 * With `systemd.sysusers`/userborn the tools run as units after the mounts, and this rule is silent.
 *
 * **At boot.** Nothing is decrypted at activation: accounts whose password is a secret are locked, services miss
 * their secrets ("cannot read keyfile" for `sops.age.keyFile`, F45).
 *
 * **Fix.** Read the key from the persistent copy itself, on a needed-for-boot mount:
 *
 * ```nix
 * # before
 * environment.persistence."/persist".files = [ "/etc/ssh/ssh_host_ed25519_key" ];
 * # after (with fileSystems."/persist".neededForBoot = true)
 * sops.age.sshKeyPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];   # sops-nix
 * age.identityPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];     # agenix
 * ```
 */
import { lateBecause } from '../../model/activation';
import { neededForUsers } from '../../model/secrets';
import { separateMountHolding } from '../../model/persistence';
import { finding, q, related } from '../support';
import { type CoveredKey, keySources } from '../survival';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'secret-key-not-at-activation',
  severity: 'error',
  summary: 'The secrets key is persisted, but appears only after sops-nix or agenix decrypted in the activation script.',
  facts: ['F44', 'F45', 'F46', 'F47', 'F48', 'F49', 'F50', 'F4', 'F1'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral) return [];
    const findings: Finding[] = [];
    for (const source of keySources(host)) {
      if (host.activationMode(source.tool === 'sops' ? 'sops' : 'agenix').mode !== 'activation') continue;
      let consumer: 'before-users' | 'sops-regular' = 'before-users';
      let step = 'agenixInstall, which runs before users are created';
      if (source.tool === 'sops') {
        const flags = source.secrets.map((secret) => neededForUsers(host, secret));
        if (flags.some((flag) => flag === true)) step = 'setupSecretsForUsers (a secret has neededForUsers = true), which runs before users are created';
        else if (flags.every((flag) => flag === false)) {
          consumer = 'sops-regular';
          step = 'setupSecrets';
        } else continue;
      }
      // The key file alone decides for sops-nix: an unreadable keyFile aborts whatever the ssh keys (F45). An
      // unpersisted one is secret-key-not-persisted's finding.
      const keys: CoveredKey[] = source.keyFile ? [source.keyFile] : source.keys;
      if (keys.length === 0 || keys.every((key) => key.cover.kind === 'none')) continue;
      const early = keys.map((key) => host.earlyFor(key.path, consumer));
      if (early.some((value) => value !== false)) continue;
      const persisted = keys.filter((key) => key.cover.kind !== 'none');
      const shown = persisted.find((key) => key.origin && !key.derived) ?? persisted.find((key) => key.origin);
      const origin = shown?.origin ?? source.secrets[0]?.origin;
      if (!origin) continue;
      const tool = source.tool === 'sops' ? 'sops-nix' : 'agenix';
      const reasons = persisted.map((key) => `${q(key.path)}: ${lateBecause(key.cover)}`).join('; ');
      // The fix reads the key from the persistence root, which must itself be mounted in stage 1.
      const roots = persisted.map((key) => (key.cover.kind === 'mount' || key.cover.kind === 'none' ? undefined : key.cover.root));
      const root = roots[0] && roots.every((candidate) => candidate === roots[0]) ? roots[0] : undefined;
      const rootMount = root ? separateMountHolding(host, root.path) : undefined;
      const fixable = root && rootMount && host.neededForBoot(rootMount) === true;
      findings.push(
        finding(this, origin, `${tool} decrypts in ${step}, but no key it reads exists yet at that point (${reasons}). Read the key from its persistent copy on a needed-for-boot mount${root ? `, e.g. ${q(`${root.path}${persisted[0].path}`)}` : ''}.`, {
          related: [related(root?.origin, 'the persistent storage that holds the key'), related(source.secrets[0]?.origin, `a secret ${tool} installs`)],
          // `sources` names the option each key comes from: the fix rewrites sops-nix's age or gnupg list by it.
          data: fixable ? { tool: source.tool, persistRoot: root!.path, keys: persisted.map((key) => key.path), sources: persisted.map((key) => key.source), keyFile: Boolean(source.keyFile) } : undefined,
        }),
      );
    }
    return findings;
  },
};
