/**
 * # secret-key-not-persisted
 *
 * **What.** The root is erased at every boot, and the key a secrets tool decrypts with lives only on it: sops-nix's
 * `sops.age.keyFile`, or every one of its ssh keys (`sops.age.sshKeyPaths`, `sops.gnupg.sshKeyPaths`, by default the
 * host keys of `services.openssh.hostKeys`, F43, F51), or every agenix `age.identityPaths` entry (F47).
 *
 * **Why.** Nothing keeps the key: no mount above it, no impermanence or preservation entry. sops-install-secrets stops
 * with "cannot read keyfile" for a missing `keyFile`, and with `generateKey = true` a new key (that no secret was
 * encrypted to) is made at every boot; unreadable ssh keys are skipped, so when all are gone nothing decrypts (F45).
 * Before sops-nix 020dcff (2024-01-10) one missing ssh key already stopped it (sops-nix#167). agenix prints
 * "no readable identities found!" (F47). The host keys themselves are regenerated every boot (F51, F48).
 *
 * **At boot.** Secrets are missing after the first reboot: services fail, and accounts whose password is a secret
 * are locked.
 *
 * **Fix.** Persist the key and point the tool at the persistent copy (offered when one persistence root is known):
 *
 * ```nix
 * # before
 * sops.secrets.wifi = { };
 * # after
 * environment.persistence."/persist".files = [ "/etc/ssh/ssh_host_ed25519_key" ];
 * sops.age.sshKeyPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];
 * ```
 */
import { finding, q, related } from '../support';
import { lostKeys, singlePersistenceRoot } from '../survival';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'secret-key-not-persisted',
  severity: 'error',
  summary: 'The key sops-nix or agenix decrypts with lives only on the root that is erased at every boot.',
  facts: ['F43', 'F45', 'F46', 'F47', 'F51', 'F48'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral) return [];
    const findings: Finding[] = [];
    for (const { source, lost, oldSops } of lostKeys(host)) {
      const tool = source.tool === 'sops' ? 'sops-nix' : 'agenix';
      const written = lost.find((key) => key.origin && !key.derived) ?? lost.find((key) => key.origin);
      const origin = written?.origin ?? source.secrets[0]?.origin;
      if (!origin) continue;
      const names = lost.map((key) => q(key.path)).join(', ');
      let what: string;
      if (source.keyFile) {
        what = source.generateKey
          ? `sops.age.keyFile ${names} lies on the root, which ${ephemeral.how}: with generateKey a new key is made at every boot, and no secret is encrypted to it`
          : `sops.age.keyFile ${names} lies on the root, which ${ephemeral.how}: after the first reboot sops-install-secrets stops with "cannot read keyfile"`;
      } else if (oldSops) {
        what = `the ssh key ${names} of ${lost[0].source} lies on the root, which ${ephemeral.how}, and the sops-nix locked in flake.lock is older than 020dcff (2024-01-10): one unreadable ssh key already stops sops-install-secrets`;
      } else {
        const keys = source.tool === 'sops' ? 'every ssh key sops-nix reads' : 'every age.identityPaths entry';
        what = `${keys} (${names}) lies on the root, which ${ephemeral.how}: after the first reboot ${tool} finds no key and decrypts nothing`;
      }
      const root = singlePersistenceRoot(host);
      findings.push(
        finding(this, origin, `The ${tool} decryption key is not persisted: ${what}. Keep the key on persistent storage and point ${source.tool === 'sops' ? 'sops.age.sshKeyPaths (or sops.age.keyFile)' : 'age.identityPaths'} at the persistent copy.`, {
          related: [related(ephemeral.origin, 'what erases the root'), related(source.secrets[0]?.origin, `a secret ${tool} installs`)],
          data: { tool: source.tool, keys: lost.map((key) => ({ path: key.path, source: key.source })), keyFile: Boolean(source.keyFile), persistRoot: root?.path },
        }),
      );
    }
    return findings;
  },
};
