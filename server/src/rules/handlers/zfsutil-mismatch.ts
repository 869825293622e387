/**
 * # zfsutil-mismatch
 *
 * **What.** A zfs `fileSystems` entry has the `zfsutil` option on a dataset whose ZFS `mountpoint` property is
 * `legacy`, or lacks it on a dataset whose property is a path or `none`.
 *
 * **Why.** mount.zfs refuses both: "cannot be mounted using 'zfs mount'. Use 'zfs set mountpoint=…' or
 * 'mount -t zfs …'" and "cannot be mounted using 'mount'. Use 'zfs set mountpoint=legacy' or 'zfs mount …'" (F13).
 * disko adds `zfsutil` exactly when the property is not legacy (F23).
 *
 * **At boot.** The mount fails; for a needed-for-boot mount, an emergency shell.
 *
 * **Fix.** Add or remove `"zfsutil"`.
 *
 * ```nix
 * # before (disko: options.mountpoint = "legacy")
 * fileSystems."/nix" = { device = "rpool/nix"; fsType = "zfs"; options = [ "zfsutil" ]; };
 * # after
 * fileSystems."/nix" = { device = "rpool/nix"; fsType = "zfs"; };
 * ```
 */
import { effectiveMountProperty } from '../../model/disko';
import { entryOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'zfsutil-mismatch',
  severity: 'error',
  summary: 'The zfsutil mount option does not match the dataset\'s ZFS mountpoint property.',
  facts: ['F13', 'F23', 'F22'],
  check(host) {
    const layout = host.layout;
    if (!layout) return [];
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      const device = entry.device;
      if (entry.conditional || device.state !== 'known' || entry.fsType.state !== 'known' || entry.fsType.value !== 'zfs' || !entry.options) continue;
      const dataset = layout.datasets.find((candidate) => candidate.fullName === device.value);
      if (!dataset) continue;
      const property = effectiveMountProperty(dataset, layout);
      if (!property) continue;
      const hasZfsutil = entry.options.includes('zfsutil');
      const origin = entryOrigin(entry, 'options') ?? entryOrigin(entry, 'device');
      if (!origin) continue;
      const where = related(property.from.zfsMountpoint.state === 'known' ? property.from.zfsMountpoint.definitions[0].origin : property.from.origin, `the ZFS mountpoint property of ${property.from.fullName}`);
      if (property.kind === 'legacy' && hasZfsutil) {
        findings.push(finding(this, origin, `${q(dataset.fullName)} has mountpoint=legacy, but the entry mounts it with ${q('zfsutil')}: mount.zfs refuses that and the mount fails.`, { related: [where], data: { entry, add: false } }));
      } else if (property.kind !== 'legacy' && !hasZfsutil) {
        findings.push(
          finding(this, origin, `${q(dataset.fullName)} has a ZFS-managed mountpoint (${property.kind === 'none' ? 'none' : 'a path'}), so it must be mounted with ${q('zfsutil')}; without it mount.zfs refuses and the mount fails.`, {
            related: [where],
            data: { entry, add: true },
          }),
        );
      }
    }
    return findings;
  },
};
