/**
 * # Drop the default dependencies
 *
 * Sets `unitConfig.DefaultDependencies = "no"` (replacing another value), so the unit is not ordered after
 * `basic.target`. Fixes `rollback-default-dependencies`.
 *
 * ```nix
 * # before
 * boot.initrd.systemd.services.rollback = { serviceConfig.Type = "oneshot"; … };
 * # after
 * boot.initrd.systemd.services.rollback = { serviceConfig.Type = "oneshot"; unitConfig.DefaultDependencies = "no"; … };
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { FixProvider } from '../types';
import { setUnitField } from '../unit-edits';

export const provider: FixProvider = {
  name: 'disable-default-dependencies',
  codes: ['rollback-default-dependencies'],
  fixes({ finding, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    if (!unit) return [];
    const edit = setUnitField(workspace, unit, ['unitConfig', 'DefaultDependencies'], '"no"');
    return edit ? [{ title: 'Set unitConfig.DefaultDependencies = "no"', preferred: true, edits: [edit] }] : [];
  },
};
