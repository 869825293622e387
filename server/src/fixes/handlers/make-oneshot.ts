/**
 * # Make the unit a oneshot
 *
 * Sets `serviceConfig.Type = "oneshot"` (replacing another type), so `before` waits until the rollback has
 * finished. Fixes `rollback-not-oneshot`.
 *
 * ```nix
 * # before
 * serviceConfig.Type = "simple";
 * # after
 * serviceConfig.Type = "oneshot";
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { FixProvider } from '../types';
import { setUnitField } from '../unit-edits';

export const provider: FixProvider = {
  name: 'make-oneshot',
  codes: ['rollback-not-oneshot'],
  fixes({ finding, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    if (!unit) return [];
    const edit = setUnitField(workspace, unit, ['serviceConfig', 'Type'], '"oneshot"');
    return edit ? [{ title: 'Set serviceConfig.Type = "oneshot"', preferred: true, edits: [edit] }] : [];
  },
};
