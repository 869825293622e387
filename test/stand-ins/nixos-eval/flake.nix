# A STAND-IN for nixpkgs, used only by the tests of the evaluation-backed mode (docs/evaluation.md).
#
# This machine's Nix (2.8) has no nixpkgs and no network. The tests lock a fixture's `nixpkgs` input to this flake
# (`nix flake lock --override-input nixpkgs path:…`), so that real Nix evaluates the fixture's
# `nixosConfigurations.<host>.config` and real JSON comes back. `lib.nixosSystem` here is a small module system written
# for the tests (lib.nix): imports, options with types and defaults, mkIf/mkMerge/mkOverride/mkOrder, priorities and
# "option does not exist" errors as NixOS has them; the options are a small subset of NixOS's (nixos/options.nix),
# declared with NixOS's names, types and defaults. Nothing else of nixpkgs is here: no packages are built or fetched.
{
  outputs = { self }: {
    lib = import ./lib.nix;
  };
}
