/**
 * # persist-not-needed-for-boot
 *
 * **What.** `environment.persistence."<p>"` (impermanence) or `preservation.preserveAt."<p>"` stores data on a mount
 * that is not mounted in stage 1 (no `neededForBoot = true`, and not one of NixOS's fixed stage-1 paths).
 *
 * **Why.** impermanence and preservation bind-mount the persisted paths in the initrd and activation runs there
 * (F4, F32); their source must already be mounted. impermanence asserts "All filesystems used for persistent storage
 * must have the option "neededForBoot" set to true" (F31a); `/persist` is not in NixOS's list (F1).
 *
 * **At boot.** The build fails on impermanence's assertion — or the binds point into the empty root, and what you
 * meant to keep is lost at the next rollback.
 *
 * **Fix.**
 *
 * ```nix
 * # after
 * fileSystems."/persist".neededForBoot = true;
 * ```
 */
import { entryOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'persist-not-needed-for-boot',
  severity: 'error',
  summary: 'Persistent storage lives on a mount that stage 1 does not mount.',
  facts: ['F31', 'F1', 'F4', 'F32'],
  check(host) {
    const findings: Finding[] = [];
    const { open } = host.fileSystems();
    for (const persist of host.persistence()) {
      if (persist.conditional || !persist.origin) continue;
      const exact = host.fileSystemAt(persist.path);
      // With unreadable fileSystems, a longer mount point might hold the path: decide only on an exact entry.
      const holder = exact ?? (open ? undefined : host.mountHolding(persist.path));
      if (!holder) continue;
      const needed = host.neededForBoot(holder);
      if (needed !== false) continue;
      findings.push(
        finding(
          this,
          persist.origin,
          `The persistent storage ${q(persist.path)} (${persist.module}) ${holder.mountPoint === persist.path ? 'is a mount' : `lives on ${q(holder.mountPoint)}, a mount`} that stage 1 does not mount, yet the persisted paths are set up from it before stage 2 mounts it: set fileSystems.${JSON.stringify(holder.mountPoint)}.neededForBoot = true.`,
          {
            related: [related(entryOrigin(holder), `${holder.mountPoint} is mounted here without neededForBoot`)],
            data: { entry: holder, persist },
          },
        ),
      );
    }
    return findings;
  },
};
