/**
 * # Order before the root mount
 *
 * Adds `sysroot.mount` to the rollback unit's `before` (keeping any target already listed), so the root is mounted
 * only after the rollback. Fixes `rollback-not-before-mount`.
 *
 * ```nix
 * # before
 * before = [ "initrd-root-fs.target" ];
 * # after
 * before = [ "initrd-root-fs.target" "sysroot.mount" ];
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { FixProvider } from '../types';
import { addToUnitList } from '../unit-edits';

export const provider: FixProvider = {
  name: 'order-before-mount',
  codes: ['rollback-not-before-mount'],
  fixes({ finding, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    if (!unit) return [];
    const mountUnit = (finding.data?.mountUnit as string | undefined) ?? 'sysroot.mount';
    const edit = addToUnitList(workspace, unit, 'before', mountUnit);
    return edit ? [{ title: `Order ${unit.name} before ${mountUnit}`, preferred: true, edits: [edit] }] : [];
  },
};
