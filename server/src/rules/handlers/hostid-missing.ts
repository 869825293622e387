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
import type { HostModel } from '../../model/host-model';
import { type Origin, stringText } from '../../model/values';
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
      return [
        finding(this, origin, `networking.hostId ${q(hostId.value)} is not 8 hexadecimal digits: NixOS rejects it ("Invalid value given to the networking.hostId option."). Use e.g. the first 8 characters of /etc/machine-id.`, {
          data: { invalid: true },
        }),
      ];
    }
    const evidence = zfsEvidence(host);
    return [
      finding(
        this,
        evidence.origin,
        `ZFS is in use (${evidence.what}) but networking.hostId is not set: NixOS refuses to build ("ZFS requires networking.hostId to be set"). Set it to 8 hexadecimal digits that never change, e.g. the output of \`head -c 8 /etc/machine-id\`: pools remember the host that imported them.`,
        { data: { invalid: false } },
      ),
    ];
  },
};

/** What shows that the host uses ZFS, and where: a zfs fileSystems entry, boot.supportedFilesystems, a disko pool. */
function zfsEvidence(host: HostModel): { what: string; origin: Origin } {
  const entry = host.fileSystems().entries.find((candidate) => !candidate.conditional && candidate.fsType.state === 'known' && candidate.fsType.value === 'zfs' && candidate.writtenDefinitions.length > 0);
  if (entry?.origin) return { what: `${q(`fileSystems."${entry.mountPoint}"`)} is zfs`, origin: entry.origin };
  for (const option of [['boot', 'supportedFilesystems'], ['boot', 'initrd', 'supportedFilesystems']]) {
    const node = host.config.at(...option);
    const item = node.list().items.find((candidate) => !candidate.definition.conditional && stringText(candidate.thunk.force()) === 'zfs');
    const itemOrigin = item && (item.thunk.origin ?? item.thunk.force().origin);
    if (itemOrigin) return { what: `${q(option.join('.'))} lists zfs`, origin: itemOrigin };
    const attr = node.child('zfs').bool();
    const attrOrigin = attr.state === 'known' && attr.value ? attr.definitions[0].keyOrigin ?? attr.definitions[0].origin : undefined;
    if (attrOrigin) return { what: `${q(`${option.join('.')}.zfs`)} is true`, origin: attrOrigin };
  }
  const pool = host.layout?.pools[0];
  if (pool?.origin) return { what: `disko defines pool ${q(pool.name)}`, origin: pool.origin };
  return { what: 'ZFS file systems', origin: { file: host.root, start: 0, end: 0 } };
}
