/**
 * # import-not-found
 *
 * **What.** An `imports` entry or `import` path names a file that does not exist (a `./dir` means
 * `./dir/default.nix`).
 *
 * **Why.** The host is analysed without it, and the rules that would need what it defines stay silent (RULES.md,
 * "Three values"). In a real build Nix stops with "path … does not exist".
 *
 * **At build.** `error: getting status of '…': No such file or directory`.
 *
 * **Fix.** Correct the path, or add the file (an encrypted or untracked secret is a common cause).
 *
 * ```nix
 * # before
 * imports = [ ./hardware-configuraton.nix ];
 * # after
 * imports = [ ./hardware-configuration.nix ];
 * ```
 */
import type { Rule } from '../types';

/** Reported by the engine from the imports each host could not follow; listed here for its documentation. */
export const rule: Rule = {
  code: 'import-not-found',
  severity: 'information',
  summary: 'An import names a file that does not exist.',
  facts: [],
  check: () => [],
};
