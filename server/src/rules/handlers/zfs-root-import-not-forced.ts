/**
 * # zfs-root-import-not-forced
 *
 * **What.** A disko pool holds the root dataset, `boot.zfs.forceImportRoot` is false (set, or the default for
 * `system.stateVersion` 26.11 and later on nixpkgs 26.11, PR #495581), and `networking.hostId` differs from the
 * installer's `8425e349`.
 *
 * **Why.** disko and nixos-anywhere create the pool under the installer's host id, and have not always exported it
 * before the reboot (nixos-anywhere#156, disko#434; disko exports since aa00625). A pool last imported by another host
 * id imports only with force; NixOS forces the root pool only while `forceImportRoot` is true (F57).
 *
 * **At boot.** If the pool was not exported, the first boot stops in stage 1 until `zfs_force=1` is given once.
 *
 * **Fix.** None automatic. Export the pool before the first reboot (`zpool export rpool`), or boot once with the
 * kernel parameter `zfs_force=1`:
 *
 * ```nix
 * # before
 * boot.zfs.forceImportRoot = false;
 * networking.hostId = "deadbeef";
 * # after (first boot only, then remove it)
 * boot.kernelParams = [ "zfs_force=1" ];
 * ```
 */
import { releaseAtLeast } from '../../model/release';
import { compareRelease } from '../../model/release';
import { finding, q, related } from '../support';
import type { Rule } from '../types';

/** The installer's host id (nixos/modules/profiles/base.nix, F57). */
const INSTALLER_HOST_ID = '8425e349';

export const rule: Rule = {
  code: 'zfs-root-import-not-forced',
  severity: 'information',
  summary: 'The root pool is imported without force while its host id differs from the installer that created it.',
  facts: ['F57'],
  check(host) {
    if (!host.isNixosHost) return [];
    const root = host.rootDataset();
    if (!root?.dataset || !host.layout?.pools.includes(root.dataset.pool)) return [];
    const force = host.config.at('boot', 'zfs', 'forceImportRoot').bool();
    let why: string;
    let origin = force.state === 'known' ? force.definitions[0]?.origin : undefined;
    if (force.state === 'known') {
      if (force.value) return [];
      why = 'boot.zfs.forceImportRoot = false';
    } else if (force.state === 'absent') {
      // The default turned false in 26.11 for hosts whose stateVersion is 26.11 or later (F57).
      const state = host.config.at('system', 'stateVersion').string();
      if (releaseAtLeast(host.release, '26.11') !== true || state.state !== 'known' || compareRelease(state.value, '26.11') < 0) return [];
      why = `boot.zfs.forceImportRoot defaults to false for system.stateVersion ${q(state.value)} on ${host.release?.evidence}`;
      origin = state.definitions[0]?.origin;
    } else return [];
    const hostId = host.hostId();
    if (hostId.state !== 'known' || hostId.value === INSTALLER_HOST_ID) return [];
    origin ??= hostId.definitions[0]?.origin;
    if (!origin) return [];
    return [
      finding(this, origin, `${why}, and networking.hostId ${q(hostId.value)} differs from the installer's ${q(INSTALLER_HOST_ID)} that created the pool ${q(root.dataset.pool.name)}: if the installer did not export the pool, the first boot stops in stage 1. Run zpool export before rebooting, or boot once with the kernel parameter zfs_force=1.`, {
        related: [related(hostId.definitions[0]?.origin, 'the host id')],
      }),
    ];
  },
};
