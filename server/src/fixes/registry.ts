/**
 * The one registry of quick fixes. Each provider lives in its own file under handlers/ with a before/after example.
 * The CLI's `fixable` flag and the language server's code actions both read it, so a finding is called fixable only
 * when a fix is actually computed for it.
 *
 * Two rules hold for every fix here, whatever its handler computed. A fix that edits a generated file
 * (generated.ts) is not offered: the edit would be lost on the tool's next run. A fix that writes into the module a
 * host does not have yet (new-module.ts) creates that file and imports it, and is offered only to a caller that can
 * create files (an LSP client announcing the `create` resource operation).
 */
import path from 'node:path';
import type { HostModel } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import type { Finding } from '../rules/types';
import { provider as addBlankSnapshotHook } from './handlers/add-blank-snapshot-hook';
import { provider as addNixDataset } from './handlers/add-nix-dataset';
import { provider as addRollbackR } from './handlers/add-rollback-r';
import { provider as declareParentDataset } from './handlers/declare-parent-dataset';
import { provider as disableAutosnapshot } from './handlers/disable-autosnapshot';
import { provider as doubleUnitNameBackslash } from './handlers/double-unit-name-backslash';
import { provider as useNearestTarget } from './handlers/use-nearest-target';
import { provider as disableDefaultDependencies } from './handlers/disable-default-dependencies';
import { provider as enableSystemdInitrd } from './handlers/enable-systemd-initrd';
import { provider as fixZfsutil } from './handlers/fix-zfsutil';
import { provider as guardSnapshotHook } from './handlers/guard-snapshot-hook';
import { provider as guardBtrfsSnapshotHook } from './handlers/guard-btrfs-snapshot-hook';
import { provider as mountBtrfsTopLevel } from './handlers/mount-btrfs-top-level';
import { provider as setTmpfsRootMode } from './handlers/set-tmpfs-root-mode';
import { provider as insertDiskoMount } from './handlers/insert-disko-mount';
import { provider as insertRollbackService } from './handlers/insert-rollback-service';
import { provider as insertBtrfsRollbackService } from './handlers/insert-btrfs-rollback-service';
import { provider as keepDiskoEntry } from './handlers/keep-disko-entry';
import { provider as makeOneshot } from './handlers/make-oneshot';
import { provider as markNeededForBoot } from './handlers/mark-needed-for-boot';
import { provider as mirrorVmNeededForBoot } from './handlers/mirror-vm-needed-for-boot';
import { provider as moveScriptedRollback } from './handlers/move-scripted-rollback';
import { provider as orderAfterImport } from './handlers/order-after-import';
import { provider as orderBeforeMount } from './handlers/order-before-mount';
import { provider as pullInUnit } from './handlers/pull-in-unit';
import { provider as renameImportUnit } from './handlers/rename-import-unit';
import { provider as replaceRollbackSnapshot } from './handlers/replace-rollback-snapshot';
import { provider as setDiskoMountpoint } from './handlers/set-disko-mountpoint';
import { provider as setHostId } from './handlers/set-host-id';
import { provider as useDatasetDevice } from './handlers/use-dataset-device';
import { provider as useDeclaredDataset } from './handlers/use-declared-dataset';
import { provider as useHostZfsPackage } from './handlers/use-host-zfs-package';
import { provider as useRootDataset } from './handlers/use-root-dataset';
import { provider as useUuidDevnodes } from './handlers/use-uuid-devnodes';
import { provider as persistMachineId } from './handlers/persist-machine-id';
import { provider as persistSshHostKeys } from './handlers/persist-ssh-host-keys';
import { provider as persistVarLibNixos } from './handlers/persist-var-lib-nixos';
import { provider as preserveMachineIdInInitrd } from './handlers/preserve-machine-id-in-initrd';
import { provider as secretNeededForUsers } from './handlers/secret-needed-for-users';
import { provider as readKeyFromPersistentCopy } from './handlers/read-key-from-persistent-copy';
import { provider as persistSecretsKey } from './handlers/persist-secrets-key';
import { isGenerated } from './generated';
import { type TextEdit, createFile } from './nix-edit';
import { newModulePlan, newModuleText } from './new-module';
import type { FixOptions, FixProvider, QuickFix } from './types';

