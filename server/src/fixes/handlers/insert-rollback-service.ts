/**
 * # Insert the rollback service
 *
 * Writes the complete systemd initrd unit that rolls the root dataset back to its blank snapshot, derived from the
 * disko layout: the pool's import unit, the root dataset, the snapshot its `postCreateHook` creates, and the ZFS
 * package the host runs. It goes into the file that already holds `boot.initrd` (else the host's configuration), in
 * that file's style. When no hook creates the snapshot, the same edit adds an idempotent `postCreateHook` to the root
 * dataset in the disko file. Converting a scripted rollback hook removes the hook and keeps its target.
 *
 * Turning systemd stage 1 on makes every other scripted-only setting (`postDeviceCommands`, `postMountCommands`,
 * `network.postCommands`, …) a build error (F42). The same edit removes another hook that only rolls back the root;
 * any other such setting is named in the title, and the fix is then not preferred.
 *
 * Offered on `blank-snapshot-unused`, `initrd-units-without-systemd-initrd`, `scripted-hook-with-systemd-initrd`,
 * `scripted-rollback-wrong-hook`, `rollback-after-mount`, and as a source action on a host whose root has a blank
 * snapshot but no rollback. For `scripted-rollback-wrong-hook` it is the preferred fix from nixpkgs 26.05 on, where
 * systemd stage 1 is the default and scripted stage 1 is deprecated (F15); before that (or when the release is
 * unknown) moving the hook (`move-scripted-rollback`) is preferred, when it can be moved.
 *
 * ```nix
 * # before (disko: "nixos/empty" mounted at /, postCreateHook snapshots rpool/nixos/empty@start)
 * { config, pkgs, ... }:
 * {
 *   networking.hostId = "8425e349";
 * }
 * # after
 * { config, pkgs, ... }:
 * {
 *   networking.hostId = "8425e349";
 *   boot.initrd.systemd.enable = true;
 *   boot.initrd.systemd.services.rollback-root = {
 *     description = "Roll back the root dataset to its blank snapshot";
 *     wantedBy = [ "initrd.target" ];
 *     after = [ "zfs-import-rpool.service" ];
 *     before = [ "sysroot.mount" ];
 *     path = [ config.boot.zfs.package ];
 *     unitConfig.DefaultDependencies = "no";
 *     serviceConfig.Type = "oneshot";
 *     script = "zfs rollback -r rpool/nixos/empty@start";
 *   };
 * }
 * ```
 */
import type { HostModel, Rollback } from '../../model/host-model';
import type { Workspace } from '../../model/workspace';
import { findInvocations } from '../../model/shell';
import { scriptText } from '../../model/disko';
import type { Finding } from '../../rules/types';
import { type TextEdit, addModuleArgument, attrName, enclosing, moduleArguments, nixString, removeBinding, setAttribute } from '../nix-edit';
import { releaseAtLeast } from '../../model/release';
import { datasetAttrset, targetFor } from '../targets';
import type { FixProvider, QuickFix } from '../types';
import { remainingNote, scriptedOnlySettings } from './enable-systemd-initrd';
import { provider as moveScriptedRollback } from './move-scripted-rollback';

export const UNIT_NAME = 'rollback-root';

/** The guarded snapshot command disko's own example uses (F25): safe to run on every format. */
export function guardedSnapshot(target: string): string {
  return `zfs list -t snapshot -H -o name | grep -qxF '${target}' || zfs snapshot ${target}`;
}

interface Plan {
  pool: string;
  dataset: string;
  snapshot: string;
  /** The snapshot hook to add when none creates it. */
  addHook: boolean;
  /** A scripted hook whose rollback moves into the unit. */
  convert?: Rollback;
}

function plan(host: HostModel, finding: Finding | undefined): Plan | undefined {
  if (host.kind !== 'nixos') return undefined;
  const root = host.rootDataset();
  if (!root) return undefined;
  const converting = finding?.data?.rollback as Rollback | undefined;
  const convert = converting && converting.place.kind === 'hook' && converting.dataset === root.name ? converting : undefined;
  // A unit that already rolls the root back is edited by the unit fixes, not replaced.
  if (!convert && host.certainStage1Rollbacks().some((rollback) => rollback.dataset === root.name && rollback.place.kind === 'initrd-unit')) return undefined;
  const created = host.layout?.snapshots.find((snapshot) => snapshot.dataset === root.name && !snapshot.recursive);
  const snapshot = convert?.snapshot ?? created?.snapshot ?? 'blank';
  const addHook = host.snapshotCreated(root.name, snapshot) === false;
  if (addHook && !root.dataset) return undefined;
  return { pool: root.name.split('/')[0], dataset: root.name, snapshot, addHook, convert };
}

/** The hook binding holds nothing but the rollback (and echo lines): removing it loses nothing. */
function onlyRollback(rollback: Rollback): boolean {
  const text = scriptText(rollback.fragment.value);
  const commands = findInvocations(text, 'zfs').filter((invocation) => invocation.subcommand === 'rollback');
  const remainder = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !/^echo\b/.test(line));
  return commands.length === 1 && remainder.length === 1;
}

function unitText(plan: Plan, zfsPath: boolean): string {
  return [
    '{',
    `  description = "Roll back the root dataset to its blank snapshot";`,
    `  wantedBy = [ "initrd.target" ];`,
    `  after = [ ${nixString(`zfs-import-${plan.pool}.service`)} ];`,
    `  before = [ "sysroot.mount" ];`,
    ...(zfsPath ? ['  path = [ config.boot.zfs.package ];'] : []),
    `  unitConfig.DefaultDependencies = "no";`,
    `  serviceConfig.Type = "oneshot";`,
    `  script = ${nixString(`zfs rollback -r ${plan.dataset}@${plan.snapshot}`)};`,
    '}',
  ].join('\n');
}

