/**
 * # tmpfs-root-mode
 *
 * **What.** `/` is a tmpfs whose options have no `mode=`, or a `mode=` that lets group or others write (`1777`,
 * `775`).
 *
 * **Why.** The kernel creates a tmpfs root directory with mode `1777` unless `mode=` says otherwise (F58): `/` is
 * then world-writable. sshd's `StrictModes` (on by default, F51) refuses public-key logins when a directory above the
 * user's `authorized_keys` is group- or world-writable ("Authentication refused: bad ownership or modes for directory
 * /", nixpkgs PR #363628, which fixed NixOS's own VM module the same way).
 *
 * **When.** An error when `services.openssh.enable` is true (remote access is lost), else a warning (a world-writable
 * `/`).
 *
 * **Fix.** Add `"mode=755"` (the impermanence README and the NixOS wiki do).
 *
 * ```nix
 * # before
 * fileSystems."/" = { device = "none"; fsType = "tmpfs"; options = [ "defaults" "size=2G" ]; };
 * # after
 * fileSystems."/" = { device = "none"; fsType = "tmpfs"; options = [ "defaults" "size=2G" "mode=755" ]; };
 * ```
 */
import { tmpfsRootOf } from '../../model/tmpfs';
import { finding, q, related } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'tmpfs-root-mode',
  severity: 'error',
  summary: 'A tmpfs / without a mode= that drops group/other write is world-writable (1777).',
  facts: ['F58', 'F51'],
  check(host) {
    const root = tmpfsRootOf(host);
    if (!root?.options || !root.optionsOrigin) return [];
    const modes = root.options.filter((option) => option.startsWith('mode='));
    const last = modes[modes.length - 1];
    const mode = last === undefined ? 0o1777 : Number.parseInt(last.slice('mode='.length), 8);
    if (Number.isNaN(mode) || (mode & 0o022) === 0) return [];
    const openssh = host.config.at('services', 'openssh', 'enable').bool();
    const strictModes = host.config.at('services', 'openssh', 'settings', 'StrictModes').bool();
    const sshd = openssh.state === 'known' && openssh.value && !(strictModes.state === 'known' && !strictModes.value);
    const state = last === undefined ? `has no ${q('mode=')} option, so the kernel makes it ${q('1777')}` : `has ${q(last)}`;
    const consequence = sshd
      ? `sshd (StrictModes) then refuses public-key logins ("bad ownership or modes for directory /"): remote access is lost`
      : 'everyone may create files in it';
    return [
      finding(this, root.optionsOrigin, `The tmpfs mounted at ${q('/')} ${state}: ${q('/')} is group- or world-writable and ${consequence}. Add ${q('"mode=755"')} to its options.`, {
        severity: sshd ? 'error' : 'warning',
        related: [related(sshd ? openssh.state === 'known' ? openssh.definitions[0]?.origin : undefined : undefined, 'sshd is on')],
        data: { fromDisko: root.fromDisko },
      }),
    ];
  },
};
