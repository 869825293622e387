/**
 * # Pull the unit in
 *
 * Adds `wantedBy = [ "initrd.target" ]`, so the rollback unit actually runs. Fixes `rollback-not-pulled-in`.
 *
 * ```nix
 * # before
 * boot.initrd.systemd.services.rollback = { after = [ … ]; … };
 * # after
 * boot.initrd.systemd.services.rollback = { after = [ … ]; wantedBy = [ "initrd.target" ]; … };
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { FixProvider } from '../types';
import { addToUnitList } from '../unit-edits';

export const provider: FixProvider = {
  name: 'pull-in-unit',
  codes: ['rollback-not-pulled-in'],
  fixes({ finding, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    if (!unit) return [];
    const edit = addToUnitList(workspace, unit, 'wantedBy', 'initrd.target');
    return edit ? [{ title: `Pull ${unit.name} in from initrd.target`, preferred: true, edits: [edit] }] : [];
  },
};
