/**
 * # Keep the backslash of `\x2d`
 *
 * Doubles the backslash of every `\x` in the double-quoted unit name, so the name reaches systemd as written: in a
 * double-quoted Nix string `\x` is just `x` (F66). Fixes `unit-name-escape-lost`. No fix in a generated file.
 *
 * ```nix
 * # before
 * requires = [ "dev-disk-by\x2dlabel-ROOT.device" ];
 * # after
 * requires = [ "dev-disk-by\\x2dlabel-ROOT.device" ];
 * ```
 */
import type { Origin } from '../../model/values';
import { isGenerated } from '../generated';
import { edit } from '../nix-edit';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'double-unit-name-backslash',
  codes: ['unit-name-escape-lost'],
  fixes({ finding, workspace }) {
    const escapes = finding.data?.escapes as Origin[] | undefined;
    if (!escapes || escapes.length === 0) return [];
    const source = workspace.source(escapes[0].file);
    if (!source || isGenerated({ path: source.path, text: source.text })) return [];
    const edits = escapes.filter((origin) => source.text.slice(origin.start, origin.end) === '\\x').map((origin) => edit(source, origin.start, origin.end, '\\\\x'));
    if (edits.length !== escapes.length) return [];
    return [{ title: 'Write \\\\x so the unit name keeps its escape', preferred: true, edits }];
  },
};
