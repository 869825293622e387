/**
 * # Use the target meant
 *
 * Replaces a misspelt target in the rollback unit's `wantedBy`/`requiredBy` with the standard initrd target one or two
 * letters away, so the unit is pulled in again (F19). Fixes `wantedby-unknown-target`. No fix in a generated file.
 *
 * ```nix
 * # before
 * wantedBy = [ "intitrd.target" ];
 * # after
 * wantedBy = [ "initrd.target" ];
 * ```
 */
import type { Origin } from '../../model/values';
import { isGenerated } from '../generated';
import { edit } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'use-nearest-target',
  codes: ['wantedby-unknown-target'],
  fixes({ finding, workspace }) {
    const typos = finding.data?.typos as { name: string; nearest: string; origin?: Origin }[] | undefined;
    if (!typos || typos.length === 0) return [];
    const edits = [];
    for (const typo of typos) {
      const source = typo.origin && workspace.source(typo.origin.file);
      if (!typo.origin || !source || isGenerated({ path: source.path, text: source.text })) return [];
      // Only a literal "name" is replaced: the origin must hold exactly the quoted name.
      if (source.text.slice(typo.origin.start, typo.origin.end) !== `"${typo.name}"`) return [];
      edits.push(edit(source, typo.origin.start, typo.origin.end, `"${typo.nearest}"`));
    }
    return [{ title: `Use ${typos.map((typo) => typo.nearest).join(', ')}`, preferred: true, edits }];
  },
};
