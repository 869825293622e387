/**
 * # Keep disko's entry
 *
 * A mount point that disko emits is written again by hand with a different `device` or `fsType` (a build error),
 * or forced with `lib.mkForce`, which drops disko's whole entry (F26). Removes only the hand-written `device` and
 * `fsType` bindings that differ from disko's (a `device` also where disko's is not known, a partition or a tmpfs:
 * disko always sets one), and unwraps a `lib.mkForce` (or `mkOverride` below disko's priority)
 * around the entry, so disko's entry stands and everything else the user wrote (`neededForBoot`, `options`, …)
 * merges into it. An entry left empty is removed. Fixes `duplicate-fs-definition`. No fix when an entry is not
 * written as an attribute set (a function call, a variable) or a conflicting value is not a plain literal.
 *
 * No fix either when the conflicting entry is in a generated file (the `fileSystems` nixos-generate-config writes
 * into `hardware-configuration.nix`): an edit there lasts until its next run, and overriding it from another module
 * would take `lib.mkForce`. Regenerate that file with `nixos-generate-config --no-filesystems` instead.
 *
 * ```nix
 * # before (disko mounts rpool/safe/persist at /persist)
 * fileSystems."/persist" = lib.mkForce {
 *   device = "rpool/persist";
 *   fsType = "zfs";
 *   neededForBoot = true;
 * };
 * # after
 * fileSystems."/persist" = {
 *   fsType = "zfs";
 *   neededForBoot = true;
 * };
 * ```
 */
import type { Definition } from '../../model/config';
import type { FileSystemEntry } from '../../model/host-model';
import { stringText } from '../../model/values';
import { definitionScope, isPlainString } from '../filesystem-edits';
import { type TextEdit, bindingsOf, edit, enclosing, locate, priorityWrapper, removeBinding, unwrapPriority } from '../nix-edit';
import type { FixProvider } from '../types';

const FIELDS = ['device', 'fsType'] as const;

function diskoValue(definitions: Definition[], field: string): string | undefined {
  for (const definition of definitions) {
    if (definition.value.kind !== 'attrs') continue;
    const entry = definition.value.entries.get(field);
    if (entry) return stringText(entry.thunk.force());
  }
  return undefined;
}

export const provider: FixProvider = {
  name: 'keep-disko-entry',
  codes: ['duplicate-fs-definition'],
  fixes({ finding, workspace }) {
    const entry = finding.data?.entry as FileSystemEntry | undefined;
    if (!entry) return [];
    const all = entry.node.definitions;
    const disko = all.filter((definition) => definition.synthetic === 'disko');
    const written = all.filter((definition) => definition.synthetic !== 'disko');
    if (disko.length === 0 || written.length === 0 || written.some((definition) => definition.conditional)) return [];
    const diskoPriority = Math.min(...disko.map((definition) => definition.priority));
    const expected = Object.fromEntries(FIELDS.map((field) => [field, diskoValue(disko, field)]));
    const edits: TextEdit[] = [];
    let unwrapped = false;
    for (const definition of written) {
      const scope = definitionScope(workspace, definition);
      if (!scope) return [];
      const removed: TextEdit[] = [];
      let removedCount = 0;
      for (const field of FIELDS) {
        const located = locate(scope.body, [...scope.prefix, field]);
        if (!located.binding) continue;
        const value = unwrapPriority(located.binding.childForFieldName('expression'));
        if (!value || !isPlainString(value)) return [];
        const text = value.namedChildren.map((child) => child?.text ?? '').join('');
        // disko sets a device for every entry it emits (a partition's path, "none" for nodev) even where the model
        // does not know it: a hand-written one there is kept only when it is known to be the same.
        if (text === expected[field] || (expected[field] === undefined && field !== 'device')) continue;
        removed.push(removeBinding(scope.file, located.binding));
        removedCount++;
      }
      // The entry's own literal, forced: unwrap `lib.mkForce { … }` so disko's entry is kept.
      let unwrap: TextEdit | undefined;
      let entryBinding: ReturnType<typeof enclosing>;
      if (scope.prefix.length === 0 && definition.keyOrigin) {
        entryBinding = enclosing(scope.file, definition.keyOrigin.start, definition.keyOrigin.end, ['binding']);
        const wrapper = priorityWrapper(entryBinding?.childForFieldName('expression'));
        if (wrapper && definition.priority < diskoPriority) {
          if (wrapper.argument.startIndex !== scope.body.startIndex) return [];
          unwrap = edit(scope.file, wrapper.call.startIndex, wrapper.argument.startIndex, '');
        }
      }
      if (scope.prefix.length === 0 && entryBinding && removedCount > 0 && removedCount === bindingsOf(scope.body).length) {
        // Nothing of the user's is left in the entry: the binding goes.
        edits.push(removeBinding(scope.file, entryBinding));
        continue;
      }
      edits.push(...removed, ...(unwrap ? [unwrap] : []));
      unwrapped ||= unwrap !== undefined;
    }
    if (edits.length === 0) return [];
    return [{ title: `Keep disko's entry for ${entry.mountPoint} (remove the conflicting device/fsType${unwrapped ? ', drop lib.mkForce' : ''})`, preferred: true, edits }];
  },
};
