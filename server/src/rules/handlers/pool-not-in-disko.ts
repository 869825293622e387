/**
 * # pool-not-in-disko
 *
 * **What.** A zfs `fileSystems` device names a pool that no disko configuration of the host defines.
 *
 * **Why.** That pool is created outside disko (a pre-existing data pool, another disk). NixOS imports it from the
 * device name (F6); nothing in this repository creates it, so a fresh install will not have it.
 *
 * **At boot.** Fine on the machine that has the pool; on a fresh install, a failing import.
 *
 * **Fix.** None needed if the pool is intentional; otherwise declare it in disko.
 *
 * ```nix
 * fileSystems."/data" = { device = "tank/data"; fsType = "zfs"; };  # tank is not in disko.nix
 * ```
 */
import { entryOrigin, finding, poolOf, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'pool-not-in-disko',
  severity: 'information',
  summary: 'A zfs fileSystems device names a pool that disko does not define.',
  facts: ['F6', 'F21'],
  check(host) {
    const layout = host.layout;
    if (!layout || layout.open) return [];
    const pools = new Set(layout.pools.map((pool) => pool.name));
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional || entry.device.state !== 'known' || entry.fsType.state !== 'known' || entry.fsType.value !== 'zfs') continue;
      const device = entry.device.value;
      // Only a dataset name names a pool; a device path is zfs-device-not-dataset's business.
      if (device.startsWith('/') || device.startsWith('.') || device.includes('=')) continue;
      const pool = poolOf(device);
      if (!pool || pools.has(pool)) continue;
      const origin = entryOrigin(entry, 'device');
      if (!origin) continue;
      findings.push(finding(this, origin, `Pool ${q(pool)} is not declared in this host's disko layout: it must already exist on the machine (a fresh install from this layout will not create it).`, { data: { entry, pool } }));
    }
    return findings;
  },
};
