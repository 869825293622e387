/**
 * # zfs-device-not-dataset
 *
 * **What.** A `fileSystems` entry with `fsType = "zfs"` whose `device` is a `/dev/…` path, a `LABEL=`/`UUID=` spec
 * or a relative path, or that names its device by `label` (NixOS then uses `/dev/disk/by-label/<label>`); or a disko
 * dataset name mounted with another `fsType`.
 *
 * **Why.** For zfs the device is a dataset name, `pool/a/b`: NixOS derives the pools to import from its first
 * component and asserts on an empty pool name (F6).
 *
 * **At build or boot.** "Automatic pool detection found an empty pool name", or a mount that cannot work.
 *
 * **Fix.** Name the dataset and use `fsType = "zfs"`.
 *
 * ```nix
 * # before
 * fileSystems."/nix" = { device = "/dev/disk/by-label/nix"; fsType = "zfs"; };
 * # after
 * fileSystems."/nix" = { device = "rpool/local/nix"; fsType = "zfs"; };
 * ```
 */
import { entryOrigin, finding, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'zfs-device-not-dataset',
  severity: 'error',
  summary: 'A zfs fileSystems entry names a device path instead of a dataset, or a dataset is mounted with another fsType.',
  facts: ['F6'],
  check(host) {
    const findings: Finding[] = [];
    const datasetNames = new Set(host.layout?.datasets.map((dataset) => dataset.fullName));
    for (const entry of host.fileSystems().entries) {
      if (entry.conditional || entry.fsType.state !== 'known') continue;
      if (entry.writtenDefinitions.length === 0) continue;
      const fsType = entry.fsType.value;
      const suggestion = host.emittedAt(entry.mountPoint).find((mount) => mount.dataset)?.device;
      const hint = suggestion ? ` (the disko layout mounts ${q(suggestion)} here)` : '';
      if (entry.device.state === 'absent' && fsType === 'zfs') {
        // `label = "x"` makes NixOS's device /dev/disk/by-label/x (fileSystems.<n>.label).
        const label = entry.node.child('label').string();
        if (label.state !== 'known') continue;
        const origin = label.definitions[0].origin ?? entryOrigin(entry);
        if (!origin) continue;
        findings.push(
          finding(this, origin, `${q(`label = "${label.value}"`)} makes the device ${q(`/dev/disk/by-label/${label.value}`)}, not a dataset name: a zfs device is ${q('pool/dataset')}${hint}; NixOS cannot tell which pool to import.`, {
            data: { entry, suggestion },
          }),
        );
        continue;
      }
      if (entry.device.state !== 'known') continue;
      const device = entry.device.value;
      const origin = entryOrigin(entry, 'device');
      if (!origin) continue;
      if (fsType === 'zfs' && (device.startsWith('/') || device.startsWith('./') || device.startsWith('../') || /^(LABEL|UUID|PARTUUID|PARTLABEL)=/i.test(device) || device === '')) {
        findings.push(
          finding(this, origin, `${q(device)} is not a dataset name: a zfs device is ${q('pool/dataset')}${hint}; NixOS cannot tell which pool to import.`, {
            data: { entry, suggestion },
          }),
        );
      } else if (fsType !== 'zfs' && datasetNames.has(device)) {
        findings.push(finding(this, entryOrigin(entry, 'fsType') ?? origin, `${q(device)} is a ZFS dataset, but the entry says fsType = ${q(fsType)}; use "zfs".`, { data: { entry, fsType: true } }));
      }
    }
    return findings;
  },
};
