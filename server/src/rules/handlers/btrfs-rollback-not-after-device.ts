/**
 * # btrfs-rollback-not-after-device
 *
 * **What.** An initrd unit that runs a btrfs rollback mounts a device (`mount … /dev/mapper/crypted /mnt`) but is
 * not ordered after it: its `after` names neither the device unit (`dev-mapper-crypted.device`), nor
 * `initrd-root-device.target` (for the root's device), nor the `systemd-cryptsetup@<name>.service` that opens it,
 * nor `cryptsetup.target`.
 *
 * **Why.** Units start in parallel unless ordered (F17, F67); the `mount` races the device and fails with "special
 * device … does not exist", and `set -e` stops the script (F65). The ZFS analogue is `rollback-not-after-import`.
 *
 * **At boot.** Sometimes the root is not reset: a race that passes in a VM and fails on the real disk.
 *
 * **Fix.** Order the unit after the device unit and require it (the name escaped as systemd does, F66).
 *
 * ```nix
 * # after
 * after = [ "dev-mapper-crypted.device" ];
 * requires = [ "dev-mapper-crypted.device" ];
 * ```
 */
import { btrfsRollbackUnits, lostEscapes } from '../btrfs-support';
import { escapeSystemdPath, finding, q, related, unitFieldOrigin } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'btrfs-rollback-not-after-device',
  severity: 'error',
  summary: 'An initrd btrfs rollback unit is not ordered after the device it mounts.',
  facts: ['F67', 'F65', 'F17', 'F60'],
  check(host) {
    if (host.systemdInitrd().state !== 'on') return [];
    const findings: Finding[] = [];
    const rootDevice = host.fileSystemAt('/')?.device;
    const luksDevices = host.config.at('boot', 'initrd', 'luks', 'devices');
    const luksNames = new Set([...luksDevices.childNames(), ...host.btrfsLayout().filesystems.map((filesystem) => filesystem.luksName).filter((name): name is string => !!name)]);
    for (const { unit, rollbacks } of btrfsRollbackUnits(host)) {
      const devices = [...new Set(rollbacks.map((rollback) => rollback.mount?.device))];
      if (devices.length !== 1 || devices[0] === undefined) continue;
      const device = devices[0];
      const after = host.unitList(unit, 'after');
      if (after.open) continue;
      // An entry whose `\x` lost its backslash is unit-name-escape-lost's finding: one finding per cause.
      if (unit.node.child('after').list().items.some((item) => lostEscapes(item.thunk.force()).length > 0)) continue;
      const deviceUnit = `${escapeSystemdPath(device)}.device`;
      const mapper = /^\/dev\/mapper\/(.+)$/.exec(device)?.[1];
      const accepted = new Set([deviceUnit, 'cryptsetup.target']);
      if (rootDevice?.state === 'known' && rootDevice.value === device) accepted.add('initrd-root-device.target');
      if (mapper && luksNames.has(mapper)) accepted.add(`systemd-cryptsetup@${mapper}.service`);
      if (luksDevices.unknownNames().length > 0 && mapper) continue;
      if (after.values.some((item) => accepted.has(item.name))) continue;
      const origin = unitFieldOrigin(unit, 'after');
      if (!origin) continue;
      findings.push(
        finding(
          this,
          origin,
          `${q(unit.name)} mounts ${q(device)} but is not ordered after it, so the mount can race the device ("special device … does not exist") and, with ${q('set -e')}, the root is not reset. Add ${q(deviceUnit)} to ${q('after')} and ${q('requires')}.`,
          { related: rollbacks.map((rollback) => related(rollback.mount?.origin, 'the mount')), data: { unit, deviceUnit } },
        ),
      );
    }
    return findings;
  },
};
