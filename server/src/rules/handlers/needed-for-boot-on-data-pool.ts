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
import { entryOrigin, finding, poolOf, q } from '../support';
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
      const origin = entryOrigin(entry, 'device');
      if (!origin) continue;
      findings.push(finding(this, origin, `${q(entry.mountPoint)} is needed for boot and lives on pool ${q(pool)}, not the root pool ${q(rootPool)}: ${q(pool)} must be imported in stage 1 too.`, { data: { entry } }));
    }
    return findings;
  },
};
