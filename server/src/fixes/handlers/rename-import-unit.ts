/**
 * # Name the import unit of the rolled-back pool
 *
 * Replaces the pool in a `zfs-import-<pool>.service` that a rollback unit is ordered after (or requires, wants, …)
 * by the pool the unit actually rolls back, so the ordering refers to a unit that exists. Fixes
 * `import-unit-name-mismatch` when the name is another pool's. No fix when the named pool is the right one but is not
 * imported in stage 1 (that needs a `neededForBoot` mount, not a new name), when the list already names the right
 * unit, or when the name is not written as a plain string.
 *
 * ```nix
 * # before (script: zfs rollback -r rpool/nixos/empty@start)
 * after = [ "zfs-import-zroot.service" ];
 * # after
 * after = [ "zfs-import-rpool.service" ];
 * ```
 */
import type { HostModel, Unit, UnitListField } from '../../model/host-model';
import type { Origin } from '../../model/values';
import { edit } from '../nix-edit';
import { nodeAt } from '../filesystem-edits';
import { editableFile, isPlainName, plainStringText } from '../script-edits';
import type { FixProvider } from '../types';

const IMPORT_UNIT = /^zfs-import-(.+)\.service$/;

export const provider: FixProvider = {
  name: 'rename-import-unit',
  codes: ['import-unit-name-mismatch'],
  fixes({ finding, host, workspace }) {
    const unit = finding.data?.unit as Unit | undefined;
    const item = finding.data?.item as { name: string; origin?: Origin } | undefined;
    const pool = finding.data?.pool as string | undefined;
    const field = finding.data?.field as UnitListField | undefined;
    const named = item && IMPORT_UNIT.exec(item.name)?.[1];
    if (!unit || !item?.origin || !pool || !field || !named || named === pool || !isPlainName(pool)) return [];
    const name = `zfs-import-${pool}.service`;
    if (listed(host, unit, field, name)) return [];
    const file = editableFile(workspace, item.origin.file);
    if (!file) return [];
    const written = file.text.slice(item.origin.start, item.origin.end);
    const title = `Replace ${item.name} by ${name} (the import of the rolled-back pool) in ${unit.name}'s ${field}`;
    // A list item `"zfs-import-zroot.service"`, or one word of a raw `unitConfig.After = "… zfs-import-zroot.service"`.
    const literal = nodeAt(file, item.origin, ['string_expression', 'indented_string_expression']);
    if (literal && plainStringText(literal) === item.name) {
      const fragment = literal.namedChildren.find((child) => child?.type === 'string_fragment');
      if (!fragment) return [];
      return [{ title, preferred: true, edits: [edit(file, fragment.startIndex, fragment.endIndex, name)] }];
    }
    if (written === item.name) return [{ title, preferred: true, edits: [edit(file, item.origin.start, item.origin.end, name)] }];
    return [];
  },
};

function listed(host: HostModel, unit: Unit, field: UnitListField, name: string): boolean {
  return host.unitList(unit, field).values.some((value) => value.name === name);
}
