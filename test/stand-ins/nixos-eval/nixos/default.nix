# The stand-in's `<nixpkgs/nixos>` (see ../flake.nix): evaluates the configuration NIXOS_CONFIG names, as nixpkgs'
# nixos/default.nix does, with the stand-in's module system.
{ configuration ? builtins.getEnv "NIXOS_CONFIG" }:
(import ../lib.nix).nixosSystem { modules = [ configuration ]; }
