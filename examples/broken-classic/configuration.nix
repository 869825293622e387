# A classic /etc/nixos host (no flake) that still uses the scripted stage-1 rollback of older blog posts.
{ lib, ... }:
{
  imports = [
    ./hardware-configuration.nix
    "${builtins.fetchTarball "https://github.com/nix-community/disko/archive/master.tar.gz"}/module.nix"
    ./disko.nix
  ];

  boot.initrd.systemd.enable = true;
  boot.initrd.postDeviceCommands = lib.mkAfter ''
    zfs rollback -r rpool/local/root@blank
  '';

  fileSystems."/persist" = {
    device = "/dev/disk/by-label/persist";
    fsType = "zfs";
  };

  system.stateVersion = "24.11";
}
