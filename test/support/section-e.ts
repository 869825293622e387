import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './engine';

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

/** The rule codes of RULES.md sections F (btrfs roots) and G (tmpfs roots), in the catalog's order. */
export const SECTION_F_G_CODES = [
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
] as const;

/** The codes whose fixtures also run through the CLI and the language server: sections E, F and G. */
export const FRONT_END_CODES: readonly string[] = [...SECTION_E_CODES, ...SECTION_F_G_CODES];

/** Every rule fixture of section E, `test/fixtures/rules/<code>/<case>/`, in the catalog's order. */
export function sectionEFixtures(): { code: string; name: string; source: string }[] {
  return ruleFixtures(SECTION_E_CODES);
}

/** Every rule fixture of some codes, `test/fixtures/rules/<code>/<case>/`, in the order of the codes. */
export function ruleFixtures(codes: readonly string[]): { code: string; name: string; source: string }[] {
  const root = path.join(FIXTURES, 'rules');
  return codes.flatMap((code) => {
    const dir = path.join(root, code);
    const names = existsSync(dir) ? readdirSync(dir).filter((name) => !name.startsWith('.')).sort() : [];
    return names.map((name) => ({ code, name, source: path.join(dir, name) }));
  });
}