export const FIX_PROVIDERS: FixProvider[] = [
  insertRollbackService,
  insertBtrfsRollbackService,
  enableSystemdInitrd,
  orderAfterImport,
  orderBeforeMount,
  pullInUnit,
  disableDefaultDependencies,
  makeOneshot,
  fixZfsutil,
  markNeededForBoot,
  mirrorVmNeededForBoot,
  disableAutosnapshot,
  declareParentDataset,
  setDiskoMountpoint,
  addNixDataset,
  addBlankSnapshotHook,
  addRollbackR,
  doubleUnitNameBackslash,
  useNearestTarget,
  guardSnapshotHook,
  guardBtrfsSnapshotHook,
  mountBtrfsTopLevel,
  setTmpfsRootMode,
  moveScriptedRollback,
  renameImportUnit,
  replaceRollbackSnapshot,
  setHostId,
  useHostZfsPackage,
  useRootDataset,
  useUuidDevnodes,
  useDatasetDevice,
  useDeclaredDataset,
  insertDiskoMount,
  keepDiskoEntry,
  persistVarLibNixos,
  persistMachineId,
  persistSshHostKeys,
  preserveMachineIdInInitrd,
  secretNeededForUsers,
  readKeyFromPersistentCopy,
  persistSecretsKey,
];

/** Without a word from the caller, no fix creates a file: a caller that cannot apply the creation would lose it. */
export const NO_FILE_CREATION: FixOptions = { createFiles: false };

/**
 * A fix as it may be offered: its edits of the host's planned new module become the creation of that file (with
 * those edits applied to the empty module) and its import. Undefined when the fix may not be offered: it edits a
 * generated file, or it needs a new file and the caller cannot create one.
 */
export function admissible(fix: QuickFix, host: HostModel, workspace: Workspace, options: FixOptions): QuickFix | undefined {
  // Only a fix that writes into a file the workspace does not hold can be writing into the planned module.
  const plan = fix.edits.some((item) => !item.create && !workspace.source(item.file)) ? newModulePlan(host, workspace) : undefined;
  const planned = plan ? fix.edits.filter((item) => item.file === plan.path && !item.create) : [];
  let edits = fix.edits;
  let title = fix.title;
  if (plan && planned.length > 0) {
    if (!options.createFiles) return undefined;
    const content = newModuleText(plan, planned);
    if (content === undefined) return undefined;
    edits = [createFile(plan.path, content), plan.importEdit, ...fix.edits.filter((item) => !planned.includes(item))];
    title = `${fix.title} (in a new module ${path.basename(plan.path)}, imported by ${path.basename(plan.importedFrom)})`;
  }
  if (edits.some((item) => item.create && !options.createFiles)) return undefined;
  if (edits.some((item) => editsGeneratedFile(item, workspace))) return undefined;
  return { ...fix, title, edits };
}

function editsGeneratedFile(item: TextEdit, workspace: Workspace): boolean {
  if (item.create) return false;
  const file = workspace.source(item.file);
  // An edit of a file that cannot be read is no edit anyone can apply; it counts as forbidden too.
  return !file || isGenerated(file);
}

/** The fixes for one finding; a provider that fails is skipped (and reported through `onError`). */
export function fixesFor(finding: Finding, host: HostModel, workspace: Workspace, onError?: (provider: string, error: unknown) => void, options: FixOptions = NO_FILE_CREATION): QuickFix[] {
  const fixes: QuickFix[] = [];
  for (const provider of FIX_PROVIDERS) {
    if (!provider.codes.includes(finding.code)) continue;
    try {
      for (const fix of provider.fixes({ finding, host, workspace })) {
        const offered = fix.edits.length > 0 ? admissible(fix, host, workspace, options) : undefined;
        if (offered) fixes.push(offered);
      }
    } catch (error) {
      onError?.(provider.name, error);
    }
  }
  // One preferred fix per finding: the first that claims it.
  let preferred = false;
  return fixes.map((fix) => {
    const keep = fix.preferred && !preferred;
    preferred ||= keep;
    return { ...fix, preferred: keep };
  });
}

/** Whether an editor that can create files (VS Code can) offers a fix for the finding: the CLI's `fixable`. */
export function isFixable(finding: Finding, host: HostModel | undefined, workspace: Workspace): boolean {
  return host !== undefined && fixesFor(finding, host, workspace, undefined, { createFiles: true }).length > 0;
}
