/**
 * # scripted-rollback-wrong-hook
 *
 * **What.** With the scripted stage 1, a rollback sits in `boot.initrd.postDeviceCommands` on nixpkgs 24.11 or
 * newer, or there without `lib.mkAfter` on older releases.
 *
 * **Why.** Since 24.11 ZFS imports its pools in `postResumeCommands`, after `postDeviceCommands` (F10). Before 24.11
 * the import was itself in `postDeviceCommands`, and only `lib.mkAfter` ordered a user's rollback after it
 * (openzfs/zfs#10674).
 *
 * **At boot.** "dataset does not exist": the pool is not imported yet, the rollback fails, the root is not reset.
 *
 * **Fix.** Move it to `boot.initrd.postResumeCommands = lib.mkAfter …` (24.11+), or wrap it in `lib.mkAfter`.
 *
 * ```nix
 * # before
 * boot.initrd.postDeviceCommands = "zfs rollback -r rpool/local/root@blank";
 * # after
 * boot.initrd.postResumeCommands = lib.mkAfter "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import { DEFAULT_ORDER } from '../../model/config';
import { releaseAtLeast } from '../../model/release';
import { findInvocations } from '../../model/shell';
import { scriptText } from '../../model/disko';
import { definitionOrigin, finding, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'scripted-rollback-wrong-hook',
  severity: 'error',
  summary: 'A scripted rollback runs before ZFS has imported the pool.',
  facts: ['F10', 'F5'],
  check(host) {
    if (host.systemdInitrd().state !== 'off') return [];
    const newRelease = releaseAtLeast(host.release, '24.11');
    const findings: Finding[] = [];
    const seen = new Set<unknown>();
    for (const rollback of host.certainStage1Rollbacks()) {
      if (rollback.place.kind !== 'hook' || rollback.place.hook !== 'postDeviceCommands') continue;
      const definition = rollback.fragment.definition;
      if (seen.has(definition)) continue;
      seen.add(definition);
      // A hook that imports the pool itself before rolling back does not depend on the hook order.
      const imports = findInvocations(scriptText(rollback.fragment.value), 'zpool').some((invocation) => invocation.subcommand === 'import' && invocation.command.start < rollback.invocation.command.start);
      if (imports) continue;
      const afterImport = definition.order > DEFAULT_ORDER;
      const origin = definitionOrigin(definition);
      if (!origin) continue;
      if (newRelease === true || (newRelease === undefined && afterImport)) {
        findings.push(
          finding(
            this,
            origin,
            newRelease
              ? `Since nixpkgs 24.11 ZFS imports pools in ${q('postResumeCommands')}, after ${q('postDeviceCommands')} (${host.release?.evidence}): this rollback runs before the pool exists and fails with "dataset does not exist". Move it to ${q('boot.initrd.postResumeCommands = lib.mkAfter …')}.`
              : `If your nixpkgs is 24.11 or newer, ZFS imports pools in ${q('postResumeCommands')}, after ${q('postDeviceCommands')}: this rollback would run before the pool exists. The release is unknown; on 24.11+ move it to ${q('boot.initrd.postResumeCommands = lib.mkAfter …')}.`,
            { severity: newRelease ? 'error' : 'warning', data: { rollback, move: true } },
          ),
        );
      } else if (!afterImport) {
        findings.push(
          finding(
            this,
            origin,
            `${q('postDeviceCommands')} without ${q('lib.mkAfter')} is not ordered after the ZFS pool import${newRelease === false ? '' : ' (and on 24.11+ the import is not in this hook at all)'}: the rollback can run before the pool exists and fail with "dataset does not exist". ${
              newRelease === false
                ? `Wrap it in ${q('lib.mkAfter')}.`
                : `Wrap it in ${q('lib.mkAfter')} before 24.11; on 24.11+ move it to ${q('boot.initrd.postResumeCommands = lib.mkAfter …')}.`
            }`,
            { data: { rollback, move: newRelease !== false } },
          ),
        );
      }
    }
    return findings;
  },
};
