/**
 * # Add -r to the rollback
 *
 * Inserts `-r` right after `rollback` in the `zfs rollback` command, wherever the command is written (an initrd unit's
 * `script` or `ExecStart`, a scripted hook, a stage-2 service), so the rollback destroys newer snapshots instead of
 * failing on them (F14). Fixes `rollback-missing-r`. No fix when `rollback` is not written literally in one piece
 * of the string (an interpolation or an escape in the way).
 *
 * ```nix
 * # before
 * script = "zfs rollback rpool/local/root@blank";
 * # after
 * script = "zfs rollback -r rpool/local/root@blank";
 * ```
 */
import type { Rollback } from '../../model/host-model';
import { scriptText } from '../../model/disko';
import { replaceInScript } from '../script-edits';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'add-rollback-r',
  codes: ['rollback-missing-r'],
  fixes({ finding, workspace }) {
    const rollback = finding.data?.rollback as Rollback | undefined;
    if (!rollback) return [];
    const { command, program } = rollback.invocation;
    const subcommand = command.words.find((word) => word.start > program.start && word.text === 'rollback');
    // The word must be the bare `rollback` (not quoted or escaped): `-r` goes right after it.
    if (!subcommand || scriptText(rollback.fragment.value).slice(subcommand.start, subcommand.end) !== 'rollback') return [];
    const edit = replaceInScript(workspace, rollback.fragment.value, subcommand.start, subcommand.end, 'rollback -r');
    const target = rollback.target ? ` ${rollback.target}` : '';
    return edit ? [{ title: `Add -r: zfs rollback -r${target}`, preferred: true, edits: [edit] }] : [];
  },
};
