# The few NixOS options the tests need, with NixOS's names, types and defaults (a stand-in, see ../flake.nix).
{ lib, ... }:
let
  inherit (lib) mkOption types;
  listOfStr = mkOption { type = types.listOf types.str; default = [ ]; };
  unit = types.submodule ({ name, ... }: {
    options = {
      enable = mkOption { type = types.bool; default = true; };
      description = mkOption { type = types.str; default = ""; };
      after = listOfStr; before = listOfStr; wants = listOfStr; requires = listOfStr;
      wantedBy = listOfStr; requiredBy = listOfStr; conflicts = listOfStr;
      unitConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
      serviceConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
      script = mkOption { type = types.lines; default = ""; };
      preStart = mkOption { type = types.lines; default = ""; };
      path = mkOption { type = types.listOf types.anything; default = [ ]; };
    };
  });
  hook = mkOption { type = types.lines; default = ""; };
in
{
  options = {
    _module.args = mkOption { type = types.attrsOf types.anything; default = { }; };
    nixpkgs.hostPlatform = mkOption { type = types.anything; default = "x86_64-linux"; };
    system.stateVersion = mkOption { type = types.str; default = "24.11"; };
    networking.hostName = mkOption { type = types.str; default = "nixos"; };
    networking.hostId = mkOption { type = types.nullOr types.str; default = null; };
    fileSystems = mkOption {
      default = { };
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          mountPoint = mkOption { type = types.str; default = name; };
          device = mkOption { type = types.nullOr types.str; default = null; };
          fsType = mkOption { type = types.str; default = "auto"; };
          options = mkOption { type = types.listOf types.nonEmptyStr; default = [ "defaults" ]; };
          neededForBoot = mkOption { type = types.bool; default = false; };
          depends = mkOption { type = types.listOf types.str; default = [ ]; };
        };
      }));
    };
    boot = {
      supportedFilesystems = mkOption { type = types.anything; default = [ ]; };
      zfs.devNodes = mkOption { type = types.str; default = "/dev/disk/by-id"; };
      zfs.forceImportRoot = mkOption { type = types.bool; default = true; };
      zfs.package = mkOption { type = types.package; default = { type = "derivation"; name = "zfs"; outPath = "/nix/store/00000000000000000000000000000000-zfs"; }; };
      initrd = {
        supportedFilesystems = mkOption { type = types.anything; default = [ ]; };
        systemd.enable = mkOption { type = types.bool; default = false; };
        systemd.services = mkOption { type = types.attrsOf unit; default = { }; };
        preDeviceCommands = hook; postDeviceCommands = hook; postResumeCommands = hook; postMountCommands = hook; preLVMCommands = hook;
      };
      loader.grub.enable = mkOption { type = types.bool; default = true; };
      loader.systemd-boot.enable = mkOption { type = types.bool; default = false; };
    };
    services.openssh = {
      enable = mkOption { type = types.bool; default = false; };
      hostKeys = mkOption { type = types.listOf (types.attrsOf types.anything); default = [ { path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ]; };
    };
    environment.etc = mkOption { type = types.attrsOf (types.attrsOf types.anything); default = { }; };
    users.mutableUsers = mkOption { type = types.bool; default = true; };
    users.users = mkOption {
      default = { };
      type = types.attrsOf (types.submodule {
        options = {
          isNormalUser = mkOption { type = types.bool; default = false; };
          hashedPassword = mkOption { type = types.nullOr types.str; default = null; };
          hashedPasswordFile = mkOption { type = types.nullOr types.str; default = null; };
          password = mkOption { type = types.nullOr types.str; default = null; };
          initialPassword = mkOption { type = types.nullOr types.str; default = null; };
          initialHashedPassword = mkOption { type = types.nullOr types.str; default = null; };
        };
      });
    };
  };
}
