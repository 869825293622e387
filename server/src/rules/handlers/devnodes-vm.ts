/**
 * # devnodes-vm
 *
 * **What.** The host is a QEMU guest (it imports the `qemu-guest` profile) and a pool is searched in
 * `/dev/disk/by-id`: `boot.zfs.devNodes` (default `/dev/disk/by-id`), or `boot.zfs.pools.<pool>.devNodes` when set.
 * `vmWithDisko` alone does not count: disko's VM sets `/dev/disk/by-uuid` itself (F28), and the real host of such a
 * configuration is usually bare metal, where by-id is right.
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
import type { HostModel } from '../../model/host-model';
import type { Origin } from '../../model/values';
import { finding, poolOf, q } from '../support';
import type { Rule } from '../types';

/** `modulesPath + "/profiles/qemu-guest.nix"`, `"${modulesPath}/…"` and `<nixpkgs/nixos/modules/profiles/qemu-guest.nix>`. */
const QEMU_GUEST = /profiles\/qemu-guest\.nix>?$/;

export const rule: Rule = {
  code: 'devnodes-vm',
  severity: 'information',
  summary: 'A QEMU guest imports ZFS pools from /dev/disk/by-id, which is empty in such VMs.',
  facts: ['F28', 'F11', 'F9'],
  check(host) {
    if (host.kind !== 'nixos' || host.zfsInUse() !== true) return [];
    const guest = host.input.library.find((module) => QEMU_GUEST.test(module.name));
    if (!guest) return [];
    const where = searchedDirectory(host);
    if (!where || where.directory.replace(/\/$/, '') !== '/dev/disk/by-id') return [];
    const origin = where.origin ?? guest.origin;
    if (!origin) return [];
    const what = where.explicit ? `${q(where.option)} is ${q('/dev/disk/by-id')}` : `ZFS looks for the pool's disks in ${q('/dev/disk/by-id')} (the default of ${q('boot.zfs.devNodes')})`;
    return [
      finding(
        this,
        origin,
        `This host is a QEMU guest (it imports the qemu-guest profile) and ${what}, which is empty for virtio disks without a serial number: the pool import then fails with "no such pool available". Set ${q('boot.zfs.devNodes = "/dev/disk/by-uuid";')}, as disko's VMs do.`,
        { data: { explicit: where.explicit } },
      ),
    ];
  },
};

/**
 * The directory the initrd searches for the pools' disks (F9, F11): `boot.zfs.pools.<pool>.devNodes` when set, else
 * `boot.zfs.devNodes` (default `/dev/disk/by-id`). The first pool that uses by-id decides; undefined when unknown.
 */
function searchedDirectory(host: HostModel): { directory: string; explicit: boolean; option: string; origin?: Origin } | undefined {
  const perPool = host.config.at('boot', 'zfs', 'pools');
  if (perPool.open) return undefined;
  const global = host.devNodes();
  if (global.state === 'unknown') return undefined;
  const fallback =
    global.state === 'known'
      ? { directory: global.value, explicit: true, option: 'boot.zfs.devNodes', origin: global.definitions[0].origin }
      : { directory: '/dev/disk/by-id', explicit: false, option: 'boot.zfs.devNodes' };
  const pools = new Set(host.layout?.pools.map((pool) => pool.name) ?? []);
  for (const entry of host.fileSystems().entries) {
    if (entry.fsType.state === 'known' && entry.fsType.value === 'zfs' && entry.device.state === 'known') pools.add(poolOf(entry.device.value));
  }
  if (pools.size === 0) return perPool.childNames().length > 0 ? undefined : fallback;
  let first: ReturnType<typeof searchedDirectory>;
  for (const pool of pools) {
    const own = perPool.at(pool, 'devNodes').string();
    if (own.state === 'unknown') return undefined;
    const used = own.state === 'known' ? { directory: own.value, explicit: true, option: `boot.zfs.pools.${pool}.devNodes`, origin: own.definitions[0].origin } : fallback;
    if (used.directory.replace(/\/$/, '') === '/dev/disk/by-id') return used;
    first ??= used;
  }
  return first;
}
