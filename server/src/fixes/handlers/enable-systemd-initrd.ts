/**
 * # Turn systemd stage 1 on
 *
 * Sets `boot.initrd.systemd.enable = true;` (replacing `false`), in the file that already configures
 * `boot.initrd.systemd`, so the rollback unit defined there runs. Fixes `initrd-units-without-systemd-initrd`.
 *
 * ```nix
 * # before
 * boot.initrd.systemd.enable = false;
 * # after
 * boot.initrd.systemd.enable = true;
 * ```
 */
import { setAttribute } from '../nix-edit';
import { targetFor } from '../targets';
import type { FixProvider } from '../types';

export const provider: FixProvider = {
  name: 'enable-systemd-initrd',
  codes: ['initrd-units-without-systemd-initrd'],
  fixes({ host, workspace }) {
    const path = ['boot', 'initrd', 'systemd', 'enable'];
    const target = targetFor(host, workspace, path);
    if (!target) return [];
    return [{ title: 'Turn systemd stage 1 on (boot.initrd.systemd.enable = true)', preferred: true, edits: [setAttribute(target.file, target.body, path, 'true')] }];
  },
};
