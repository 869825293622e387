/**
 * # Turn auto-snapshots off on the root dataset
 *
 * Sets `options."com.sun:auto-snapshot" = "false";` on the root dataset in disko: the root is rolled back on every
 * boot, so its automatic snapshots keep nothing and `zfs rollback -r` destroys them (F14). A `"true"` written on the
 * root dataset becomes `"false"`; a value it inherits (from a container or the pool's `rootFsOptions`) is overridden
 * on the root alone, merged into an existing `options = { … }` set or written next to its dotted `options.…`
 * bindings, so the datasets that are kept still get snapshots. Fixes `autosnapshot-on-ephemeral`. No fix when the
 * root's `options` is not an attribute set literal.
 *
 * ```nix
 * # before (rootFsOptions."com.sun:auto-snapshot" = "true" on the pool)
 * "local/root" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   mountpoint = "/";
 * };
 * # after
 * "local/root" = {
 *   type = "zfs_fs";
 *   options.mountpoint = "legacy";
 *   options."com.sun:auto-snapshot" = "false";
 *   mountpoint = "/";
 * };
 * ```
 */
import type { Dataset } from '../../model/disko';
import { isPlainString, nodeAt } from '../filesystem-edits';
import { type TextEdit, edit, trySetAttribute } from '../nix-edit';
import { datasetAttrset } from '../targets';
import type { FixProvider } from '../types';

const PROPERTY = 'com.sun:auto-snapshot';

export const provider: FixProvider = {
  name: 'disable-autosnapshot',
  codes: ['autosnapshot-on-ephemeral'],
  fixes({ finding, workspace }) {
    const dataset = finding.data?.dataset as Dataset | undefined;
    if (!dataset) return [];
    const edits: TextEdit[] = [];
    const own = dataset.autoSnapshot;
    if (own.state === 'unknown') return [];
    if (own.state === 'known') {
      // Written on the root itself: each definition's string becomes "false" where it stands.
      for (const definition of own.definitions) {
        const file = definition.origin && workspace.source(definition.origin.file);
        const literal = file && nodeAt(file, definition.origin, ['string_expression']);
        if (!file || !literal || !isPlainString(literal)) return [];
        edits.push(edit(file, literal.startIndex, literal.endIndex, '"false"'));
      }
    } else {
      const target = datasetAttrset(workspace, dataset);
      const inserted = target && trySetAttribute(target.file, target.body, [dataset.isPoolRoot ? 'rootFsOptions' : 'options', PROPERTY], '"false"');
      if (!inserted) return [];
      edits.push(inserted);
    }
    return [{ title: `Set "${PROPERTY}" = "false" on the root dataset ${dataset.fullName}`, preferred: true, edits }];
  },
};
