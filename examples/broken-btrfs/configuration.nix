# A btrfs ephemeral root with the mistakes seen in public configurations: the rollback mounts the root subvolume
# instead of the top level, deletes the root without its nested subvolumes (from the second boot the delete fails),
# and is wanted by a misspelt target, so nothing starts it.
{ ... }:
{
  imports = [ ./disko.nix ];

  boot.loader.systemd-boot.enable = true;
  boot.initrd.systemd.enable = true;
  boot.initrd.systemd.services.rollback-root = {
    description = "Restore the root subvolume from its blank snapshot";
    wantedBy = [ "intitrd.target" ];
    after = [ "dev-mapper-crypted.device" ];
    requires = [ "dev-mapper-crypted.device" ];
    before = [ "sysroot.mount" ];
    unitConfig.DefaultDependencies = "no";
    serviceConfig.Type = "oneshot";
    script = ''
      mkdir -p /btrfs_tmp
      mount -o subvol=root /dev/mapper/crypted /btrfs_tmp
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
