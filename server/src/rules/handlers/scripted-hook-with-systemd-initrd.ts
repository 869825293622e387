/**
 * # scripted-hook-with-systemd-initrd
 *
 * **What.** A scripted stage-1 hook (`boot.initrd.postDeviceCommands`, `postResumeCommands`, `postMountCommands`, …)
 * is set while systemd stage 1 is on (explicitly, or by default since 26.05).
 *
 * **Why.** NixOS asserts "systemd stage 1 does not support 'boot.initrd.<hook>'" (F16). In 22.11 the hook was
 * silently ignored instead (impermanence#119): a rollback written there never ran.
 *
 * **At build or boot.** The build fails with the assertion — or, on old releases, the rollback is skipped.
 *
 * **Fix.** Convert the hook into a `boot.initrd.systemd.services` unit (quick fix for a rollback hook).
 *
 * ```nix
 * # before
 * boot.initrd.postDeviceCommands = lib.mkAfter "zfs rollback -r rpool/local/root@blank";
 * # after
 * boot.initrd.systemd.services.rollback = { … script = "zfs rollback -r rpool/local/root@blank"; };
 * ```
 */
import { definitionOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'scripted-hook-with-systemd-initrd',
  severity: 'error',
  summary: 'A scripted stage-1 hook is set while systemd stage 1 is on.',
  facts: ['F16', 'F15'],
  check(host) {
    const systemd = host.systemdInitrd();
    if (systemd.state === 'off' || (systemd.state === 'unknown' && !systemd.releaseUnknown)) return [];
    const findings: Finding[] = [];
    for (const hook of host.scriptedHooks()) {
      for (const definition of hook.fragments) {
        if (definition.conditional || definition.value.kind !== 'string') continue;
        const text = definition.value.pieces.map((piece) => piece.text).join('');
        if (text.trim() === '' && !definition.value.pieces.some((piece) => piece.unknown)) continue;
        const origin = definitionOrigin(definition);
        if (!origin) continue;
        const convert = `convert it into a ${q('boot.initrd.systemd.services')} unit`;
        const message =
          systemd.state === 'on'
            ? `${q(`boot.initrd.${hook.hook}`)} is not supported by systemd stage 1 (${systemd.reason}): NixOS refuses to build this ("systemd stage 1 does not support …"). ${convert.charAt(0).toUpperCase()}${convert.slice(1)}.`
            : `${q(`boot.initrd.${hook.hook}`)} is not supported by systemd stage 1, which is on by default since nixpkgs 26.05; the nixpkgs release is unknown, so this may fail to build. Set ${q('boot.initrd.systemd.enable = false;')} to keep the scripted stage 1, or ${convert}.`;
        findings.push(
          finding(this, origin, message, {
            severity: systemd.state === 'on' ? 'error' : 'warning',
            related: systemd.definitions.map((item) => related(item.origin, 'systemd stage 1 is turned on here')),
            data: { hook: hook.hook, definition },
          }),
        );
      }
    }
    return findings;
  },
};
