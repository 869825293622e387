/**
 * # evaluation-failed
 *
 * **What.** The evaluation-backed mode (`ephemeral-root check --eval`, setting `ephemeralRoot.evaluate`) asked Nix for
 * the host's configuration, and Nix could not evaluate it. The message is Nix's own first error.
 *
 * **Why.** The evaluation-backed mode fills what the static reading could not know with the values Nix computes, but
 * only for a configuration that evaluates. While it does not, the host is checked by the static reading alone, and
 * the rules that need a value it could not read stay silent. This is a note, not a fault of the tool: a configuration
 * in the middle of an edit often does not evaluate.
 *
 * **At build.** `nixos-rebuild` stops with the same error.
 *
 * **Fix.** Correct what Nix reports (the finding sits where Nix places the error when that is a file of the host), or
 * run `nix eval .#nixosConfigurations.<host>.config.system.stateVersion --show-trace` for the whole trace.
 *
 * ```nix
 * # before: an option no module declares
 * boot.initrd.sytemd.enable = true;
 * # after
 * boot.initrd.systemd.enable = true;
 * ```
 */
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'evaluation-failed',
  severity: 'information',
  summary: 'Nix could not evaluate the host in the evaluation-backed mode; it is checked by the static reading alone.',
  facts: [],
  check: (host) => {
    const failure = host.input.evaluationFailure;
    if (!failure) return [];
    return [
      {
        code: 'evaluation-failed',
        severity: 'information',
        message: `Nix could not evaluate host '${host.name}', so it is checked by the static reading alone: ${failure.message}`,
        origin: failure.origin ?? { file: host.root, start: 0, end: 0 },
        related: [],
      },
    ];
  },
};
