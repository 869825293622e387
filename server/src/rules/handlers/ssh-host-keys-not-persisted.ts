/**
 * # ssh-host-keys-not-persisted
 *
 * **What.** The root is erased at every boot, sshd generates its host keys (`services.openssh.enable` or
 * `generateHostKeys`), and a key of `services.openssh.hostKeys` — by default `/etc/ssh/ssh_host_rsa_key` and
 * `/etc/ssh/ssh_host_ed25519_key` (F51) — is not kept by any mount or persistence entry.
 *
 * **Why.** `sshd-keygen` (older NixOS: sshd's `preStart`) creates a key when the file is missing (F51), so every boot
 * makes a new one: impermanence#101, microvm.nix#52, nixos-anywhere#604 (F48). sops-nix and agenix read the same keys
 * by default (F43, F47): when one is their only key, `secret-key-not-persisted` reports it instead.
 *
 * **At boot.** Clients refuse to connect with a changed-host-key warning after every reboot.
 *
 * **Fix.** Keep the key pair (offered when one persistence root is known):
 *
 * ```nix
 * # before
 * services.openssh.enable = true;
 * # after
 * environment.persistence."/persist".files = [
 *   "/etc/ssh/ssh_host_ed25519_key" "/etc/ssh/ssh_host_ed25519_key.pub"
 * ];
 * ```
 */
import { isRuntimePath } from '../../model/persistence';
import { ageSecretPath, ageSecrets, hostKeys, opensshGeneratesKeys, sopsSecretPath, sopsSecrets } from '../../model/secrets';
import { finding, q, related } from '../support';
import { lostKeys, singlePersistenceRoot } from '../survival';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'ssh-host-keys-not-persisted',
  severity: 'warning',
  summary: 'sshd host keys live on the root that is erased at every boot: a new host key every boot.',
  facts: ['F51', 'F43', 'F47', 'F48'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral || opensshGeneratesKeys(host) !== true) return [];
    const keys = hostKeys(host);
    if (!keys.known) return [];
    // Keys a secrets tool writes are supplied at every boot (RULES.md clarifications).
    const deployed = new Set<string>();
    for (const secret of sopsSecrets(host).secrets) deployed.add(sopsSecretPath(host, secret) ?? '');
    for (const secret of ageSecrets(host).secrets) deployed.add(ageSecretPath(secret) ?? '');
    // One finding per cause: a key that is also the secrets tool's lost key is reported there, as an error.
    const reported = new Set(lostKeys(host).flatMap((lost) => lost.lost.map((key) => key.path)));
    const lost = [];
    for (const key of keys.value) {
      if (isRuntimePath(key.path) || deployed.has(key.path) || reported.has(key.path)) continue;
      const cover = host.coverOf(key.path);
      if (!cover) return [];
      if (cover.kind === 'none') lost.push(key);
    }
    if (lost.length === 0) return [];
    const enable = host.config.at('services', 'openssh', 'enable').bool();
    const generate = host.config.at('services', 'openssh', 'generateHostKeys').bool();
    const origin = lost.find((key) => key.origin)?.origin ?? (enable.state === 'known' ? enable.definitions[0]?.origin : undefined) ?? (generate.state === 'known' ? generate.definitions[0]?.origin : undefined);
    if (!origin) return [];
    const root = singlePersistenceRoot(host);
    return [
      finding(this, origin, `The sshd host key${lost.length > 1 ? 's' : ''} ${lost.map((key) => q(key.path)).join(', ')} ${lost.length > 1 ? 'lie' : 'lies'} on the root, which ${ephemeral.how}: sshd-keygen makes a new host key at every boot and clients refuse to connect (changed host key). Keep the key pair on persistent storage${root ? `, e.g. in ${q(`${root.module === 'impermanence' ? 'environment.persistence' : 'preservation.preserveAt'}."${root.path}".files`)}` : ''}.`, {
        related: [related(ephemeral.origin, 'what erases the root')],
        data: root ? { persistRoot: root.path, module: root.module, keys: lost.map((key) => key.path) } : undefined,
      }),
    ];
  },
};
