/**
 * # syntax-error
 *
 * **What.** tree-sitter cannot parse part of the file: an unbalanced bracket, a missing `;`, a half-typed binding.
 * One diagnostic per error region, saying what was expected where it can.
 *
 * **Why.** Nix rejects the file as a whole; our rules still run on the parts that parsed. A trailing comma in
 * formals (`{ a, b, }:`) is valid Nix and is never reported. The setting `ephemeralRoot.syntaxErrors` turns these
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
