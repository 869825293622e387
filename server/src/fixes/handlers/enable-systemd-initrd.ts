/**
 * # Turn systemd stage 1 on
 *
 * Sets `boot.initrd.systemd.enable = true;` (replacing `false`), in the file that already configures
 * `boot.initrd.systemd`, so the rollback unit defined there runs. Fixes `initrd-units-without-systemd-initrd`.
 *
 * systemd stage 1 rejects every scripted-only setting — `preDeviceCommands`, `postDeviceCommands`,
 * `postResumeCommands`, `postMountCommands`, `preLVMCommands`, `preFailCommands`, `extraUtilsCommands`,
 * `extraUtilsCommandsTest`, `extraUdevRulesCommands`, `network.postCommands` — with an assertion that fails the build
 * (F42, F16). The same edit converts what it can: a hook that only rolls back the root dataset, which the initrd unit
 * already does, is removed. Any other such setting is named in the fix's title, and the fix is then not preferred:
 * convert those to `boot.initrd.systemd.services` first, or the build fails.
 *
 * ```nix
 * # before
 * boot.initrd.systemd.enable = false;
 * boot.initrd.postDeviceCommands = lib.mkAfter "zfs rollback -r rpool/local/root@blank";
 * # after
 * boot.initrd.systemd.enable = true;
 * ```
 */
import { scriptText } from '../../model/disko';
import type { HostModel, ScriptedHookName } from '../../model/host-model';
import type { Definition } from '../../model/config';
import { commandWords, findInvocations, programName, simpleCommands } from '../../model/shell';
import type { Origin } from '../../model/values';
import type { Workspace } from '../../model/workspace';
import { type TextEdit, enclosing, removeBinding, setAttribute } from '../nix-edit';
import { editableFile } from '../script-edits';
import { targetFor } from '../targets';
import type { FixProvider } from '../types';

/** The scripted-only settings systemd stage 1 rejects, sorted into those this edit removes and those left to the user. */
export interface ScriptedSettings {
  /** Removals of hooks that only roll back the root (the initrd unit does that already). */
  removals: TextEdit[];
  /** Settings that still fail the build with systemd stage 1: `boot.initrd.<hook>` and where it is written. */
  remaining: { hook: ScriptedHookName; origin?: Origin }[];
}

/** The fragment runs nothing but rollbacks of `rootDataset` (and messages). */
function onlyRootRollback(host: HostModel, definition: Definition, rootDataset: string): boolean {
  if (definition.value.kind !== 'string') return false;
  const text = scriptText(definition.value);
  const rollbacks = findInvocations(text, 'zfs').filter((invocation) => invocation.subcommand === 'rollback');
  const ours = host.certainStage1Rollbacks().filter((rollback) => rollback.fragment.definition === definition);
  if (rollbacks.length === 0 || ours.length !== rollbacks.length || ours.some((rollback) => rollback.dataset !== rootDataset)) return false;
  const starts = rollbacks.map((invocation) => invocation.command.start);
  return simpleCommands(text).every((command) => {
    const words = commandWords(command);
    const program = words[0] ? programName(words[0]) : '';
    return starts.includes(command.start) || program === 'echo' || program === 'printf';
  });
}

/**
 * The scripted-only settings (F42) the host sets, apart from `except` (a hook another edit already converts). A hook
 * that only rolls back the root is removed when `rootUnit` says an initrd unit rolls the root back after the edit;
 * the binding must hold that one definition, written in an editable file.
 */
export function scriptedOnlySettings(host: HostModel, workspace: Workspace, options: { except?: Definition; rootUnit: boolean }): ScriptedSettings {
  const removals: TextEdit[] = [];
  const remaining: ScriptedSettings['remaining'] = [];
  const root = host.rootDataset();
  for (const { hook, fragments } of host.scriptedHooks()) {
    for (const definition of fragments) {
      if (definition === options.except || definition.synthetic) continue;
      // The assertion is on a non-empty value: an empty fragment does not count.
      if (definition.value.kind === 'string' && scriptText(definition.value).trim() === '') continue;
      const origin = definition.keyOrigin ?? definition.origin;
      const file = origin && editableFile(workspace, origin.file);
      const binding = file && origin && definition.keyOrigin ? enclosing(file, origin.start, origin.end, ['binding']) : undefined;
      const alone = binding && fragments.every((other) => other === definition || other.keyOrigin?.file !== origin!.file || other.keyOrigin.start !== origin!.start);
      if (options.rootUnit && root && !definition.conditional && file && binding && alone && onlyRootRollback(host, definition, root.name)) {
        removals.push(removeBinding(file, binding));
      } else remaining.push({ hook, origin });
    }
  }
  return { removals, remaining };
}

/** The title's note on settings that still block the build, e.g. ` — convert boot.initrd.postMountCommands first …`. */
export function remainingNote(workspace: Workspace, remaining: ScriptedSettings['remaining']): string {
  if (remaining.length === 0) return '';
  const where = (origin?: Origin) => {
    if (!origin) return '';
    const source = workspace.source(origin.file);
    const line = source ? source.lines.position(origin.start).line + 1 : undefined;
    return ` (${origin.file.split('/').pop()}${line ? `:${line}` : ''})`;
  };
  const names = [...new Map(remaining.map((item) => [`${item.hook}${where(item.origin)}`, item])).keys()].map((name) => `boot.initrd.${name}`);
  return ` — systemd stage 1 rejects ${names.join(', ')}: convert ${names.length === 1 ? 'it' : 'them'} to boot.initrd.systemd.services first, or the build fails`;
}

export const provider: FixProvider = {
  name: 'enable-systemd-initrd',
  codes: ['initrd-units-without-systemd-initrd'],
  fixes({ host, workspace }) {
    const path = ['boot', 'initrd', 'systemd', 'enable'];
    const target = targetFor(host, workspace, path);
    if (!target) return [];
    // The finding is about a rollback unit in the initrd: once systemd stage 1 is on, it rolls the root back.
    const settings = scriptedOnlySettings(host, workspace, { rootUnit: true });
    const removed = settings.removals.length > 0 ? ` and drop the scripted rollback hook it replaces` : '';
    return [
      {
        title: `Turn systemd stage 1 on (boot.initrd.systemd.enable = true)${removed}${remainingNote(workspace, settings.remaining)}`,
        preferred: settings.remaining.length === 0,
        edits: [setAttribute(target.file, target.body, path, 'true'), ...settings.removals],
      },
    ];
  },
};
