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
 * It also moves a misplaced btrfs rollback of the root: a scripted hook under systemd stage 1
 * (`scripted-hook-with-systemd-initrd`) becomes the unit, and one in `postMountCommands` (`rollback-after-mount`)
 * becomes the `postResumeCommands` hook (or the unit, with systemd stage 1 on). The old binding is removed, so only
 * a binding that holds nothing but the rollback (mkdir, mount, btrfs, cut, umount, …) is moved; its device, root
 * subvolume and blank snapshot are kept.
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
import type { BtrfsRollback } from '../../model/btrfs-rollback';
import { scriptText } from '../../model/disko';
import type { HostModel } from '../../model/host-model';
import { commandWords, programName, simpleCommands } from '../../model/shell';
import type { Workspace } from '../../model/workspace';
import type { Finding } from '../../rules/types';
import { releaseAtLeast } from '../../model/release';
import { escapeSystemdPath } from '../../rules/support';
import { type TextEdit, addModuleArgument, enclosing, moduleArguments, nixString, removeBinding, setAttribute } from '../nix-edit';
import type { QuickFix } from '../types';
import { isGenerated } from '../generated';
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

/** What the rollback needs: the top level's device, the root subvolume and its blank snapshot. */
interface Parameters {
  device: string;
  root: string;
  blank: string;
}

/** The rollback written where the host's stage 1 runs it: an initrd unit, or `postResumeCommands` for scripted stage 1. */
function insertion(host: HostModel, workspace: Workspace, { device, root, blank }: Parameters): { edits: TextEdit[]; title: string } | undefined {
  if (![device, root, blank].every((text) => PLAIN.test(text))) return undefined;
  const systemd = host.systemdInitrd();
  const edits: TextEdit[] = [];
  if (systemd.state === 'off') {
    // Scripted stage 1: after the resume attempt, before the root is mounted (F63). Older releases lack the hook.
    if (releaseAtLeast(host.release, '23.11') === false) return undefined;
    const target = targetFor(host, workspace, ['boot', 'initrd', 'postResumeCommands']);
    if (!target) return undefined;
    const args = moduleArguments(target.file);
    if (!args.formals) return undefined;
    if (!args.names.includes('lib')) {
      const added = addModuleArgument(target.file, 'lib');
      if (!added) return undefined;
      edits.push(added);
    }
    const body = ["lib.mkAfter ''", ...scriptLines(device, root, blank).map((line) => `  ${line}`), "''"].join('\n');
    edits.push(setAttribute(target.file, target.body, ['boot', 'initrd', 'postResumeCommands'], body));
    return { edits, title: `the btrfs rollback in postResumeCommands (${root} from ${blank})` };
  }
  // Turning systemd stage 1 on would make scripted-only settings a build error (F42): only offered where it is on.
  if (systemd.state !== 'on') return undefined;
  const path = ['boot', 'initrd', 'systemd', 'services'];
  const target = targetFor(host, workspace, [...path, UNIT_NAME]);
  if (!target) return undefined;
  const taken = new Set(host.initrdUnits().units.map((unit) => unit.name));
  let name = UNIT_NAME;
  for (let index = 2; taken.has(name); index++) name = `${UNIT_NAME}-${index}`;
  edits.push(setAttribute(target.file, target.body, [...path, name], unitText(device, root, blank)));
  return { edits, title: `the btrfs rollback service (${name}: ${root} from ${blank} before sysroot.mount)` };
}

/** Commands a plain rollback script runs; anything else in the binding would be lost by removing it. */
const ROLLBACK_PROGRAMS = new Set(['mkdir', 'mount', 'umount', 'btrfs', 'cut', 'read', 'echo', 'rmdir', 'sync']);

/** Moves a misplaced rollback of the root subvolume: removes its binding and writes it where stage 1 runs it. */
function moveRollback(host: HostModel, workspace: Workspace, rollback: BtrfsRollback): QuickFix | undefined {
  const root = host.rootSubvolume();
  const device = rollback.mount?.device;
  if (rollback.place.kind !== 'hook' || rollback.recreate !== 'restore' || !rollback.blank || !device || !root || rollback.subvolume !== root.name) return undefined;
  const text = scriptText(rollback.fragment.value);
  const onlyRollback = simpleCommands(text).every((command) => {
    const first = commandWords(command)[0];
    return first !== undefined && ROLLBACK_PROGRAMS.has(programName(first));
  });
  if (!onlyRollback) return undefined;
  const definition = rollback.fragment.definition;
  const origin = definition.keyOrigin ?? definition.origin;
  const file = origin && workspace.source(origin.file);
  const binding = file && origin ? enclosing(file, origin.start, origin.end, ['binding']) : undefined;
  if (!file || !binding || isGenerated({ path: file.path, text: file.text })) return undefined;
  const removal = removeBinding(file, binding);
  // The hook leaves before the new rollback comes: scripted-only settings no longer stand in its way.
  const inserted = insertion(host, workspace, { device, root: root.name, blank: rollback.blank });
  if (!inserted) return undefined;
  const title = `Move the rollback: ${inserted.title}`;
  const written = inserted.edits[inserted.edits.length - 1];
  const others = inserted.edits.slice(0, -1);
  // An edit inside the removed text would overlap it: leave that case to the user.
  if (others.some((item) => item.file === removal.file && item.start >= removal.start && item.start <= removal.end)) return undefined;
  if (written.file === removal.file && written.start >= removal.start && written.start <= removal.end) {
    // The new rollback would be written right next to the binding it replaces: it takes that binding's place.
    const eol = written.text.startsWith('\r\n') ? '\r\n' : '\n';
    const text = removal.end > removal.start && file.text.slice(removal.start, removal.end).endsWith('\n') ? `${written.text.slice(eol.length)}${eol}` : written.text.trimStart();
    return { title, preferred: true, edits: [...others, { ...removal, text }] };
  }
  return { title, preferred: true, edits: [removal, ...inserted.edits] };
}

function misplacedRollback(host: HostModel, finding: Finding): BtrfsRollback | undefined {
  const given = finding.data?.btrfsRollback as BtrfsRollback | undefined;
  if (given) return given;
  // scripted-hook-with-systemd-initrd names the hook definition: the rollback is the one read from it.
  const definition = finding.data?.definition;
  return definition ? host.btrfsRollbacks().rollbacks.find((rollback) => rollback.place.kind === 'hook' && rollback.fragment.definition === definition) : undefined;
}

export const provider: FixProvider = {
  name: 'insert-btrfs-rollback-service',
  codes: ['blank-snapshot-unused', 'scripted-hook-with-systemd-initrd', 'rollback-after-mount'],
  fixes({ finding, host, workspace }) {
    if (host.kind !== 'nixos') return [];
    if (finding.code !== 'blank-snapshot-unused') {
      const rollback = misplacedRollback(host, finding);
      const fix = rollback && !rollback.conditional ? moveRollback(host, workspace, rollback) : undefined;
      return fix ? [fix] : [];
    }
    const snapshot = finding.data?.btrfsSnapshot as BtrfsSnapshotCreation | undefined;
    const root = finding.data?.rootSubvolume as string | undefined;
    const device = snapshot?.filesystem.device;
    if (!snapshot || !root || !device || hasRollback(host)) return [];
    const inserted = insertion(host, workspace, { device, root, blank: snapshot.snapshot });
    return inserted ? [{ title: `Insert ${inserted.title}`, preferred: true, edits: inserted.edits }] : [];
  },
};
