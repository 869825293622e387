/**
 * # persist-not-needed-for-boot
 *
 * **What.** `environment.persistence."<p>"` (impermanence) stores data on a mount that is not mounted in stage 1 (no
 * `neededForBoot = true`, and not one of NixOS's fixed stage-1 paths) — or `preservation.preserveAt."<p>"` does so
 * while some of its entries have `inInitrd = true`.
 *
 * **Why.** impermanence asserts "All filesystems used for persistent storage must have the option "neededForBoot"
 * set to true" (F31a); `/persist` is not in NixOS's list (F1). It binds the persisted directories that are in
 * `pathsNeededForBoot` (`/var/lib/nixos`, `/var/log`, …) in the initrd, and its other directories are stage-2
 * mounts that activation runs before (F36, F32, F4): the source must already be mounted in stage 1.
 * preservation has no such assertion, and its stage-2 bind mounts wait for their source mount, since systemd makes a
 * bind mount depend on the mount that holds its source (F37): only entries with `inInitrd = true` are set up in the
 * initrd and need the source there. A preservation root without such entries is not reported.
 *
 * **At build or boot.** impermanence fails the build on its assertion — or the binds point into the empty root, and
 * what you meant to keep is lost at the next rollback. preservation's initrd entries bind from the wiped root.
 *
 * **Fix.**
 *
 * ```nix
 * # before: fileSystems."/persist" comes from disko, without neededForBoot
 * environment.persistence."/persist".directories = [ "/var/lib/nixos" ];
 * # after
 * fileSystems."/persist".neededForBoot = true;
 * ```
 */
import { entryOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'persist-not-needed-for-boot',
  severity: 'error',
  summary: 'Persistent storage lives on a mount that stage 1 does not mount (impermanence, or preservation entries with inInitrd).',
  facts: ['F31', 'F1', 'F4', 'F32', 'F36', 'F37'],
  check(host) {
    const findings: Finding[] = [];
    const { open } = host.fileSystems();
    for (const persist of host.persistence()) {
      if (persist.conditional || !persist.origin) continue;
      // preservation sets up only `inInitrd = true` entries before stage 2 (F37).
      if (persist.module === 'preservation' && persist.initrdEntries.length === 0) continue;
      const exact = host.fileSystemAt(persist.path);
      // With unreadable fileSystems, a longer mount point might hold the path: decide only on an exact entry.
      const holder = exact ?? (open ? undefined : host.mountHolding(persist.path));
      if (!holder) continue;
      const needed = host.neededForBoot(holder);
      if (needed !== false) continue;
      const where = holder.mountPoint === persist.path ? 'is a mount' : `lives on ${q(holder.mountPoint)}, a mount`;
      const why =
        persist.module === 'preservation'
          ? `yet ${persist.initrdEntries.map(q).join(', ')} ${persist.initrdEntries.length === 1 ? 'has' : 'have'} ${q('inInitrd = true')} and ${persist.initrdEntries.length === 1 ? 'is' : 'are'} set up from it in the initrd, before stage 2 mounts it`
          : 'yet impermanence requires it in stage 1 (its assertion fails the build when the storage path is a mount) and sets up the persisted paths from it before stage 2 mounts it';
      findings.push(
        finding(this, persist.origin, `The persistent storage ${q(persist.path)} (${persist.module}) ${where} that stage 1 does not mount, ${why}: set fileSystems.${JSON.stringify(holder.mountPoint)}.neededForBoot = true.`, {
          related: [related(entryOrigin(holder), `${holder.mountPoint} is mounted here without neededForBoot`)],
          data: { entry: holder, persist },
        }),
      );
    }
    return findings;
  },
};
