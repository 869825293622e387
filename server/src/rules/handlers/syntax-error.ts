/**
 * # syntax-error
 *
 * **What.** tree-sitter cannot parse part of the file: an unbalanced bracket, a missing `;`, a half-typed binding,
 * an unterminated string. One diagnostic per error region, saying what was expected where it can: a missing `;` is
 * marked where it belongs (at the end of the value), an unclosed `{` or string where it opens.
 *
 * **Why.** Nix rejects the file as a whole; our rules still run on the parts that parsed, but whatever the broken
 * region hides is unknown, so no rule claims it is unset. A trailing comma in formals (`{ a, b, }:`, `{ pkgs, }:`,
 * also before a comment) is valid Nix and is never reported. The setting `ephemeralRoot.syntaxErrors` turns these
 * off in the editor when nix-ide's language server (nil or nixd) already reports them; the CLI always reports them.
 *
 * **At build.** `error: syntax error, unexpected …`.
 *
 * **Fix.** Complete the expression.
 *
 * ```nix
 * # before
 * { fileSystems."/" = { device = "rpool/root" }
 * # after
 * { fileSystems."/" = { device = "rpool/root"; }; }
 * ```
 */
import type { Rule } from '../types';

/** Reported by the engine for every file in scope; listed here for its documentation and settings. */
export const rule: Rule = {
  code: 'syntax-error',
  severity: 'error',
  summary: 'The file does not parse as Nix.',
  facts: [],
  check: () => [],
};
