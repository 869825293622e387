/**
 * # persist-path-on-ephemeral-root
 *
 * **What.** The root is erased at every boot, and a persistence root — `environment.persistence."<p>"`
 * (impermanence) or `preservation.preserveAt."<p>"` (with `preservation.enable`) — is not under any mount of its own:
 * `<p>` is a plain directory of the root file system.
 *
 * **Why.** impermanence's assertion checks `neededForBoot` only for storage paths that are `fileSystems` keys, so a
 * storage path with no mount at all passes every check (F31, F68); `persist-not-needed-for-boot` fires only for an
 * existing mount. Everything "persisted" is then written into the root that the rollback or the tmpfs empties
 * (F14, F58, F60); NixOS mounts only what `fileSystems` lists (F1).
 *
 * **At boot.** Every reboot erases the persisted data along with the rest of the root: the host boots, and
 * everything you meant to keep is gone.
 *
 * **Fix.** None automatic (it needs a disk or dataset): give `<p>` a mount of its own, needed for boot.
 *
 * ```nix
 * # before: /persist is only a directory of the rolled-back root
 * environment.persistence."/persist".directories = [ "/var/lib/nixos" ];
 * # after (disko)
 * "local/persist" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/persist"; };
 * fileSystems."/persist".neededForBoot = true;
 * ```
 */
import { isFlagOnlyEntry, separateMountHolding } from '../../model/persistence';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'persist-path-on-ephemeral-root',
  severity: 'error',
  summary: 'A persistence root (/persist, …) is a plain directory of the root that is erased at every boot.',
  facts: ['F31', 'F68', 'F1', 'F58', 'F14', 'F60'],
  check(host) {
    const ephemeral = host.ephemeralRoot();
    if (!ephemeral) return [];
    const findings: Finding[] = [];
    const preservation = host.config.at('preservation', 'enable').bool();
    for (const root of host.persistenceDetails().roots) {
      if (root.conditional || !root.origin) continue;
      if (root.module === 'preservation' && !(preservation.state === 'known' && preservation.value)) continue;
      if (root.node.child('persistentStoragePath').string().state === 'unknown') continue;
      const holder = separateMountHolding(host, root.path);
      if (holder === undefined || (holder && !isFlagOnlyEntry(holder))) continue;
      // A flag-only entry (`fileSystems."/persist".neededForBoot = true;` with no device) is not a mount we can read.
      if (holder) continue;
      findings.push(
        finding(
          this,
          root.origin,
          `The persistent storage ${q(root.path)} (${root.module}) is not under any mount of its own: it is a directory of the root file system, which ${ephemeral.how} (${ephemeral.kind} root, nearest mount ${q('/')}). Everything it keeps is erased with the root. Give ${q(root.path)} a dataset or partition of its own, with neededForBoot = true.`,
          { related: [related(ephemeral.origin, 'what erases the root')], data: { root: root.path, ephemeral: ephemeral.kind } },
        ),
      );
    }
    return findings;
  },
};
