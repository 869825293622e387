/**
 * The one registry of rules, in the order of RULES.md. Each rule lives in its own file under handlers/.
 */
import { rule as rootBlankSnapshotMissing } from './handlers/root-blank-snapshot-missing';
import { rule as rollbackSnapshotMismatch } from './handlers/rollback-snapshot-mismatch';
import { rule as rollbackTargetNotRoot } from './handlers/rollback-target-not-root';
import { rule as rollbackMissingR } from './handlers/rollback-missing-r';
import { rule as snapshotHookNotIdempotent } from './handlers/snapshot-hook-not-idempotent';
import { rule as blankSnapshotUnused } from './handlers/blank-snapshot-unused';
import { rule as initrdUnitsWithoutSystemdInitrd } from './handlers/initrd-units-without-systemd-initrd';
import { rule as scriptedHookWithSystemdInitrd } from './handlers/scripted-hook-with-systemd-initrd';
import { rule as scriptedRollbackWrongHook } from './handlers/scripted-rollback-wrong-hook';
import { rule as rollbackSelfImport } from './handlers/rollback-self-import';
import { rule as rollbackAfterMount } from './handlers/rollback-after-mount';
import { rule as rollbackNotAfterImport } from './handlers/rollback-not-after-import';
import { rule as importUnitNameMismatch } from './handlers/import-unit-name-mismatch';
import { rule as unknownInitrdUnit } from './handlers/unknown-initrd-unit';
import { rule as rollbackNotBeforeMount } from './handlers/rollback-not-before-mount';
import { rule as rollbackDefaultDependencies } from './handlers/rollback-default-dependencies';
import { rule as rollbackNotPulledIn } from './handlers/rollback-not-pulled-in';
import { rule as rollbackNotOneshot } from './handlers/rollback-not-oneshot';
import { rule as rollbackZfsBinary } from './handlers/rollback-zfs-binary';
import { rule as zfsDeviceNotDataset } from './handlers/zfs-device-not-dataset';
import { rule as filesystemDatasetUnknown } from './handlers/filesystem-dataset-unknown';
import { rule as poolNotInDisko } from './handlers/pool-not-in-disko';
import { rule as zfsutilMismatch } from './handlers/zfsutil-mismatch';
import { rule as diskoDatasetNotMounted } from './handlers/disko-dataset-not-mounted';
import { rule as duplicateFsDefinition } from './handlers/duplicate-fs-definition';
import { rule as mountpointNotAbsolute } from './handlers/mountpoint-not-absolute';
import { rule as persistNotNeededForBoot } from './handlers/persist-not-needed-for-boot';
import { rule as ephemeralParentNotNeededForBoot } from './handlers/ephemeral-parent-not-needed-for-boot';
import { rule as vmVariantNeededForBoot } from './handlers/vm-variant-needed-for-boot';
import { rule as nixOnEphemeralRoot } from './handlers/nix-on-ephemeral-root';
import { rule as bootOnEphemeralRoot } from './handlers/boot-on-ephemeral-root';
import { rule as zfsManagedBootPath } from './handlers/zfs-managed-boot-path';
import { rule as neededForBootOnDataPool } from './handlers/needed-for-boot-on-data-pool';
import { rule as hostidMissing } from './handlers/hostid-missing';
import { rule as devnodesVm } from './handlers/devnodes-vm';
import { rule as implicitParentDataset } from './handlers/implicit-parent-dataset';
import { rule as autosnapshotOnEphemeral } from './handlers/autosnapshot-on-ephemeral';
import { rule as syntaxError } from './handlers/syntax-error';
import { rule as importNotFound } from './handlers/import-not-found';
import { rule as btrfsRollbackNestedSubvolumes } from './handlers/btrfs-rollback-nested-subvolumes';
import { rule as btrfsPersistentSubvolNestedInRoot } from './handlers/btrfs-persistent-subvol-nested-in-root';
import { rule as btrfsRollbackMountsSubvolume } from './handlers/btrfs-rollback-mounts-subvolume';
import { rule as btrfsRollbackNotAfterDevice } from './handlers/btrfs-rollback-not-after-device';
import { rule as scriptedRollbackBeforeResume } from './handlers/scripted-rollback-before-resume';
import { rule as unitNameEscapeLost } from './handlers/unit-name-escape-lost';
import { rule as initrdUnitPathHidesTools } from './handlers/initrd-unit-path-hides-tools';
import { rule as wantedbyUnknownTarget } from './handlers/wantedby-unknown-target';
import { rule as tmpfsRootMode } from './handlers/tmpfs-root-mode';
import { rule as tmpfsRootNoSize } from './handlers/tmpfs-root-no-size';
import { rule as persistPathOnEphemeralRoot } from './handlers/persist-path-on-ephemeral-root';
import { rule as secretKeyNotPersisted } from './handlers/secret-key-not-persisted';
import { rule as secretKeyNotAtActivation } from './handlers/secret-key-not-at-activation';
import { rule as passwordSecretNotNeededForUsers } from './handlers/password-secret-not-needed-for-users';
import { rule as passwordFileNotAtActivation } from './handlers/password-file-not-at-activation';
import { rule as sshHostKeysNotPersisted } from './handlers/ssh-host-keys-not-persisted';
import { rule as imperativePasswordsLost } from './handlers/imperative-passwords-lost';
import { rule as varLibNixosNotPersisted } from './handlers/var-lib-nixos-not-persisted';
import { rule as machineIdPreservedLate } from './handlers/machine-id-preserved-late';
import { rule as machineIdNotPersisted } from './handlers/machine-id-not-persisted';
import { rule as zfsKeylocationFileNotInInitrd } from './handlers/zfs-keylocation-file-not-in-initrd';
import { rule as initrdSecretSourceEphemeral } from './handlers/initrd-secret-source-ephemeral';
import { rule as zfsRootImportNotForced } from './handlers/zfs-root-import-not-forced';
import { rule as evaluationFailed } from './handlers/evaluation-failed';
import type { Rule, RuleCode } from './types';

