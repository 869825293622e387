/**
 * # Set neededForBoot on both sides
 *
 * The disko VM (`vmWithDisko`) takes its mounts from `virtualisation.fileSystems`, the real machine from
 * `fileSystems` (F28): a mount needed for boot on one side must be on the other too. Sets the missing side —
 * `fileSystems."<mp>".neededForBoot = true;` (in the file that writes the entry, else where the VM side is set),
 * or `virtualisation.vmVariantWithDisko.virtualisation.fileSystems."<mp>".neededForBoot = true;` (next to the real
 * system's `neededForBoot`). Fixes `vm-variant-needed-for-boot`.
 *
 * ```nix
 * # before
 * fileSystems."/persist".neededForBoot = true;
 * # after
 * fileSystems."/persist".neededForBoot = true;
 * virtualisation.vmVariantWithDisko.virtualisation.fileSystems."/persist".neededForBoot = true;
 * ```
 */
import type { HostModel } from '../../model/host-model';
import type { Workspace } from '../../model/workspace';
import { setInFile, setInHost, setNeededForBoot } from '../filesystem-edits';
import type { TextEdit } from '../nix-edit';
import type { FixProvider } from '../types';

const VM_FILESYSTEMS = ['virtualisation', 'vmVariantWithDisko', 'virtualisation', 'fileSystems'];

/** The real system's side: in the file that writes the entry, else in the file that sets the VM's side. */
function realSide(host: HostModel, workspace: Workspace, mountPoint: string): TextEdit[] | undefined {
  const entry = host.fileSystemAt(mountPoint);
  const written = entry && (entry.writtenDefinitions.some((definition) => !definition.conditional) || entry.node.child('neededForBoot').definitions.some((definition) => definition.synthetic !== 'disko'));
  if (written) return setNeededForBoot(host, workspace, mountPoint);
  const variant = host.config.at('virtualisation', 'vmVariantWithDisko');
  const vmFile = [variant.at('virtualisation', 'fileSystems', mountPoint, 'neededForBoot'), variant.at('fileSystems', mountPoint, 'neededForBoot')].flatMap((node) => node.definitions)[0]?.file;
  const result = setInFile(workspace, vmFile, ['fileSystems', mountPoint, 'neededForBoot'], 'true');
  return result ? [result] : setNeededForBoot(host, workspace, mountPoint);
}

/** The VM's side, next to the real system's `neededForBoot`. */
function vmSide(host: HostModel, workspace: Workspace, mountPoint: string): TextEdit[] | undefined {
  const path = [...VM_FILESYSTEMS, mountPoint, 'neededForBoot'];
  const option = host.fileSystemAt(mountPoint)?.neededForBootOption;
  const realFile = option?.state === 'known' ? option.definitions.find((definition) => definition.synthetic !== 'disko')?.file : undefined;
  const result = setInFile(workspace, realFile, path, 'true') ?? setInHost(host, workspace, path, 'true');
  return result && [result];
}

export const provider: FixProvider = {
  name: 'mirror-vm-needed-for-boot',
  codes: ['vm-variant-needed-for-boot'],
  fixes({ finding, host, workspace }) {
    const mountPoint = finding.data?.mountPoint as string | undefined;
    const side = finding.data?.side as 'real' | 'vm' | undefined;
    if (!mountPoint || !side) return [];
    const edits = side === 'real' ? realSide(host, workspace, mountPoint) : vmSide(host, workspace, mountPoint);
    if (!edits) return [];
    const title = side === 'real' ? `Set fileSystems.${JSON.stringify(mountPoint)}.neededForBoot = true on the real system too` : `Set neededForBoot = true for ${mountPoint} in the disko VM too (virtualisation.vmVariantWithDisko)`;
    return [{ title, preferred: true, edits }];
  },
};
