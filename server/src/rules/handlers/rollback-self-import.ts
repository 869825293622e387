/**
 * # rollback-self-import
 *
 * **What.** A scripted stage-1 hook imports the pool itself (`zpool import`) without `-N` before rolling back.
 *
 * **Why.** Without `-N`, `zpool import` mounts every dataset whose `mountpoint` property is a path; NixOS imports
 * with `-N` and mounts through fstab (F9). A mounted root cannot be rolled back cleanly, and datasets end up mounted
 * on the initrd's own tree.
 *
 * **At boot.** "cannot rollback: dataset is busy", or datasets mounted in the wrong place.
 *
 * **Fix.** Use the hook that runs after NixOS's own import (see scripted-rollback-wrong-hook), or add `-N`.
 *
 * ```nix
 * # before
 * zpool import rpool
 * # after
 * zpool import -N rpool
 * ```
 */
import { findInvocations, hasFlag } from '../../model/shell';
import { scriptText } from '../../model/disko';
import { originOfRange } from '../../model/strings';
import { finding } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'rollback-self-import',
  severity: 'warning',
  summary: 'A scripted hook imports the pool without -N before rolling back.',
  facts: ['F9'],
  check(host) {
    const findings: Finding[] = [];
    const seen = new Set<unknown>();
    for (const rollback of host.rollbacks().rollbacks) {
      if (rollback.place.kind !== 'hook' || rollback.conditional || seen.has(rollback.fragment.definition)) continue;
      seen.add(rollback.fragment.definition);
      const value = rollback.fragment.value;
      for (const invocation of findInvocations(scriptText(value), 'zpool')) {
        if (invocation.subcommand !== 'import' || hasFlag(invocation.flags, 'N') || invocation.command.start > rollback.invocation.command.start) continue;
        const origin = originOfRange(value, invocation.command.start, invocation.command.end) ?? rollback.fragment.definition.origin;
        if (!origin) continue;
        findings.push(
          finding(this, origin, '`zpool import` without `-N` mounts the datasets before the rollback: the rollback then fails on a busy dataset. Import with `-N` (or leave the import to NixOS).', {
            data: { invocation, fragment: rollback.fragment },
          }),
        );
      }
    }
    return findings;
  },
};
