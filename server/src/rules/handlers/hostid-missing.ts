/**
 * # hostid-missing
 *
 * **What.** The host uses ZFS but `networking.hostId` is unset or not eight hexadecimal digits.
 *
 * **Why.** The ZFS module asserts "ZFS requires networking.hostId to be set", and networking rejects anything but
 * 8 hex characters (F12); pools remember the host that imported them, and the initrd gets `/etc/hostid` from it.
 *
 * **At build or boot.** The build fails — or, with an id that differs from the one the pools carry, the pools refuse
 * to import without `-f` (F40).
 *
 * **Fix.** Set the id the pools were created under. Pools made by disko or nixos-anywhere from the NixOS installer
 * carry the installer's `8425e349` (F40); read a pool's id with `zdb -l <pool device> | grep hostid`. A new id needs
 * one `zpool import -f` per pool at the first boot (or `boot.zfs.forceImportRoot`, which is off by default for
 * `system.stateVersion` 26.11 and later). The quick fix offers the installer's id with that explanation.
 *
 * ```nix
 * # before: no networking.hostId
 * networking.hostName = "atlas";
 * # after
 * networking.hostId = "8425e349"; # the NixOS installer's id; check: zdb -l <pool device> | grep hostid
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
  facts: ['F12', 'F40'],
  check(host) {
    if (host.kind !== 'nixos' || host.zfsInUse() !== true) return [];
    const hostId = host.hostId();
    if (hostId.state === 'unknown') return [];
    if (hostId.state === 'known') {
      if (/^[0-9a-fA-F]{8}$/.test(hostId.value)) return [];
      const origin = hostId.definitions[0].origin;
      if (!origin) return [];
      return [
        finding(this, origin, `networking.hostId ${q(hostId.value)} is not 8 hexadecimal digits: NixOS rejects it ("Invalid value given to the networking.hostId option."). Use the id the pools carry: ${q('8425e349')} (the NixOS installer's) for pools created by disko or nixos-anywhere; ${q('zdb -l <pool device> | grep hostid')} tells.`, {
          data: { invalid: true },
        }),
      ];
    }
    const evidence = zfsEvidence(host);
    return [
      finding(
        this,
        evidence.origin,
        `ZFS is in use (${evidence.what}) but networking.hostId is not set: NixOS refuses to build ("ZFS requires networking.hostId to be set"). Set it to the id the pools were created under: pools remember the host that imported them and refuse another without ${q('zpool import -f')}. For pools created by disko or nixos-anywhere that is the NixOS installer's ${q('8425e349')}; ${q('zdb -l <pool device> | grep hostid')} tells.`,
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
