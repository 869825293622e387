/**
 * # mountpoint-not-absolute
 *
 * **What.** A `fileSystems` mount point or a disko `mountpoint` (of a dataset, a filesystem on a partition, a nodev
 * mount) that is not an absolute path.
 *
 * **Why.** disko types `mountpoint` as an absolute path (F22); NixOS mount units are derived from the mount point
 * (F7), and a relative one names no place in the tree.
 *
 * **At build.** disko rejects the layout; a NixOS mount point like `nix` never mounts where intended.
 *
 * **Fix.** Write the path from `/`.
 *
 * ```nix
 * # before
 * fileSystems."nix" = { … };
 * # after
 * fileSystems."/nix" = { … };
 * ```
 */
import { finding, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'mountpoint-not-absolute',
  severity: 'error',
  summary: 'A mount point is not an absolute path.',
  facts: ['F22', 'F7'],
  check(host) {
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional || entry.mountPoint.startsWith('/') || entry.writtenDefinitions.length === 0) continue;
      // `fileSystems.<name>.mountPoint`, when written, is the mount point; else the attribute name is.
      const option = entry.node.child('mountPoint').string();
      const origin = (option.state === 'known' ? option.definitions[0]?.origin : undefined) ?? entry.origin;
      if (!origin) continue;
      findings.push(finding(this, origin, `Mount point ${q(entry.mountPoint)} is not absolute; write ${q(`/${entry.mountPoint}`)}.`, { data: { entry } }));
    }
    for (const dataset of host.layout?.datasets ?? []) {
      const mountpoint = dataset.mountpoint;
      if (mountpoint.state !== 'known' || mountpoint.value === null || mountpoint.value.startsWith('/')) continue;
      const origin = mountpoint.definitions[0]?.origin;
      if (!origin) continue;
      findings.push(finding(this, origin, `disko mountpoint ${q(mountpoint.value)} of ${q(dataset.fullName)} is not absolute; disko requires an absolute path: write ${q(`/${mountpoint.value}`)}.`, { data: { dataset } }));
    }
    // Filesystems on partitions, LUKS, LVM, and nodev mounts: their mountpoint is typed an absolute path as well.
    for (const mount of host.layout?.emitted ?? []) {
      if (mount.dataset || mount.mountPoint.startsWith('/') || !mount.origin) continue;
      findings.push(finding(this, mount.origin, `disko mountpoint ${q(mount.mountPoint)} (a ${mount.fsType} filesystem) is not absolute; disko requires an absolute path: write ${q(`/${mount.mountPoint}`)}.`, { data: { mount } }));
    }
    return findings;
  },
};
