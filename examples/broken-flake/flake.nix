# A flake with one host whose rollback unit and disko layout disagree in several ways.
{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    disko.url = "github:nix-community/disko";
    impermanence.url = "github:nix-community/impermanence";
  };

  outputs =
    { nixpkgs, disko, impermanence, ... }:
    {
      nixosConfigurations.tern = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          disko.nixosModules.disko
          impermanence.nixosModules.impermanence
          ./hosts/tern/configuration.nix
        ];
      };
    };
}
