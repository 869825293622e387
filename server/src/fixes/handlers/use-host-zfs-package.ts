/**
 * # Use the host's ZFS package
 *
 * Replaces `pkgs.zfs` in a rollback unit — an item of its `path`, or a `${pkgs.zfs}` in its script — by
 * `config.boot.zfs.package`, the ZFS the host's kernel module belongs to (F18, F11), and adds `config` to the
 * module's arguments when it is missing. Fixes `rollback-zfs-binary`. No fix when the reference is written in
 * another way (`pkgs."zfs"`, a variable bound to it) or the module is not a function.
 *
 * ```nix
 * # before (boot.zfs.package = pkgs.zfs_unstable)
 * path = [ pkgs.zfs ];
 * # after
 * path = [ config.boot.zfs.package ];
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { Origin } from '../../model/values';
import { type TextEdit, addModuleArgument, edit, moduleArguments } from '../nix-edit';
import { editableFile } from '../script-edits';
import type { FixProvider } from '../types';

const PACKAGE = 'config.boot.zfs.package';

export const provider: FixProvider = {
  name: 'use-host-zfs-package',
  codes: ['rollback-zfs-binary'],
  fixes({ finding, host, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    const origin = finding.data?.origin as Origin | undefined;
    const file = origin && editableFile(workspace, origin.file);
    if (!unit || !origin || !file) return [];
    const written = file.text.slice(origin.start, origin.end);
    // `pkgs.zfs` (or `zfs` under `with pkgs;`) as a value, `${pkgs.zfs}` in a string.
    const replacement = /^(pkgs\.)?zfs$/.test(written) ? PACKAGE : /^\$\{\s*(pkgs\.)?zfs\s*\}$/.test(written) ? `\${${PACKAGE}}` : undefined;
    const args = moduleArguments(file);
    if (!replacement || !args.formals) return [];
    const edits: TextEdit[] = [];
    if (!args.names.includes('config')) {
      // Only a file the host imports as a module is called with `config` (not one called as `import ./x.nix { … }`).
      const added = host.files.includes(file.path) ? addModuleArgument(file, 'config') : undefined;
      if (!added) return [];
      edits.push(added);
    }
    edits.push(edit(file, origin.start, origin.end, replacement));
    return [{ title: `Use ${PACKAGE} instead of pkgs.zfs in ${unit.name}`, preferred: true, edits }];
  },
};
