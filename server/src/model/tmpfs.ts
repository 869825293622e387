/**
 * A tmpfs root (RULES.md §G): `fileSystems."/"` with `fsType = "tmpfs"`, hand-written or emitted by disko
 * `nodev."/"` (whose `mountOptions` default to `[ "defaults" ]`, F58), and its mount options when every one is known.
 */
import type { FileSystemEntry, HostModel } from './host-model';
import type { Origin } from './values';

export interface TmpfsRoot {
  entry: FileSystemEntry;
  /** Every mount option, or undefined when some cannot be read (a helper-built list, an unreadable disko nodev). */
  options: string[] | undefined;
  /** Where the options are written (by hand, or disko's `mountOptions`), else the entry. */
  optionsOrigin?: Origin;
  /** The options come only from disko's nodev entry. */
  fromDisko: boolean;
}

export function tmpfsRootOf(host: HostModel): TmpfsRoot | undefined {
  const entry = host.fileSystemAt('/');
  if (!entry || entry.fsType.state !== 'known' || entry.fsType.value !== 'tmpfs') return undefined;
  const written = entry.node.child('options').definitions.find((definition) => definition.synthetic !== 'disko');
  let options = entry.options;
  let optionsOrigin = written ? (written.origin ?? written.keyOrigin) : undefined;
  if (entry.diskoDefinitions.length > 0) {
    // disko emits an empty list for a nodev `mountOptions` it could not read: look at what is written there.
    const nodev = host.input.diskoDevices?.child('nodev');
    const declared = nodev?.childNames().map((name) => nodev.child(name)).find((node) => {
      const mountpoint = node.child('mountpoint').string();
      return mountpoint.state === 'known' ? mountpoint.value === '/' : mountpoint.state === 'absent' && node.path[node.path.length - 1] === '/';
    });
    const mountOptions = declared?.child('mountOptions');
    if (!declared || !mountOptions || mountOptions.open || mountOptions.list().open) options = undefined;
    const diskoDefinition = mountOptions?.definitions[0];
    optionsOrigin ??= diskoDefinition ? (diskoDefinition.keyOrigin ?? diskoDefinition.origin) : declared?.definitions.find((definition) => definition.keyOrigin)?.keyOrigin;
  }
  return { entry, options, optionsOrigin: optionsOrigin ?? entry.origin, fromDisko: !written && entry.diskoDefinitions.length > 0 };
}
