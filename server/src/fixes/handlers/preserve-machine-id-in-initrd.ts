/**
 * # Preserve /etc/machine-id in the initrd
 *
 * Turns preservation's entry for `/etc/machine-id` into one with `inInitrd = true`, as preservation's option text and
 * every one of its examples write it (F54, F69): the file is then bound in stage 1, before systemd reads or makes a
 * machine id. A plain string becomes `{ file = "/etc/machine-id"; inInitrd = true; }`; an attribute set entry gets
 * `inInitrd = true` (a written `false` becomes `true`). Edits only the entry the finding points at, and only when it
 * is a literal (a string without interpolation, or an attribute set).
 *
 * ```nix
 * # before
 * preservation.preserveAt."/persist".files = [ "/etc/machine-id" ];
 * # after
 * preservation.preserveAt."/persist".files = [ { file = "/etc/machine-id"; inInitrd = true; } ];
 * ```
 */
import { isPlainString, nodeAt } from '../filesystem-edits';
import { edit, trySetAttribute } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'preserve-machine-id-in-initrd',
  codes: ['machine-id-preserved-late'],
  fixes({ finding, workspace }) {
    const file = workspace.source(finding.origin.file);
    if (!file || !file.root || file.root.hasError) return [];
    const entry = nodeAt(file, finding.origin, ['string_expression', 'attrset_expression']);
    const title = 'Bind /etc/machine-id in the initrd (inInitrd = true)';
    if (entry && isPlainString(entry)) {
      return [{ title, preferred: true, edits: [edit(file, entry.startIndex, entry.endIndex, `{ file = ${entry.text}; inInitrd = true; }`)] }];
    }
    const change = entry?.type === 'attrset_expression' ? trySetAttribute(file, entry, ['inInitrd'], 'true') : undefined;
    return change ? [{ title, preferred: true, edits: [change] }] : [];
  },
};
