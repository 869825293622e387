/**
 * # initrd-secret-source-ephemeral
 *
 * **What.** The root is erased at every boot and a `boot.initrd.secrets` entry — written, or made by
 * `boot.initrd.network.ssh.hostKeys` — copies its secret from a path that is kept by nothing.
 *
 * **Why.** The secrets are appended to the initrd from their source every time the boot loader is installed
 * (`append-initrd-secrets`, F56); the source is the value, or the name when the value is null. After the first reboot
 * the source is gone. A Nix path literal is copied at evaluation and is not affected.
 *
 * **At build.** Every later `nixos-rebuild switch`/`boot` fails with "failed to create initrd secrets!" (F56).
 *
 * **Fix.** None automatic. Point the source at persistent storage:
 *
 * ```nix
 * # before
 * boot.initrd.network.ssh.hostKeys = [ "/etc/secrets/initrd/ssh_host_ed25519_key" ];
 * # after
 * boot.initrd.network.ssh.hostKeys = [ "/persist/etc/secrets/initrd/ssh_host_ed25519_key" ];
 * ```
 */
import type { Origin } from '../../model/values';
import { stringText } from '../../model/values';
import { isRuntimePath } from '../../model/persistence';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'initrd-secret-source-ephemeral',
  severity: 'error',
  summary: 'A boot.initrd.secrets source lives on the root that is erased at every boot: the next switch fails.',
  facts: ['F56'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral) return [];
    const sources: { path: string; origin: Origin; from: string }[] = [];
    const secrets = host.config.at('boot', 'initrd', 'secrets');
    for (const name of secrets.childNames()) {
      const { definitions } = secrets.child(name).effective();
      if (definitions.length !== 1 || definitions[0].conditional) continue;
      const value = definitions[0].value;
      const origin = definitions[0].origin ?? definitions[0].keyOrigin;
      if (!origin) continue;
      // null: the same path inside and out. A path literal is copied into the store at evaluation.
      if (value.kind === 'null') sources.push({ path: name, origin: definitions[0].keyOrigin ?? origin, from: `boot.initrd.secrets.${JSON.stringify(name)}` });
      else if (value.kind === 'string') {
        const text = stringText(value);
        if (text !== undefined) sources.push({ path: text, origin, from: `boot.initrd.secrets.${JSON.stringify(name)}` });
      }
    }
    // initrd-ssh.nix turns every host key into an initrd secret when the initrd network and its sshd are on (F56).
    const network = host.config.at('boot', 'initrd', 'network', 'enable').bool();
    const ssh = host.config.at('boot', 'initrd', 'network', 'ssh', 'enable').bool();
    if (network.state === 'known' && network.value && ssh.state === 'known' && ssh.value) {
      const keys = host.config.at('boot', 'initrd', 'network', 'ssh', 'hostKeys').list();
      for (const item of keys.items) {
        if (item.definition.conditional) continue;
        const value = item.thunk.force();
        const text = value.kind === 'string' ? stringText(value) : undefined;
        const origin = item.thunk.origin ?? value.origin;
        if (text !== undefined && origin) sources.push({ path: text, origin, from: 'boot.initrd.network.ssh.hostKeys' });
      }
    }
    const findings: Finding[] = [];
    for (const source of sources) {
      if (!source.path.startsWith('/') || isRuntimePath(source.path)) continue;
      if (host.coverOf(source.path)?.kind !== 'none') continue;
      findings.push(
        finding(this, source.origin, `The initrd secret source ${q(source.path)} (${source.from}) lies on the root, which ${ephemeral.how}: it is copied into the initrd whenever the boot loader is installed, so after the first reboot every nixos-rebuild switch or boot fails with "failed to create initrd secrets!". Point the source at persistent storage.`, {
          related: [related(ephemeral.origin, 'what erases the root')],
        }),
      );
    }
    return findings;
  },
};
