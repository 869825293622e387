/**
 * What the NixOS modules of well-known flake inputs may set, among the options our rules read.
 *
 * A module from a flake input is not in reach (its source is not in the workspace). An input we know nothing about
 * might set anything, so it covers the whole configuration: rules that need an option to be unset stay silent. An input
 * this table knows covers only the option paths listed for it, so it no longer silences a rule about an option it
 * cannot touch (a host with home-manager can still be told that systemd stage 1 is off). Keyed by the input's URL as
 * flake.nix or flake.lock names it. The lists are deliberately wide (whole subtrees) where a project's modules set
 * many options: a path listed by mistake only silences a rule; a path missing could make one report falsely.
 *
 * disko, impermanence and preservation are not here: the host model reads what their modules do (modules.ts).
 */

export interface KnownInputModules {
  name: string;
  /** Matches the input's URL (`github:owner/repo`, `https://github.com/owner/repo`, `git+https://…`). */
  url: RegExp;
  /**
   * Option paths (and everything below them) its modules may set. An element `*` stands for any attribute name,
   * `prefix*` for the names that start with the prefix (a unit the module names after each user, say).
   */
  sets: string[][];
  /** Why: what its modules are for. */
  why: string;
}

export const KNOWN_INPUT_MODULES: KnownInputModules[] = [
  {
    name: 'home-manager',
    url: /nix-community\/home-manager\b/,
    // nixos/default.nix and nixos/common.nix (home-manager 004753a/05505bb): one `home-manager-<user>` service per
    // user, each user's `packages` with useUserPackages, `environment.pathsToLink`, warnings and assertions. Those
    // units are named after users and no rule looks for them; the users' other attributes are the host's own.
    sets: [['home-manager'], ['systemd', 'services', 'home-manager-*'], ['users', 'users', '*', 'packages'], ['environment', 'pathsToLink'], ['warnings'], ['assertions']],
    why: "its NixOS module builds each user's home configuration and one home-manager-<user> service in stage 2",
  },
  {
    name: 'sops-nix',
    url: /Mic92\/sops-nix\b/i,
    // Its own options (`sops.age.*`, `sops.secrets.<n>.path`, …) are declarations whose defaults secrets.ts models
    // from the facts (F43); the module itself defines only `sops.environment` in its namespace.
    // modules/sops/default.nix (sops-nix 6ade829) names its units sops-install-secrets (and, for users' secrets,
    // sops-install-secrets-for-users); its activation scripts are setupSecrets, setupSecretsForUsers, generate-age-key.
    sets: [['sops', 'environment'], ['system', 'activationScripts'], ['system', 'build'], ['systemd', 'services', 'sops-*'], ['environment', 'systemPackages'], ['environment', 'etc'], ['users', 'groups'], ['assertions']],
    why: 'its module decrypts secrets at activation (an activation script, or a stage-2 service)',
  },
  {
    name: 'agenix',
    url: /ryantm\/agenix\b/,
    // `age.identityPaths` and the secret paths are declaration defaults that secrets.ts models (F47). Its NixOS module
    // (modules/age.nix, agenix 019784c) sets only activation scripts (agenixNewGeneration, agenixInstall, agenixChown,
    // agenix, and the deps of `users`) and an assertion.
    sets: [['system', 'activationScripts'], ['assertions']],
    why: 'its module decrypts secrets in an activation script',
  },
  {
    name: 'nixos-hardware',
    url: /NixOS\/nixos-hardware\b/i,
    sets: [['hardware'], ['services'], ['boot', 'kernelParams'], ['boot', 'kernelModules'], ['boot', 'extraModulePackages'], ['boot', 'kernelPackages'], ['boot', 'initrd', 'availableKernelModules'], ['boot', 'initrd', 'kernelModules'], ['boot', 'blacklistedKernelModules'], ['environment']],
    why: 'its profiles set kernel modules and parameters, hardware and service options of a machine model',
  },
  {
    name: 'lanzaboote',
    url: /nix-community\/lanzaboote\b/,
    sets: [['boot', 'lanzaboote'], ['boot', 'loader'], ['boot', 'bootspec'], ['environment']],
    why: 'its module replaces the systemd-boot installer with a Secure Boot one',
  },
  {
    name: 'srvos',
    url: /nix-community\/srvos\b/,
    sets: [['boot'], ['networking'], ['systemd'], ['services'], ['environment'], ['users']],
    why: 'its server profiles set many defaults across boot, networking and systemd (among them, in recent versions, systemd stage 1)',
  },
];

/** The table's entry for an input's URL, if any. */
export function knownInputModules(url: string | undefined): KnownInputModules | undefined {
  return url ? KNOWN_INPUT_MODULES.find((entry) => entry.url.test(url)) : undefined;
}

/**
 * Whether a module inside a flake input is a secrets file: the input's name or the path inside it says "secret"
 * (`inputs.secrets`, `"${inputs.nix-secrets}/hosts.nix"`). Such repositories are private or encrypted (git-crypt,
 * agenix), cannot be read here, and hold values — passwords, keys, addresses — not the options our rules read, so
 * they are taken to set none of them. This is a guess, and findings that rest on it say so in `--explain`.
 */
export function isSecretsModule(inputName: string, pathInside: string): boolean {
  return /secret/i.test(inputName) || /secret/i.test(pathInside);
}
