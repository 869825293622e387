/**
 * # Insert the btrfs rollback
 *
 * Writes the rollback a btrfs ephemeral root needs, derived from the disko btrfs layout: mount the top level of the
 * root subvolume's device (`subvol=/`, F60), delete the subvolumes nested in the root subvolume (systemd creates
 * `/var/lib/machines` and `/var/lib/portables` as subvolumes, F62; without this the delete fails from the second boot,
 * F61), delete the root subvolume and restore it from the blank snapshot the disko hook takes.
 *
 * With systemd stage 1 on, it is an initrd unit ordered after the device unit of the file
 * system (the LUKS mapping or the declared device, F67) and before `sysroot.mount`; the unit runs under `set -e`
 * (F65). With systemd stage 1 off (set so, or the release's default), it is `boot.initrd.postResumeCommands = lib.mkAfter '' … ''`, which runs
 * after the hibernation resume attempt and before the root is mounted (F63). When the state is unknown, nothing is
 * offered. Offered on `blank-snapshot-unused` for a
 * btrfs root; the ZFS rollback is `insert-rollback-service`.
 *
 * ```nix
 * # after (disko: luks "crypted" holds a btrfs with "/root" mounted at / and a hook that snapshots root-blank)
 * boot.initrd.systemd.services.rollback-root = {
 *   description = "Restore the root subvolume from its blank snapshot";
 *   wantedBy = [ "initrd.target" ];
 *   after = [ "dev-mapper-crypted.device" ];
 *   requires = [ "dev-mapper-crypted.device" ];
 *   before = [ "sysroot.mount" ];
 *   unitConfig.DefaultDependencies = "no";
 *   serviceConfig.Type = "oneshot";
 *   script = ''
 *     mkdir -p /btrfs_tmp
 *     mount -o subvol=/ /dev/mapper/crypted /btrfs_tmp
 *     btrfs subvolume list -o /btrfs_tmp/root | cut -f9 -d' ' | while read -r sv; do
 *       btrfs subvolume delete "/btrfs_tmp/$sv"
 *     done
 *     btrfs subvolume delete /btrfs_tmp/root
 *     btrfs subvolume snapshot /btrfs_tmp/root-blank /btrfs_tmp/root
 *     umount /btrfs_tmp
 *   '';
 * };
 * ```
 */
import type { BtrfsSnapshotCreation } from '../../model/btrfs';
import type { HostModel } from '../../model/host-model';
import { releaseAtLeast } from '../../model/release';
import { escapeSystemdPath } from '../../rules/support';
import { type TextEdit, addModuleArgument, moduleArguments, nixString, setAttribute } from '../nix-edit';
import { targetFor } from '../targets';
import type { FixProvider } from '../types';
import { UNIT_NAME } from './insert-rollback-service';

/** Where the script mounts the top level (the impermanence README's name for it). */
const TOP_LEVEL = '/btrfs_tmp';

/** A name the shell and the Nix string take as it is. */
const PLAIN = /^[A-Za-z0-9@._+/-]+$/;

function scriptLines(device: string, root: string, blank: string): string[] {
  return [
    `mkdir -p ${TOP_LEVEL}`,
    `mount -o subvol=/ ${device} ${TOP_LEVEL}`,
    `btrfs subvolume list -o ${TOP_LEVEL}/${root} | cut -f9 -d' ' | while read -r sv; do`,
    `  btrfs subvolume delete "${TOP_LEVEL}/$sv"`,
    'done',
    `btrfs subvolume delete ${TOP_LEVEL}/${root}`,
    `btrfs subvolume snapshot ${TOP_LEVEL}/${blank} ${TOP_LEVEL}/${root}`,
    `umount ${TOP_LEVEL}`,
  ];
}

function unitText(device: string, root: string, blank: string): string {
  const deviceUnit = nixString(`${escapeSystemdPath(device)}.device`);
  return [
    '{',
    '  description = "Restore the root subvolume from its blank snapshot";',
    '  wantedBy = [ "initrd.target" ];',
    `  after = [ ${deviceUnit} ];`,
    `  requires = [ ${deviceUnit} ];`,
    '  before = [ "sysroot.mount" ];',
    '  unitConfig.DefaultDependencies = "no";',
    '  serviceConfig.Type = "oneshot";',
    "  script = ''",
    ...scriptLines(device, root, blank).map((line) => `    ${line}`),
    "  '';",
    '}',
  ].join('\n');
}

/** No rollback of any kind may exist already: the unit fixes edit an existing one instead. */
function hasRollback(host: HostModel): boolean {
  return host.btrfsRollbacks().open || host.btrfsRollbacks().rollbacks.length > 0 || host.rollbacks().rollbacks.length > 0;
}

export const provider: FixProvider = {
  name: 'insert-btrfs-rollback-service',
  codes: ['blank-snapshot-unused'],
  fixes({ finding, host, workspace }) {
    const snapshot = finding.data?.btrfsSnapshot as BtrfsSnapshotCreation | undefined;
    const root = finding.data?.rootSubvolume as string | undefined;
    const device = snapshot?.filesystem.device;
    if (host.kind !== 'nixos' || !snapshot || !root || !device || hasRollback(host)) return [];
    if (![device, root, snapshot.snapshot].every((text) => PLAIN.test(text))) return [];
    const systemd = host.systemdInitrd();
    const edits: TextEdit[] = [];
    if (systemd.state === 'off') {
      // Scripted stage 1: after the resume attempt, before the root is mounted (F63). Older releases lack the hook.
      if (releaseAtLeast(host.release, '23.11') === false) return [];
      const target = targetFor(host, workspace, ['boot', 'initrd', 'postResumeCommands']);
      if (!target) return [];
      const args = moduleArguments(target.file);
      if (!args.formals) return [];
      if (!args.names.includes('lib')) {
        const added = addModuleArgument(target.file, 'lib');
        if (!added) return [];
        edits.push(added);
      }
      const body = ["lib.mkAfter ''", ...scriptLines(device, root, snapshot.snapshot).map((line) => `  ${line}`), "''"].join('\n');
      edits.push(setAttribute(target.file, target.body, ['boot', 'initrd', 'postResumeCommands'], body));
      return [{ title: `Insert the btrfs rollback in postResumeCommands (${root} from ${snapshot.snapshot})`, preferred: true, edits }];
    }
    // Turning systemd stage 1 on would make scripted-only settings a build error (F42): only offered where it is on.
    if (systemd.state !== 'on') return [];
    const path = ['boot', 'initrd', 'systemd', 'services'];
    const target = targetFor(host, workspace, [...path, UNIT_NAME]);
    if (!target) return [];
    const taken = new Set(host.initrdUnits().units.map((unit) => unit.name));
    let name = UNIT_NAME;
    for (let index = 2; taken.has(name); index++) name = `${UNIT_NAME}-${index}`;
    edits.push(setAttribute(target.file, target.body, [...path, name], unitText(device, root, snapshot.snapshot)));
    return [{ title: `Insert the btrfs rollback service (${name}: ${root} from ${snapshot.snapshot} before sysroot.mount)`, preferred: true, edits }];
  },
};
