/**
 * What the systemd units an ephemeral-root setup orders against are, and when they run (FACTS F4, F7, F8, F17,
 * F19, F20): the texts of unit hovers and the details of unit completions.
 */

export interface UnitDoc {
  /** One line: what the unit is. */
  summary: string;
  /** When it runs, and what ordering against it means. */
  details: string[];
}

/** `/sysroot/var/log` ← `sysroot-var-log.mount`: systemd's path unescaping (the inverse of `escapeSystemdPath`). */
export function unescapeSystemdPath(escaped: string): string {
  if (escaped === '-') return '/';
  return `/${escaped
    .split('-')
    .map((part) => part.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))))
    .join('/')}`;
}

/** The mount point a mount unit mounts, and whether it is stage 1's (`/sysroot…`). */
export function mountUnitPath(unit: string): { mountPoint: string; initrd: boolean } | undefined {
  if (!unit.endsWith('.mount')) return undefined;
  const path = unescapeSystemdPath(unit.slice(0, -'.mount'.length));
  if (path === '/sysroot') return { mountPoint: '/', initrd: true };
  if (path.startsWith('/sysroot/')) return { mountPoint: path.slice('/sysroot'.length), initrd: true };
  return { mountPoint: path, initrd: false };
}

export function importUnitPool(unit: string): string | undefined {
  return /^zfs-import-(.+)\.service$/.exec(unit)?.[1];
}

const DOCS: Record<string, UnitDoc> = {
  'zfs-import.target': {
    summary: 'Reached once the ZFS pools of this stage are imported.',
    details: [
      'Every `zfs-import-<pool>.service` of the stage orders itself before it (F7); in stage 1 those are the root pools only (F8).',
      '`after = [ "zfs-import.target" ]` waits for all of them without naming a pool, which is a valid way to order a rollback (F20).',
      'In stage 1 it is wanted by `zfs.target`, which `initrd.target` wants (F8).',
    ],
  },
  'zfs.target': {
    summary: 'Groups the ZFS units: the pool imports (through `zfs-import.target`) and, in stage 2, zfs-mount, zfs-share and zfs-zed.',
    details: ['In stage 1 it is wanted by `initrd.target` (F8).'],
  },
  'zfs-mount.service': {
    summary: 'Stage 2 only: `zfs mount -a`, the mount of datasets whose ZFS `mountpoint` property is a path and that have no fileSystems entry.',
    details: ['Stage 1 never runs it: a dataset mounted only this way is not there for activation (F4).'],
  },
  'sysroot.mount': {
    summary: 'The mount of the root file system at `/sysroot` in systemd stage 1.',
    details: [
      'Runs after `initrd-root-device.target` and before `initrd-root-fs.target` (F17). The root pool\'s import orders itself before it (F7).',
      'A rollback of the root dataset must be ordered `before = [ "sysroot.mount" ]` and be `Type=oneshot`, so that the mount waits for it (F19, F20).',
    ],
  },
  'initrd.target': {
    summary: 'The default target of systemd stage 1: reaching it ends stage 1 (then initrd-cleanup and the switch to the real root).',
    details: [
      'Reached after `initrd-fs.target`, once every needed-for-boot file system is mounted under `/sysroot` (F17); NixOS runs `initrd-nixos-activation.service` for it (F4).',
      '`wantedBy = [ "initrd.target" ]` is what pulls a stage-1 unit such as a rollback into the boot: ordering alone starts nothing (F19).',
    ],
  },
  'initrd-root-fs.target': {
    summary: 'Reached once the root file system is mounted at `/sysroot` (after `sysroot.mount`).',
    details: [
      'Comes after `sysroot.mount` and before `initrd-parse-etc.service` and the other `/sysroot` mounts (F17).',
      '`before = [ "initrd-root-fs.target" ]` alone does not order a unit before `sysroot.mount`: both are merely before the target (F20).',
    ],
  },
  'initrd-fs.target': {
    summary: 'Reached once every file system stage 1 mounts is mounted under `/sysroot` (the `x-initrd.mount` entries: `/nix`, `/var/log`, `neededForBoot` mounts).',
    details: ['Comes after `initrd-root-fs.target`; `initrd-nixos-activation.service` runs after it and activates the system in stage 1 (F4, F17).'],
  },
  'initrd-root-device.target': {
    summary: 'Reached once the device of the root file system is there.',
    details: ['It does not wait for a ZFS pool import: the import units order themselves only against mount units and `zfs-import.target` (F7, F17).'],
  },
  'initrd-nixos-activation.service': {
    summary: 'NixOS activation inside stage 1 (systemd initrd): runs after `initrd-fs.target`, chrooted into `/sysroot` (F4).',
    details: ['Whatever it writes to a path whose mount stage 1 has not mounted yet lands on the root — erased at the next rollback (F4).'],
  },
  'systemd-udev-settle.service': {
    summary: 'Waits until udev has processed all devices.',
    details: ['Every `zfs-import-<pool>.service` runs after it (F7).'],
  },
  'local-fs.target': {
    summary: 'Stage 2: reached once the local file systems of fileSystems are mounted.',
    details: [],
  },
  'shutdown.target': {
    summary: 'Pulled in when the system shuts down; units without `DefaultDependencies = no` conflict with it (F19).',
    details: [],
  },
  'sysinit.target': {
    summary: 'Early boot initialisation; a service with default dependencies requires and runs after it (F19).',
    details: ['In stage 1 that is too late for a unit that must run before `sysroot.mount`: set `unitConfig.DefaultDependencies = "no"` (F19).'],
  },
  'basic.target': {
    summary: 'Basic system initialisation; a service with default dependencies runs after it (F19).',
    details: ['In the initrd `basic.target` is reached late: a unit after it that must run before `sysroot.mount` starts late and can deadlock with that ordering (F19; the ordering cycle of systemd#12231 was fixed in 2019).'],
  },
};

/** The documentation of a unit name, or undefined for a unit we know nothing general about. */
export function unitDoc(unit: string): UnitDoc | undefined {
  const known = DOCS[unit];
  if (known) return known;
  const pool = importUnitPool(unit);
  if (pool) {
    return {
      summary: `Imports the ZFS pool \`${pool}\`: \`zpool import -N ${pool}\`, without mounting anything (F9).`,
      details: [
        'NixOS creates it for every pool that a ZFS fileSystems entry uses (F6, F7). It runs after `systemd-udev-settle.service`, with `DefaultDependencies = no`, as a oneshot that stays active.',
        'It orders itself before the mount units of the pool\'s file systems (`sysroot.mount`, `sysroot-nix.mount`, …) and before `zfs-import.target` (F7).',
        'Stage 1 (systemd initrd) has it only for root pools, the pools of needed-for-boot mounts; stage 2 creates it for the others (F8).',
      ],
    };
  }
  const mount = mountUnitPath(unit);
  if (mount) {
    return mount.initrd
      ? {
          summary: `Stage 1: the mount of \`${mount.mountPoint}\` under \`/sysroot\` (an \`x-initrd.mount\` fileSystems entry).`,
          details: ['Stage 1 mounts only needed-for-boot file systems (F1–F3); they come after `sysroot.mount` and before `initrd-fs.target` (F17).'],
        }
      : {
          summary: `Stage 2: the mount of \`${mount.mountPoint}\` (from fileSystems).`,
          details: ['In stage 1 the same file system would be mounted by `sysroot-<path>.mount`, if it is needed for boot (F7).'],
        };
  }
  return undefined;
}
