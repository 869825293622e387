# A btrfs ephemeral root done right: the root subvolume is deleted (nested subvolumes first) and restored from its
# blank snapshot in stage 1, before / is mounted; /nix, /persist and /var/log are subvolumes of their own.
{ ... }:
{
  imports = [ ./disko.nix ];

  boot.loader.systemd-boot.enable = true;
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback-root = {
    description = "Restore the root subvolume from its blank snapshot";
    wantedBy = [ "initrd.target" ];
    after = [ "dev-mapper-crypted.device" ];
    requires = [ "dev-mapper-crypted.device" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = ''
      mkdir -p /btrfs_tmp
      mount -o subvol=/ /dev/mapper/crypted /btrfs_tmp
      # systemd creates /var/lib/machines and /var/lib/portables as subvolumes inside root: delete them first.
      btrfs subvolume list -o /btrfs_tmp/root | cut -f9 -d' ' | while read -r sv; do
        btrfs subvolume delete "/btrfs_tmp/$sv"
      done
      btrfs subvolume delete /btrfs_tmp/root
      btrfs subvolume snapshot /btrfs_tmp/root-blank /btrfs_tmp/root
      umount /btrfs_tmp
    '';
  };

  fileSystems."/persist".neededForBoot = true;
  environment.persistence."/persist" = {
    directories = [ "/var/lib/nixos" "/etc/ssh" ];
    files = [ "/etc/machine-id" ];
  };

  services.openssh.enable = true;
  system.stateVersion = "25.05";
}
