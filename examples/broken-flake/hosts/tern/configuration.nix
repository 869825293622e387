{ pkgs, ... }:
{
  imports = [ ./disko.nix ];

  networking.hostName = "tern";
  networking.hostId = "3f2b7c91";

  environment.persistence."/persist" = {
    directories = [
      "/var/lib/nixos"
      "/var/log"
    ];
  };

  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback = {
    description = "Rollback the root dataset to a blank snapshot";
    wantedBy = [ "initrd.target" ];
    after = [ "zfs-import-rpool.service" ];
    before = [ "initrd-root-fs.target" ];
    path = [ pkgs.zfs ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = "zfs rollback zroot/local/root@blank";
  };

  system.stateVersion = "25.05";
}
