# NixOS Ephemeral Root as a flake: the CLI (`ephemeral-root`) and the language server (`ephemeral-root-ls`) as one
# package, an app, an overlay, a development shell, and `lib.check` for a flake's `checks`.
#
#   nix run github:nixos-ephemeral-root/nixos-ephemeral-root -- check .
#
# In your own flake (`nix flake check` then fails on an error finding):
#
#   inputs.ephemeral-root.url = "github:nixos-ephemeral-root/nixos-ephemeral-root";
#   inputs.ephemeral-root.inputs.nixpkgs.follows = "nixpkgs";
#   checks.x86_64-linux.ephemeral-root = ephemeral-root.lib.check {
#     pkgs = nixpkgs.legacyPackages.x86_64-linux;
#     src = ./.;
#   };
{
  description = "Cross-checks NixOS ephemeral-root setups on ZFS: disko layouts against the NixOS configuration";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: builtins.listToAttrs (map (system: { name = system; value = f nixpkgs.legacyPackages.${system}; }) systems);
      # The package is built from this flake's own source; package-lock.json pins every npm dependency (importNpmLock
      # reads the hashes from it, so there is no hash here to keep in sync).
      packageFor = pkgs: pkgs.callPackage ./nix/package.nix { src = self; };
    in
    {
      packages = forAllSystems (pkgs: rec {
        ephemeral-root = packageFor pkgs;
        default = ephemeral-root;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${packageFor pkgs}/bin/ephemeral-root";
        };
        language-server = {
          type = "app";
          program = "${packageFor pkgs}/bin/ephemeral-root-ls";
        };
      });

      overlays.default = final: _prev: { ephemeral-root = packageFor final; };

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.nodejs_20
            pkgs.nix
          ];
        };
      });

      lib = {
        # A derivation that runs `ephemeral-root check --strict` on `src`: it fails (and prints the findings) when
        # there is an error-severity finding or nothing to check. Arguments: pkgs, src, and optionally host, release.
        check = args: import ./nix/check.nix ({ ephemeral-root = packageFor args.pkgs; } // args);
      };
    };
}
