/**
 * # tmpfs-root-no-size
 *
 * **What.** `/` is a tmpfs without `size=` or `nr_blocks=`.
 *
 * **Why.** A tmpfs without a size may grow to half of RAM (tmpfs(5), F58): everything written to the root competes
 * with programs for memory, and a runaway log or download pushes the machine into swap or the OOM killer.
 *
 * **Fix.** Give it a size; the impermanence README uses `"size=25%"` (a suggestion: the right size depends on the
 * machine, so it is not applied for you).
 *
 * ```nix
 * # after
 * options = [ "defaults" "size=25%" "mode=755" ];
 * ```
 */
import { tmpfsRootOf } from '../../model/tmpfs';
import { finding, q } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'tmpfs-root-no-size',
  severity: 'information',
  summary: 'A tmpfs / without size= may use half of RAM.',
  facts: ['F58'],
  check(host) {
    const root = tmpfsRootOf(host);
    if (!root?.options || !root.optionsOrigin) return [];
    if (root.options.some((option) => option.startsWith('size=') || option.startsWith('nr_blocks='))) return [];
    return [finding(this, root.optionsOrigin, `The tmpfs mounted at ${q('/')} has no ${q('size=')}: it may grow to half of RAM, competing with programs for memory. Consider ${q('"size=25%"')} or a size that fits this machine.`)];
  },
};