export function insertRollbackService(host: HostModel, workspace: Workspace, finding?: Finding): QuickFix | undefined {
  const steps = plan(host, finding);
  if (!steps) return undefined;
  if (steps.convert && !onlyRollback(steps.convert)) return undefined;
  const servicesPath = ['boot', 'initrd', 'systemd', 'services'];
  const target = targetFor(host, workspace, [...servicesPath, UNIT_NAME]);
  if (!target) return undefined;
  const edits: TextEdit[] = [];
  const taken = new Set(host.initrdUnits().units.map((unit) => unit.name));
  let name = UNIT_NAME;
  for (let index = 2; taken.has(name); index++) name = `${UNIT_NAME}-${index}`;
  // `path = [ config.boot.zfs.package ]` needs `config`; a module that is not a function gets no `path` (the initrd's
  // own /bin/zfs is boot.zfs.package anyway, F8).
  const args = moduleArguments(target.file);
  const zfsPath = args.formals !== undefined;
  if (zfsPath && !args.names.includes('config')) {
    const added = addModuleArgument(target.file, 'config');
    if (added) edits.push(added);
  }
  const systemd = host.systemdInitrd();
  const enabling = !(systemd.explicit && systemd.state === 'on');
  if (enabling) edits.push(setAttribute(target.file, target.body, ['boot', 'initrd', 'systemd', 'enable'], 'true'));
  let unit = setAttribute(target.file, target.body, [...servicesPath, name], unitText(steps, zfsPath));
  // Turning systemd stage 1 on: the other scripted-only settings would fail the build (F42).
  const settings = enabling ? scriptedOnlySettings(host, workspace, { except: steps.convert?.fragment.definition, rootUnit: true }) : { removals: [], remaining: [] };
  for (const removal of settings.removals) {
    // A removal around the place the unit goes would make the edits overlap: leave that hook to the user.
    if (removal.file === unit.file && unit.start >= removal.start && unit.start <= removal.end) return undefined;
  }
  if (steps.convert) {
    const origin = steps.convert.fragment.definition.keyOrigin ?? steps.convert.fragment.definition.origin;
    const file = origin && workspace.source(origin.file);
    const binding = file && origin ? enclosing(file, origin.start, origin.end, ['binding']) : undefined;
    if (!file || !binding) return undefined;
    const removal = removeBinding(file, binding);
    if (removal.file === unit.file && unit.start >= removal.start && unit.start <= removal.end) {
      // The unit would be written right after the hook it replaces: it takes the hook's place instead.
      const eol = unit.text.startsWith('\r\n') ? '\r\n' : '\n';
      const replacement = removal.end > removal.start && file.text.slice(removal.start, removal.end).endsWith('\n') ? `${unit.text.slice(eol.length)}${eol}` : unit.text.trimStart();
      unit = { ...removal, text: replacement };
    } else edits.push(removal);
  }
  edits.push(unit, ...settings.removals);
  if (steps.addHook) {
    const root = host.rootDataset()!;
    const dataset = root.dataset && datasetAttrset(workspace, root.dataset);
    if (!dataset) return undefined;
    edits.push(setAttribute(dataset.file, dataset.body, ['postCreateHook'], nixString(guardedSnapshot(`${steps.dataset}@${steps.snapshot}`))));
  }
  const action = steps.convert ? 'Convert the scripted rollback into a systemd initrd unit' : 'Insert the rollback service';
  return {
    title: `${action} (${attrName(name)}: ${steps.dataset}@${steps.snapshot} before sysroot.mount)${remainingNote(workspace, settings.remaining)}`,
    preferred: settings.remaining.length === 0,
    edits,
  };
}

export const provider: FixProvider = {
  name: 'insert-rollback-service',
  codes: ['blank-snapshot-unused', 'initrd-units-without-systemd-initrd', 'scripted-hook-with-systemd-initrd', 'scripted-rollback-wrong-hook', 'rollback-after-mount'],
  fixes({ finding, host, workspace }) {
    if (finding.code === 'initrd-units-without-systemd-initrd') return [];
    if (finding.code === 'scripted-hook-with-systemd-initrd') {
      // Only a hook that is a rollback converts; for it, reuse the rollback the hook runs.
      const rollback = host.certainStage1Rollbacks().find((item) => item.place.kind === 'hook' && item.fragment.definition === finding.data?.definition);
      if (!rollback) return [];
      const fix = insertRollbackService(host, workspace, { ...finding, data: { ...finding.data, rollback } });
      return fix ? [fix] : [];
    }
    if (finding.code === 'rollback-after-mount') {
      const rollback = finding.data?.rollback as Rollback | undefined;
      // Only a misplaced rollback outside any initrd unit is replaced by a fresh unit.
      if (!rollback || rollback.place.kind === 'initrd-unit') return [];
      const fix = insertRollbackService(host, workspace, undefined);
      return fix ? [{ ...fix, preferred: false }] : [];
    }
    const fix = insertRollbackService(host, workspace, finding);
    if (!fix) return [];
    // Moving the scripted hook is the other fix; from 26.05 on, systemd stage 1 is the way forward (F15).
    // When the hook cannot be moved (it holds more than the rollback, …), the conversion is the only fix left.
    if (finding.code === 'scripted-rollback-wrong-hook') {
      const movable = moveScriptedRollback.fixes({ finding, host, workspace }).length > 0;
      return [{ ...fix, preferred: fix.preferred && (releaseAtLeast(host.release, '26.05') === true || !movable) }];
    }
    return [fix];
  },
};
