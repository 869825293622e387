/**
 * What a rule is and what it reports. Rules are pure functions of a host model; they return findings and never
 * throw on purpose (the engine still isolates each one, so a bug in one rule cannot silence the others).
 */
import type { HostModel } from '../model/host-model';
import type { Origin } from '../model/values';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export const RULE_CODES = [
  'root-blank-snapshot-missing',
  'rollback-snapshot-mismatch',
  'rollback-target-not-root',
  'rollback-missing-r',
  'snapshot-hook-not-idempotent',
  'blank-snapshot-unused',
  'initrd-units-without-systemd-initrd',
  'scripted-hook-with-systemd-initrd',
  'scripted-rollback-wrong-hook',
  'rollback-self-import',
  'rollback-after-mount',
  'rollback-not-after-import',
  'import-unit-name-mismatch',
  'unknown-initrd-unit',
  'rollback-not-before-mount',
  'rollback-default-dependencies',
  'rollback-not-pulled-in',
  'rollback-not-oneshot',
  'rollback-zfs-binary',
  'zfs-device-not-dataset',
  'filesystem-dataset-unknown',
  'pool-not-in-disko',
  'zfsutil-mismatch',
  'disko-dataset-not-mounted',
  'duplicate-fs-definition',
  'mountpoint-not-absolute',
  'persist-not-needed-for-boot',
  'ephemeral-parent-not-needed-for-boot',
  'vm-variant-needed-for-boot',
  'nix-on-ephemeral-root',
  'boot-on-ephemeral-root',
  'zfs-managed-boot-path',
  'needed-for-boot-on-data-pool',
  'hostid-missing',
  'devnodes-vm',
  'implicit-parent-dataset',
  'autosnapshot-on-ephemeral',
  'syntax-error',
  'import-not-found',
  'btrfs-rollback-nested-subvolumes',
  'btrfs-persistent-subvol-nested-in-root',
  'btrfs-rollback-mounts-subvolume',
  'btrfs-rollback-not-after-device',
  'scripted-rollback-before-resume',
  'unit-name-escape-lost',
  'initrd-unit-path-hides-tools',
  'wantedby-unknown-target',
  'tmpfs-root-mode',
  'tmpfs-root-no-size',
  'persist-path-on-ephemeral-root',
  'secret-key-not-persisted',
  'secret-key-not-at-activation',
  'password-secret-not-needed-for-users',
  'password-file-not-at-activation',
  'ssh-host-keys-not-persisted',
  'imperative-passwords-lost',
  'var-lib-nixos-not-persisted',
  'machine-id-preserved-late',
  'machine-id-not-persisted',
  'zfs-keylocation-file-not-in-initrd',
  'initrd-secret-source-ephemeral',
  'zfs-root-import-not-forced',
  'evaluation-failed',
] as const;

export type RuleCode = (typeof RULE_CODES)[number];

export interface Related {
  origin: Origin;
  message: string;
}

export interface Finding {
  code: RuleCode;
  severity: Severity;
  message: string;
  origin: Origin;
  related: Related[];
  /** Rule-specific facts a quick fix needs (the rollback, the dataset, the snapshots to offer, …). */
  data?: Record<string, unknown>;
}

export interface Rule {
  code: RuleCode;
  /** The default severity (RULES.md); a finding may lower it when the nixpkgs release is unknown. */
  severity: Severity;
  /** One line for SARIF and the docs index. */
  summary: string;
  /** Facts of FACTS.md the rule rests on. */
  facts: string[];
  check(host: HostModel): Finding[];
}

/** Where each rule's documentation lives; `codeDescription.href` of every diagnostic. */
export const DOCS_BASE_URL = 'https://github.com/nixos-ephemeral-root/nixos-ephemeral-root/blob/main/docs/rules/';

export function docsUrl(code: string): string {
  return `${DOCS_BASE_URL}${code}.md`;
}
