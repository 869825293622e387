/**
 * # duplicate-fs-definition
 *
 * **What.** A mount point is emitted by disko and also written by hand with a different `device` or `fsType`, or
 * with `lib.mkForce` hiding such a difference.
 *
 * **Why.** disko's module defines `fileSystems` at normal priority (`lib.mkIf cfg.enableConfig`, F26), and
 * `fileSystems.<n>.device` is a checked string type that merges only equal values (F34): a different hand-written
 * value at the same priority fails evaluation with "The option `fileSystems."/x".device' has conflicting definition
 * values". `lib.mkForce` silences the conflict by dropping disko's whole entry — including the `zfsutil` option it
 * computed (F23).
 *
 * **At build or boot.** A different `device` or `fsType` at normal priority: the build fails, **error**. Hidden by
 * `lib.mkForce`: the build passes and the mount may differ from the layout (another dataset, no `zfsutil`): warning.
 *
 * **Fix.** Keep disko's entry and write only what disko does not: `neededForBoot`.
 *
 * ```nix
 * # before
 * fileSystems."/persist" = lib.mkForce { device = "rpool/persist"; fsType = "zfs"; neededForBoot = true; };
 * # after
 * fileSystems."/persist".neededForBoot = true;
 * ```
 */
import type { Definition } from '../../model/config';
import { type Origin, stringText } from '../../model/values';
import { finding, q, related } from '../support';
import type { Finding, Rule } from '../types';

/** disko's value of a field of its entry (`device`, `fsType`), read from its own definition of the entry. */
function diskoField(definitions: Definition[], field: string): { text?: string; origin?: Origin } | undefined {
  for (const definition of definitions) {
    if (definition.value.kind !== 'attrs') continue;
    const entry = definition.value.entries.get(field);
    if (!entry) continue;
    const value = entry.thunk.force();
    return { text: stringText(value), origin: entry.thunk.origin ?? value.origin };
  }
  return undefined;
}

export const rule: Rule = {
  code: 'duplicate-fs-definition',
  severity: 'error',
  summary: 'A mount point is defined by disko and again by hand with a different device or fsType (a build error unless lib.mkForce hides it).',
  facts: ['F34', 'F26', 'F23'],
  check(host) {
    if (host.diskoInEffect() !== true) return [];
    const findings: Finding[] = [];
    for (const entry of host.fileSystems().entries) {
      // All definitions of the entry, before the module system drops the weaker ones.
      const all = entry.node.definitions;
      const disko = all.filter((definition) => definition.synthetic === 'disko');
      const written = all.filter((definition) => definition.synthetic !== 'disko' && !definition.conditional);
      if (disko.length === 0 || written.length === 0) continue;
      const diskoPriority = Math.min(...disko.map((definition) => definition.priority));
      // `fileSystems."/x" = lib.mkForce { … }` drops disko's whole entry (the element is a submodule, F26).
      const entryForced = written.some((definition) => definition.priority < diskoPriority);
      const entryWeaker = written.every((definition) => definition.priority > diskoPriority);
      if (entryWeaker) continue;
      for (const field of ['device', 'fsType'] as const) {
        const diskoValue = diskoField(disko, field);
        if (!diskoValue?.text) continue;
        // The host's own definitions of the field that survive at the entry level.
        const own = entry.node
          .child(field)
          .definitions.filter((definition) => definition.synthetic !== 'disko' && !definition.conditional)
          .sort((a, b) => a.priority - b.priority)[0];
        if (!own?.origin) continue;
        const ownText = stringText(own.value);
        if (ownText === undefined || ownText === diskoValue.text) continue;
        // `device = lib.mkDefault "…"` yields to disko's value: no conflict, nothing hidden.
        if (!entryForced && own.priority > diskoPriority) continue;
        const hidden = entryForced || own.priority < diskoPriority;
        const how = entryForced
          ? `lib.mkForce hides the conflict by dropping disko's whole entry, so the mount no longer matches the layout`
          : own.priority < diskoPriority
            ? `lib.mkForce hides the conflict, so the mount no longer matches the layout`
            : `NixOS rejects the build with "conflicting definition values"`;
        findings.push(
          finding(this, own.origin, `disko already defines fileSystems.${JSON.stringify(entry.mountPoint)} with ${field} = ${q(diskoValue.text)}, but this says ${q(ownText)}: ${how}. Keep disko's entry and set only what disko does not (neededForBoot) here.`, {
            severity: hidden ? 'warning' : 'error',
            related: [related(diskoValue.origin, `disko's ${field} for ${entry.mountPoint}`)],
            data: { entry },
          }),
        );
        break;
      }
    }
    return findings;
  },
};
