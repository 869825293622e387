/**
 * # hostid-missing
 *
 * **What.** The host uses ZFS but `networking.hostId` is unset or not eight hexadecimal digits.
 *
 * **Why.** The ZFS module asserts "ZFS requires networking.hostId to be set", and networking rejects anything but
 * 8 hex characters (F12); pools remember the host that imported them, and the initrd gets `/etc/hostid` from it.
 *
 * **At build or boot.** The build fails — or, with a changing host id, the pool refuses to import without `-f`.
 *
 * **Fix.** Set a stable id; the quick fix writes one and a comment on how to derive it from `/etc/machine-id`.
 *
 * ```nix
 * # after
 * networking.hostId = "8425e349"; # head -c 8 /etc/machine-id
 * ```
 */
import { finding, q } from '../support';
import type { Rule } from '../types';

export const rule: Rule = {
  code: 'hostid-missing',
  severity: 'error',
  summary: 'ZFS is in use and networking.hostId is unset or invalid.',
  facts: ['F12'],
  check(host) {
    if (host.kind !== 'nixos' || host.zfsInUse() !== true) return [];
    const hostId = host.hostId();
    if (hostId.state === 'unknown') return [];
    if (hostId.state === 'known') {
      if (/^[0-9a-fA-F]{8}$/.test(hostId.value)) return [];
      const origin = hostId.definitions[0].origin;
      if (!origin) return [];
      return [finding(this, origin, `networking.hostId ${q(hostId.value)} is not 8 hexadecimal digits; NixOS rejects it.`, { data: { invalid: true } })];
    }
    const anchor =
      host.fileSystems().entries.find((entry) => !entry.conditional && entry.fsType.state === 'known' && entry.fsType.value === 'zfs' && entry.writtenDefinitions.length > 0)?.origin ??
      host.layout?.pools[0]?.origin ?? { file: host.root, start: 0, end: 0 };
    return [finding(this, anchor, 'ZFS is in use but networking.hostId is not set: NixOS refuses to build ("ZFS requires networking.hostId to be set").', { data: { invalid: false } })];
  },
};
