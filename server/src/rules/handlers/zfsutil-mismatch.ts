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
import { type Dataset, type MountProperty, effectiveMountProperty } from '../../model/disko';
import type { FileSystemEntry } from '../../model/host-model';
import { type Origin, stringText } from '../../model/values';
import { entryOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** The `"zfsutil"` item the host writes in the entry's options, if it does. */
function writtenZfsutil(entry: FileSystemEntry): Origin | undefined {
  for (const item of entry.node.child('options').list().items) {
    if (item.definition.synthetic === 'disko' || item.definition.conditional) continue;
    const value = item.thunk.force();
    if (stringText(value) === 'zfsutil') return item.thunk.origin ?? value.origin ?? item.definition.origin;
  }
  return undefined;
}

/**
 * Where the property is set (for the related location), and a phrase that starts with a verb: "has
 * options.mountpoint = "legacy"", "inherits mountpoint=none from `rpool/safe` (options.mountpoint = "none")".
 */
function propertySource(property: MountProperty, dataset: Dataset): { origin?: Origin; text: string } {
  const from = property.from;
  let origin: Origin | undefined;
  let how: string;
  let value: string;
  if (from.zfsMountpoint.state === 'known') {
    origin = from.zfsMountpoint.definitions[0]?.origin;
    value = from.zfsMountpoint.value;
    how = `${from.isPoolRoot ? 'rootFsOptions.mountpoint' : 'options.mountpoint'} = "${value}"`;
  } else if (from.mountpoint.state === 'known' && from.mountpoint.value) {
    origin = from.mountpoint.definitions[0]?.origin;
    value = from.mountpoint.value;
    how = `disko sets it from ${q(`mountpoint = "${value}"`)}`;
  } else if (from.isPoolRoot && from.canmount.state === 'known' && from.canmount.value === 'off') {
    origin = from.canmount.definitions[0]?.origin;
    value = 'none';
    how = 'disko creates the pool with -m none because of rootFsOptions.canmount = "off"';
  } else {
    origin = from.origin;
    value = property.kind;
    how = 'the ZFS default';
  }
  const shown = property.kind === 'path' && from !== dataset ? 'a path below it' : value;
  if (from === dataset) return { origin, text: `has mountpoint=${value} (${how})` };
  return { origin, text: `inherits mountpoint=${shown} from ${q(from.fullName)} (${how})` };
}

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
      const dataset = host.datasetNamed(device.value);
      if (!dataset) continue;
      const property = effectiveMountProperty(dataset, layout);
      if (!property) continue;
      const hasZfsutil = entry.options.includes('zfsutil');
      const source = propertySource(property, dataset);
      const where = related(source.origin, `the ZFS mountpoint property of ${property.from.fullName}`);
      if (property.kind === 'legacy' && hasZfsutil) {
        const origin = writtenZfsutil(entry) ?? entryOrigin(entry, 'options');
        if (!origin) continue;
        findings.push(
          finding(this, origin, `${q(dataset.fullName)} ${source.text}, but this entry mounts it with ${q('zfsutil')}: mount.zfs refuses ("cannot be mounted using 'zfs mount'") and the mount fails. Remove ${q('"zfsutil"')}.`, {
            related: [where],
            data: { entry, add: false },
          }),
        );
      } else if (property.kind !== 'legacy' && !hasZfsutil) {
        const origin = entryOrigin(entry, 'options');
        if (!origin) continue;
        // A forced entry replaces disko's whole entry, and with it the "zfsutil" disko computed (F23, F26).
        const dropped =
          entry.diskoDefinitions.length === 0 && host.diskoInEffect() === true && layout.emitted.some((mount) => mount.mountPoint === entry.mountPoint && mount.options.includes('zfsutil'))
            ? ` (disko's own entry has it, but this entry's priority, lib.mkForce or the like, replaces disko's whole entry)`
            : '';
        findings.push(
          finding(this, origin, `${q(dataset.fullName)} ${source.text}, so this entry must mount it with ${q('zfsutil')}${dropped}: without it mount.zfs refuses ("cannot be mounted using 'mount'") and the mount fails. Add ${q('"zfsutil"')} to the options.`, {
            related: [where],
            data: { entry, add: true },
          }),
        );
      }
    }
    return findings;
  },
};
