# A tmpfs root with two mistakes (see disko.nix): no mode=755 while sshd is on, and /boot on the tmpfs with GRUB.
{ ... }:
{
  imports = [ ./disko.nix ];

  boot.loader.grub.enable = true;
  boot.loader.grub.device = "/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T000000X";

  fileSystems."/persist".neededForBoot = true;
  environment.persistence."/persist" = {
    directories = [ "/var/lib/nixos" "/etc/ssh" ];
    files = [ "/etc/machine-id" ];
  };

  services.openssh.enable = true;
  system.stateVersion = "25.05";
}
