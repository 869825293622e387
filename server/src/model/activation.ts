/**
 * When a path exists for the activation-time consumers that read it (RULES.md §E0, EARLY).
 *
 * NixOS activation runs in the initrd (`initrd-nixos-activation.service`, systemd stage 1) or at the start of stage 2
 * (scripted), in both cases after the needed-for-boot mounts and before every other mount (F4). Its snippets run in
 * dependency order, and among unconstrained ones by name (F50), so:
 *
 * - `users` (user creation, `hashedPasswordFile`), sops-nix `setupSecretsForUsers` and agenix all run before
 *   impermanence's `persist-files` (F44, F47, F49);
 * - sops-nix `setupSecrets` runs after `users`, and by name after `persist-files` (F44, F50).
 *
 * With `systemd.sysusers` or userborn, users and the secrets tools run as systemd units instead (F43, F47): the
 * order above does not hold, and every rule that reasons about it stays silent.
 */
import type { HostModel } from './host-model';
import { PATHS_NEEDED_FOR_BOOT } from './host-model';
import { IMPERMANENCE_SYSTEMD_MOUNTS, inputAtLeast, type InputVersions } from './input-versions';
import type { PathCover } from './persistence';

/** Who reads the path during activation. */
export type ActivationConsumer =
  /** `users` itself (hashedPasswordFile), sops-nix `setupSecretsForUsers`, agenix `agenixInstall`: before `users`. */
  | 'before-users'
  /** sops-nix `setupSecrets` (regular secrets): after `users` and, by name, after impermanence's `persist-files`. */
  | 'sops-regular';

export interface ActivationMode {
  mode: 'activation' | 'systemd' | 'unknown';
  why: string;
}

/** Users are created by systemd-sysusers or userborn instead of the activation script (F43, F47). */
export function usersBySystemd(host: HostModel): boolean | undefined {
  let unknown = false;
  for (const option of [
    ['systemd', 'sysusers', 'enable'],
    ['services', 'userborn', 'enable'],
  ]) {
    const resolved = host.config.at(...option).bool();
    if (resolved.state === 'known' && resolved.value) return true;
    if (resolved.state === 'unknown') {
      host.noteUnknown(resolved);
      unknown = true;
    }
  }
  return unknown ? undefined : false;
}

/** How sops-nix (with `tool = 'sops'`) or agenix installs secrets: in the activation script, or as systemd units. */
export function activationMode(host: HostModel, tool: 'sops' | 'agenix' | 'users'): ActivationMode {
  if (!host.isNixosHost) return { mode: 'unknown', why: 'the rest of the host is not in reach' };
  if (tool === 'sops') {
    const flag = host.config.at('sops', 'useSystemdActivation').bool();
    if (flag.state === 'known') return flag.value ? { mode: 'systemd', why: 'sops.useSystemdActivation = true' } : { mode: 'activation', why: 'sops.useSystemdActivation = false' };
    if (flag.state === 'unknown') return { mode: 'unknown', why: flag.what };
  }
  const systemd = usersBySystemd(host);
  if (systemd === undefined) return { mode: 'unknown', why: 'whether systemd.sysusers or userborn is enabled is unknown' };
  if (systemd) return { mode: 'systemd', why: 'users are created by systemd-sysusers or userborn' };
  return { mode: 'activation', why: 'the activation script' };
}

/**
 * EARLY(P, consumer): true, false, or undefined when it cannot be known. `neededForBootFlag` is whether
 * `fileSystems."D".neededForBoot = true` is written for an impermanence directory D (the sops-nix README advice).
 */
export function earlyFor(host: HostModel, cover: PathCover, consumer: ActivationConsumer, versions: InputVersions): boolean | undefined {
  switch (cover.kind) {
    case 'none':
      return false;
    case 'mount':
      return host.neededForBoot(cover.entry);
    case 'imp-file':
      // `persist-files` links files after `users`; only sops-nix's regular secrets come after it (F49, F50).
      return consumer === 'sops-regular';
    case 'imp-dir': {
      // Directories of pathsNeededForBoot are bound in the initrd, before activation (F49).
      if (PATHS_NEEDED_FOR_BOOT.includes(cover.entry.path)) return true;
      const flagged = host.fileSystemAt(cover.entry.path);
      const flag = flagged ? host.neededForBoot(flagged) : false;
      if (flag === undefined) return undefined;
      if (!flag) return false;
      // Before impermanence PR #272 the directory was a fileSystems entry of its own, so neededForBoot made it a
      // stage-1 mount; since then the flag declares a device-less mount instead (impermanence#301, F49).
      const newer = inputAtLeast(versions.impermanence, IMPERMANENCE_SYSTEMD_MOUNTS);
      if (newer === undefined) return undefined;
      return !newer;
    }
    case 'pres-file':
    case 'pres-dir':
      // Whether preservation's initrd mounts precede activation is not established (FACTS §7): silence.
      if (cover.entry.inInitrd === undefined || cover.entry.inInitrd) return undefined;
      return false;
  }
}

/** A phrase for messages: why a covered path is not there when the consumer reads it. */
export function lateBecause(cover: PathCover): string {
  switch (cover.kind) {
    case 'none':
      return 'it lies on the erased root';
    case 'mount':
      return `${cover.entry.mountPoint} is mounted only in stage 2 (no neededForBoot), after activation`;
    case 'imp-file':
      return `impermanence links files in its ${'`persist-files`'} activation snippet, which runs after users are created and after every tool that runs before them`;
    case 'imp-dir':
      return `impermanence binds ${cover.entry.path} in stage 2, after activation (only directories of NixOS's needed-for-boot list are bound in the initrd)`;
    case 'pres-file':
    case 'pres-dir':
      return `preservation sets up entries without ${'`inInitrd = true`'} in stage 2, after activation`;
  }
}
