/**
 * # Order after the pool import
 *
 * Adds the pool's import unit to the rollback unit's `after` (creating the list when there is none), so the rollback
 * waits for `zfs-import-<pool>.service`. Fixes `rollback-not-after-import`.
 *
 * ```nix
 * # before
 * boot.initrd.systemd.services.rollback = { before = [ "sysroot.mount" ]; … };
 * # after
 * boot.initrd.systemd.services.rollback = { before = [ "sysroot.mount" ]; after = [ "zfs-import-rpool.service" ]; … };
 * ```
 */
import type { Unit } from '../../model/host-model';
import type { FixProvider } from '../types';
import { addToUnitList } from '../unit-edits';

export const provider: FixProvider = {
  name: 'order-after-import',
  codes: ['rollback-not-after-import'],
  fixes({ finding, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    if (!unit) return [];
    const pools = (finding.data?.pools as string[] | undefined) ?? [];
    const name = pools.length === 1 ? `zfs-import-${pools[0]}.service` : 'zfs-import.target';
    const edit = addToUnitList(workspace, unit, 'after', name);
    return edit ? [{ title: `Order ${unit.name} after ${name}`, preferred: true, edits: [edit] }] : [];
  },
};
