/**
 * # devnodes-vm
 *
 * **What.** The host is a QEMU guest (it imports the `qemu-guest` profile) and `boot.zfs.devNodes` is
 * `/dev/disk/by-id` (the default).
 *
 * **Why.** The pool import searches `devNodes` (F9, F11); in QEMU VMs `/dev/disk/by-id` is empty for virtio disks
 * without a serial, which is why disko's own VM sets `/dev/disk/by-uuid` (F28).
 *
 * **At boot.** The import loops and fails: "cannot import 'rpool': no such pool available".
 *
 * **Fix.**
 *
 * ```nix
 * # after
 * boot.zfs.devNodes = "/dev/disk/by-uuid";
 * ```
 */
import { finding, q } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'devnodes-vm',
  severity: 'information',
  summary: 'A QEMU guest imports ZFS pools from /dev/disk/by-id, which is empty in such VMs.',
  facts: ['F28', 'F11', 'F9'],
  check(host) {
    if (host.kind !== 'nixos' || host.zfsInUse() !== true) return [];
    const guest = host.input.library.find((module) => module.name.endsWith('profiles/qemu-guest.nix'));
    if (!guest) return [];
    const devNodes = host.devNodes();
    if (devNodes.state === 'unknown') return [];
    if (devNodes.state === 'known' && devNodes.value.replace(/\/$/, '') !== '/dev/disk/by-id') return [];
    const origin = devNodes.state === 'known' ? devNodes.definitions[0].origin : guest.origin;
    if (!origin) return [];
    return [finding(this, origin, `This host is a QEMU guest and imports pools from ${q('/dev/disk/by-id')}, which is empty for virtio disks without a serial: use ${q('/dev/disk/by-uuid')}.`, { data: { explicit: devNodes.state === 'known' } })];
  },
};
