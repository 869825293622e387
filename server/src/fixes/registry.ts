/**
 * The one registry of quick fixes. Each provider lives in its own file under handlers/ with a before/after example.
 * The CLI's `fixable` flag and the language server's code actions both read it, so a finding is called fixable only
 * when a fix is actually computed for it.
 */
import type { HostModel } from '../model/host-model';
import type { Workspace } from '../model/workspace';
import type { Finding } from '../rules/types';
import { provider as addBlankSnapshotHook } from './handlers/add-blank-snapshot-hook';
import { provider as addNixDataset } from './handlers/add-nix-dataset';
import { provider as addRollbackR } from './handlers/add-rollback-r';
import { provider as declareParentDataset } from './handlers/declare-parent-dataset';
import { provider as disableAutosnapshot } from './handlers/disable-autosnapshot';
import { provider as disableDefaultDependencies } from './handlers/disable-default-dependencies';
import { provider as enableSystemdInitrd } from './handlers/enable-systemd-initrd';
import { provider as fixZfsutil } from './handlers/fix-zfsutil';
import { provider as guardSnapshotHook } from './handlers/guard-snapshot-hook';
import { provider as insertDiskoMount } from './handlers/insert-disko-mount';
import { provider as insertRollbackService } from './handlers/insert-rollback-service';
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
import type { FixProvider, QuickFix } from './types';

export const FIX_PROVIDERS: FixProvider[] = [
  insertRollbackService,
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
  guardSnapshotHook,
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
];

/** The fixes for one finding; a provider that fails is skipped (and reported through `onError`). */
export function fixesFor(finding: Finding, host: HostModel, workspace: Workspace, onError?: (provider: string, error: unknown) => void): QuickFix[] {
  const fixes: QuickFix[] = [];
  for (const provider of FIX_PROVIDERS) {
    if (!provider.codes.includes(finding.code)) continue;
    try {
      for (const fix of provider.fixes({ finding, host, workspace })) if (fix.edits.length > 0) fixes.push(fix);
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

export function isFixable(finding: Finding, host: HostModel | undefined, workspace: Workspace): boolean {
  return host !== undefined && fixesFor(finding, host, workspace).length > 0;
}
