/**
 * # Guard the snapshot in the disko hook
 *
 * Puts the check disko's own example uses in front of a bare `zfs snapshot X` in a disko hook, so that running the
 * format script again skips the snapshot instead of aborting on "dataset already exists" (F25). The command itself,
 * with its flags (`-r`), stays as written. Fixes `snapshot-hook-not-idempotent`. No fix when the snapshot name is
 * computed (`${pool}/root@blank`), when one command takes several snapshots, or when the command is not written
 * literally in one piece of the string.
 *
 * ```nix
 * # before
 * postCreateHook = "zfs snapshot rpool/nixos/empty@start";
 * # after
 * postCreateHook = "zfs list -t snapshot -H -o name | grep -qxF 'rpool/nixos/empty@start' || zfs snapshot rpool/nixos/empty@start";
 * ```
 */
import type { Definition } from '../../model/config';
import { scriptText } from '../../model/disko';
import { findInvocations } from '../../model/shell';
import { originOfRange } from '../../model/strings';
import type { StringValue } from '../../model/values';
import { isPlainName, replaceInScript } from '../script-edits';
import { guardedSnapshot } from './insert-rollback-service';
import type { FixProvider } from '../types';

/** The check in front of `zfs snapshot X` (true when X already exists): `guardedSnapshot` without its command. */
export function snapshotGuard(target: string): string {
  const guarded = guardedSnapshot(target);
  return guarded.slice(0, guarded.length - `zfs snapshot ${target}`.length);
}

export const provider: FixProvider = {
  name: 'guard-snapshot-hook',
  codes: ['snapshot-hook-not-idempotent'],
  fixes({ finding, workspace }) {
    const definition = finding.data?.definition as Definition | undefined;
    const targets = finding.data?.targets as (string | undefined)[] | undefined;
    if (!definition || definition.value.kind !== 'string' || !targets || targets.length !== 1) return [];
    const target = targets[0];
    if (!target || !isPlainName(target)) return [];
    const value = definition.value as StringValue;
    const text = scriptText(value);
    // The command the finding is about: the bare `zfs snapshot` written exactly where the finding points.
    const invocation = findInvocations(text, 'zfs').find((candidate) => {
      if (candidate.subcommand !== 'snapshot' || !candidate.command.bare) return false;
      const origin = originOfRange(value, candidate.command.start, candidate.command.end);
      return origin !== undefined && origin.file === finding.origin.file && origin.start === finding.origin.start && origin.end === finding.origin.end;
    });
    if (!invocation || invocation.operands.length !== 1 || invocation.operands[0].text !== target) return [];
    const { start, end } = invocation.command;
    const edit = replaceInScript(workspace, value, start, end, `${snapshotGuard(target)}${text.slice(start, end)}`);
    return edit ? [{ title: `Guard the snapshot: take ${target} only when it does not exist yet`, preferred: true, edits: [edit] }] : [];
  },
};