export const RULES: Rule[] = [
  rootBlankSnapshotMissing,
  rollbackSnapshotMismatch,
  rollbackTargetNotRoot,
  rollbackMissingR,
  snapshotHookNotIdempotent,
  blankSnapshotUnused,
  initrdUnitsWithoutSystemdInitrd,
  scriptedHookWithSystemdInitrd,
  scriptedRollbackWrongHook,
  rollbackSelfImport,
  rollbackAfterMount,
  rollbackNotAfterImport,
  importUnitNameMismatch,
  unknownInitrdUnit,
  rollbackNotBeforeMount,
  rollbackDefaultDependencies,
  rollbackNotPulledIn,
  rollbackNotOneshot,
  rollbackZfsBinary,
  zfsDeviceNotDataset,
  filesystemDatasetUnknown,
  poolNotInDisko,
  zfsutilMismatch,
  diskoDatasetNotMounted,
  duplicateFsDefinition,
  mountpointNotAbsolute,
  persistNotNeededForBoot,
  ephemeralParentNotNeededForBoot,
  vmVariantNeededForBoot,
  nixOnEphemeralRoot,
  bootOnEphemeralRoot,
  zfsManagedBootPath,
  neededForBootOnDataPool,
  hostidMissing,
  devnodesVm,
  implicitParentDataset,
  autosnapshotOnEphemeral,
  syntaxError,
  importNotFound,
  btrfsRollbackNestedSubvolumes,
  btrfsPersistentSubvolNestedInRoot,
  btrfsRollbackMountsSubvolume,
  btrfsRollbackNotAfterDevice,
  scriptedRollbackBeforeResume,
  unitNameEscapeLost,
  initrdUnitPathHidesTools,
  wantedbyUnknownTarget,
  tmpfsRootMode,
  tmpfsRootNoSize,
  persistPathOnEphemeralRoot,
  secretKeyNotPersisted,
  secretKeyNotAtActivation,
  passwordSecretNotNeededForUsers,
  passwordFileNotAtActivation,
  sshHostKeysNotPersisted,
  imperativePasswordsLost,
  varLibNixosNotPersisted,
  machineIdPreservedLate,
  machineIdNotPersisted,
  zfsKeylocationFileNotInInitrd,
  initrdSecretSourceEphemeral,
  zfsRootImportNotForced,
  evaluationFailed,
];

export const RULES_BY_CODE = new Map<RuleCode, Rule>(RULES.map((rule) => [rule.code, rule]));
