/** The rule codes of RULES.md section E, "what must survive the rollback", in the catalog's order. */
export const SECTION_E_CODES = [
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
] as const;
