/**
 * # needed-for-boot-on-data-pool
 *
 * **What.** A mount needed in stage 1 lives on another pool than the root dataset's.
 *
 * **Why.** NixOS imports in the initrd every pool that has a needed-for-boot zfs file system (F6, F8): that pool
 * becomes a root pool too, with its own `zfs-import-<pool>.service` in stage 1.
 *
 * **At boot.** Nothing breaks if that is intended; but the boot now depends on the second pool's disks, and a
 * missing or slow pool stops the boot instead of degrading a service.
 *
 * **Fix.** None needed if intended.
 *
 * ```nix
 * fileSystems."/boot" = { device = "bpool/nixos/root"; fsType = "zfs"; neededForBoot = true; };  # bpool ≠ rpool
 * ```
 */
import { PATHS_NEEDED_FOR_BOOT } from '../../model/host-model';
import { entryOrigin, finding, poolOf, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'needed-for-boot-on-data-pool',
  severity: 'information',
  summary: 'A needed-for-boot mount lives on a pool other than the root pool, which then imports in stage 1.',
  facts: ['F6', 'F8'],
  check(host) {
    const root = host.rootDataset();
    if (!root) return [];
    const rootPool = poolOf(root.name);
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional || entry.device.state !== 'known' || entry.fsType.state !== 'known' || entry.fsType.value !== 'zfs') continue;
      const device = entry.device.value;
      // Only a dataset name names a pool; a device path is zfs-device-not-dataset's business.
      if (device.startsWith('/') || device.startsWith('.') || device.includes('=')) continue;
      const pool = poolOf(device);
      if (pool === rootPool || host.neededForBoot(entry) !== true) continue;
      // Where the host names the other pool (a written device); else what it writes to make the mount needed for boot
      // (`neededForBoot = true` on a mount disko emits); else the entry (disko's mountpoint of a fixed stage-1 path).
      const fixed = PATHS_NEEDED_FOR_BOOT.includes(entry.mountPoint);
      const writtenDevice = entry.node.child('device').definitions.some((definition) => definition.synthetic !== 'disko');
      const option = entry.neededForBootOption;
      const writtenNeeded = option.state === 'known' ? option.definitions.find((definition) => definition.synthetic !== 'disko') : undefined;
      const origin = (writtenDevice ? entryOrigin(entry, 'device') : !fixed ? writtenNeeded?.origin : undefined) ?? entryOrigin(entry, 'device');
      if (!origin) continue;
      const why = fixed ? `NixOS mounts ${q(entry.mountPoint)} in stage 1` : `${q(entry.mountPoint)} has neededForBoot = true`;
      findings.push(
        finding(this, origin, `${why}, and it lives on pool ${q(pool)}, not on the root pool ${q(rootPool)}: ${q(pool)} is then imported in stage 1 as well, and the boot waits for its disks.`, {
          related: [related(root.origin, `the root dataset ${root.name}`)],
          data: { entry },
        }),
      );
    }
    return findings;
  },
};
