/**
 * # scripted-rollback-before-resume
 *
 * **What.** On scripted stage 1, a btrfs rollback sits in `boot.initrd.postDeviceCommands` (or `preDeviceCommands`,
 * `preLVMCommands`), which run *before* stage 1 tries to resume from hibernation.
 *
 * **Why.** The hook mounts the file system read-write and deletes and creates subvolumes; if the machine then resumes
 * a hibernated system, that system's view of the file system no longer matches the disk and the file system is
 * corrupted (impermanence#250, F63). Stage 1 runs `postDeviceCommands`, then the resume attempt, then
 * `postResumeCommands` (F5). The ZFS analogue is `scripted-rollback-wrong-hook`.
 *
 * **When.** An error when a resume is possible (`boot.resumeDevice`, a disko swap with `resumeDevice = true`, or a
 * `swapDevices` entry on `/dev/…` that is neither zram nor randomly encrypted, which stage 1 probes, F63); information
 * otherwise, since a swap added later silently arms it.
 *
 * **Fix.** Move the script to `postResumeCommands`, after the other commands there (what the impermanence README did
 * in c64bed1).
 *
 * ```nix
 * # before
 * boot.initrd.postDeviceCommands = lib.mkAfter '' … '';
 * # after
 * boot.initrd.postResumeCommands = lib.mkAfter '' … '';
 * ```
 */
import type { HostModel } from '../../model/host-model';
import { stringText } from '../../model/values';
import { describeBtrfsPlace } from '../btrfs-support';
import { definitionOrigin, finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

const BEFORE_RESUME = new Set(['postDeviceCommands', 'preDeviceCommands', 'preLVMCommands']);

/** Whether stage 1 may resume from hibernation (F63): true, false, or undefined when unknown. */
export function resumePossible(host: HostModel): boolean | undefined {
  const resumeDevice = host.config.at('boot', 'resumeDevice').string();
  if (resumeDevice.state === 'known' && resumeDevice.value !== '') return true;
  let unknown = resumeDevice.state === 'unknown';
  const swaps = host.config.child('swapDevices').list();
  unknown ||= swaps.open;
  for (const item of swaps.items) {
    const value = item.thunk.force();
    if (item.definition.conditional || value.kind !== 'attrs') {
      unknown = true;
      continue;
    }
    // A `label` swap is `/dev/disk/by-label/<label>` (its `device` default).
    const device = value.entries.has('device') ? stringText(value.entries.get('device')!.thunk.force()) : value.entries.has('label') ? '/dev/disk/by-label/' : undefined;
    if (device === undefined) {
      unknown = true;
      continue;
    }
    if (!device.startsWith('/dev/') || device.startsWith('/dev/zram')) continue;
    const encryption = value.entries.get('randomEncryption')?.thunk.force();
    let encrypted: boolean | undefined;
    if (encryption === undefined) encrypted = false;
    else if (encryption.kind === 'bool') encrypted = encryption.value;
    else if (encryption.kind === 'attrs') {
      const enable = encryption.entries.get('enable')?.thunk.force();
      encrypted = enable === undefined ? false : enable.kind === 'bool' ? enable.value : undefined;
    }
    if (encrypted === false) return true;
    if (encrypted === undefined) unknown = true;
  }
  const diskoSwap = diskoResumeSwap(host);
  if (diskoSwap) return true;
  if (diskoSwap === undefined) unknown = true;
  return unknown ? undefined : false;
}

/** A disko swap with `resumeDevice = true` (lib/types/swap.nix, F60): true, false, or undefined when unknown. */
function diskoResumeSwap(host: HostModel): boolean | undefined {
  const devices = host.input.diskoDevices;
  if (!devices) return false;
  let unknown = devices.open;
  const visit = (node: typeof devices, depth: number): boolean => {
    if (depth > 12) return false;
    const type = node.child('type').string();
    if (type.state === 'unknown') unknown = true;
    if (type.state === 'known' && type.value === 'swap') {
      const resume = node.child('resumeDevice').bool();
      if (resume.state === 'known' && resume.value) return true;
      if (resume.state === 'unknown') unknown = true;
    }
    for (const child of ['content']) if (!node.child(child).absent && visit(node.child(child), depth + 1)) return true;
    const partitions = node.child('partitions');
    for (const name of partitions.childNames()) if (visit(partitions.child(name).child('content'), depth + 1)) return true;
    return false;
  };
  for (const group of ['disk', 'mdadm']) {
    const groupNode = devices.child(group);
    unknown ||= groupNode.unknownNames().length > 0;
    for (const name of groupNode.childNames()) if (visit(groupNode.child(name).child('content'), 0)) return true;
  }
  const volumeGroups = devices.child('lvm_vg');
  for (const name of volumeGroups.childNames()) {
    const lvs = volumeGroups.child(name).child('lvs');
    for (const lv of lvs.childNames()) if (visit(lvs.child(lv).child('content'), 0)) return true;
  }
  return unknown ? undefined : false;
}

export const rule: Rule = {
  code: 'scripted-rollback-before-resume',
  severity: 'error',
  summary: 'A scripted btrfs rollback runs before the hibernation resume attempt.',
  facts: ['F63', 'F5', 'F64'],
  check(host) {
    if (host.systemdInitrd().state !== 'off') return [];
    const findings: Finding[] = [];
    for (const rollback of host.btrfsRollbacks().rollbacks) {
      if (rollback.conditional || rollback.place.kind !== 'hook' || !BEFORE_RESUME.has(rollback.place.hook)) continue;
      const resume = resumePossible(host);
      if (resume === undefined) continue;
      const origin = definitionOrigin(rollback.fragment.definition);
      if (!origin) continue;
      const consequence = resume
        ? 'this host can resume from hibernation, and resuming after the script has changed the file system corrupts it'
        : 'no resume device is configured today, but a swap added later makes a resume after the script corrupt the file system';
      findings.push(
        finding(
          this,
          origin,
          `The btrfs rollback in ${describeBtrfsPlace(rollback)} mounts the file system and changes its subvolumes before stage 1 tries to resume from hibernation: ${consequence}. Move it to ${q('boot.initrd.postResumeCommands = lib.mkAfter …')}.`,
          { severity: resume ? 'error' : 'information', related: [related(rollback.removalCommandOrigin, 'the rollback')], data: { rollback } },
        ),
      );
    }
    return findings;
  },
};
