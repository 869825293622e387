/**
 * # vm-variant-needed-for-boot
 *
 * **What.** `neededForBoot` is set only under `virtualisation.vmVariantWithDisko` (the real system lacks it), or only
 * on the real system for a disko mount while the host is run with `vmWithDisko`.
 *
 * **Why.** disko's interactive VM puts disko's mounts into `virtualisation.fileSystems`, which replaces
 * `fileSystems` in the VM; its docs set `virtualisation.vmVariantWithDisko.virtualisation.fileSystems."/persist".neededForBoot`
 * for that reason (F28). Each side needs its own setting.
 *
 * **At boot.** The VM works and the real machine does not (or the other way round): persisted data lands on the
 * ephemeral root.
 *
 * **Fix.** Set it on both.
 *
 * ```nix
 * fileSystems."/persist".neededForBoot = true;
 * virtualisation.vmVariantWithDisko.virtualisation.fileSystems."/persist".neededForBoot = true;
 * ```
 */
import { PATHS_NEEDED_FOR_BOOT } from '../../model/host-model';
import { entryOrigin, finding, q } from '../support';
import type { Finding, Rule } from '../types';

export const rule: Rule = {
  code: 'vm-variant-needed-for-boot',
  severity: 'warning',
  summary: 'neededForBoot is set for only one of the real system and the disko VM variant.',
  facts: ['F28'],
  check(host) {
    if (host.kind !== 'nixos') return [];
    const findings: Finding[] = [];
    const variant = host.config.at('virtualisation', 'vmVariantWithDisko');
    const variantMounts = [variant.at('virtualisation', 'fileSystems'), variant.at('fileSystems')];
    const variantSets = (mountPoint: string) => variantMounts.map((node) => node.at(mountPoint, 'neededForBoot').bool());
    for (const node of variantMounts) {
      for (const mountPoint of node.childNames()) {
        if (PATHS_NEEDED_FOR_BOOT.includes(mountPoint)) continue;
        const inVariant = node.at(mountPoint, 'neededForBoot').bool();
        if (inVariant.state !== 'known' || !inVariant.value) continue;
        const real = host.fileSystemAt(mountPoint);
        if (!real) continue;
        const option = real.neededForBootOption;
        if (option.state === 'unknown' || (option.state === 'known' && option.value)) continue;
        if (option.state === 'absent' && real.node.child('neededForBoot').covers.length > 0) continue;
        const origin = inVariant.definitions[0].keyOrigin ?? inVariant.definitions[0].origin;
        if (!origin) continue;
        findings.push(finding(this, origin, `${q(mountPoint)} is needed for boot only in the disko VM variant; the real system mounts it too late. Set fileSystems.${JSON.stringify(mountPoint)}.neededForBoot = true as well.`, { data: { mountPoint, side: 'real' } }));
      }
    }
    if (host.input.usesVmWithDisko && host.diskoInEffect() === true && !variant.open) {
      for (const entry of host.fileSystems().entries) {
        if (entry.conditional || entry.diskoDefinitions.length === 0 || PATHS_NEEDED_FOR_BOOT.includes(entry.mountPoint)) continue;
        const option = entry.neededForBootOption;
        if (option.state !== 'known' || !option.value) continue;
        if (variantSets(entry.mountPoint).some((resolved) => resolved.state !== 'absent')) continue;
        const origin = option.definitions[0].keyOrigin ?? entryOrigin(entry);
        if (!origin) continue;
        findings.push(
          finding(this, origin, `${q(entry.mountPoint)} is needed for boot on the real system, but the host is run with vmWithDisko, whose VM takes its mounts from virtualisation.fileSystems: set virtualisation.vmVariantWithDisko.virtualisation.fileSystems.${JSON.stringify(entry.mountPoint)}.neededForBoot = true too.`, {
            data: { mountPoint: entry.mountPoint, side: 'vm' },
          }),
        );
      }
    }
    return findings;
  },
};
