# A tmpfs root done right: mode=755 (sshd accepts key logins), a size limit, and what must survive kept on /persist.
{ ... }:
{
  imports = [ ./disko.nix ];

  boot.loader.systemd-boot.enable = true;

  fileSystems."/persist".neededForBoot = true;
  environment.persistence."/persist" = {
    directories = [ "/var/lib/nixos" "/etc/ssh" ];
    files = [ "/etc/machine-id" ];
  };

  services.openssh.enable = true;
  system.stateVersion = "25.05";
}
