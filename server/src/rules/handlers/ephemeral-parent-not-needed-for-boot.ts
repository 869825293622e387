/**
 * # ephemeral-parent-not-needed-for-boot
 *
 * **What.** A `fileSystems` mount point that is a parent of a path impermanence persists (say `/var/lib` for
 * `/var/lib/nixos`) lacks an explicit `neededForBoot = true`.
 *
 * **Why.** Since commit 7b1d382 (2026-01-27) impermanence asserts "All filesystems used for ephemeral storage must
 * have the option "neededForBoot" set to true" for every such parent (F31b, F36). It checks the option's value, so
 * even `/var/lib`, which NixOS mounts in stage 1 anyway (F1), needs it written.
 *
 * **At build.** With an impermanence revision in `flake.lock` at or after 2026-01-27 the assertion fails the build:
 * **error**. When the revision cannot be read (no `flake.lock`, another way of fetching impermanence) the build fails
 * once impermanence is updated: warning. An older locked revision has no such check: silent.
 *
 * **Fix.**
 *
 * ```nix
 * # before: only disko's entry, without neededForBoot
 * environment.persistence."/persist".directories = [ "/var/lib/nixos" ];
 * # after
 * fileSystems."/var/lib".neededForBoot = true;
 * ```
 */
import path from 'node:path';
import { entryOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** impermanence added the parent check in commit 7b1d382, 2026-01-27 (F31b, F36). */
const PARENT_CHECK_SINCE = Date.UTC(2026, 0, 27) / 1000;

export const rule: Rule = {
  code: 'ephemeral-parent-not-needed-for-boot',
  severity: 'error',
  summary: 'A parent mount of a persisted path lacks an explicit neededForBoot (a build error with impermanence ≥ 2026-01-27).',
  facts: ['F31', 'F36', 'F1'],
  check(host) {
    const since = host.input.impermanenceLastModified;
    if (since !== undefined && since < PARENT_CHECK_SINCE) return [];
    // The locked revision has the assertion: the build fails. Unknown revision: it fails once impermanence is updated.
    const asserted = since !== undefined;
    const lockedOn = asserted ? new Date(since * 1000).toISOString().slice(0, 10) : undefined;
    const findings: Finding[] = [];
    const reported = new Set<string>();
    for (const persist of host.persistence()) {
      if (persist.module !== 'impermanence' || persist.conditional) continue;
      for (const entryPath of persist.entries) {
        for (let parent = path.posix.dirname(entryPath); parent !== '/' && parent !== '.'; parent = path.posix.dirname(parent)) {
          const entry = host.fileSystemAt(parent);
          if (!entry || reported.has(parent)) continue;
          const option = entry.neededForBootOption;
          if (option.state === 'unknown' || (option.state === 'known' && option.value)) continue;
          if (option.state === 'absent' && entry.node.child('neededForBoot').covers.length > 0) continue;
          const origin = entryOrigin(entry);
          if (!origin) continue;
          reported.add(parent);
          findings.push(
            finding(
              this,
              origin,
              `${q(parent)} is a mount above the persisted ${q(entryPath)}: impermanence (versions since 2026-01-27) asserts that such a filesystem has neededForBoot = true written, even where NixOS mounts it in stage 1 anyway, ${
                asserted ? `and the impermanence locked in flake.lock (${lockedOn}) has that check, so the build fails` : 'so the build fails once impermanence is at such a version (its revision could not be read here)'
              }. Set fileSystems.${JSON.stringify(parent)}.neededForBoot = true.`,
              {
              severity: asserted ? 'error' : 'warning',
              related: [related(persist.origin, `persisted under ${persist.path}`)],
              data: { entry },
              },
            ),
          );
        }
      }
    }
    return findings;
  },
};
