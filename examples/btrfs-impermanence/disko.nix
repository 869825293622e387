# One NVMe disk: an ESP at /boot and a LUKS container holding a btrfs with four subvolumes. The root subvolume is
# erased at every boot (see configuration.nix); its blank snapshot is taken right after disko creates it.
{
  disko.devices.disk.main = {
    type = "disk";
    device = "/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T000000X";
    content = {
      type = "gpt";
      partitions = {
        ESP = {
          size = "1G";
          type = "EF00";
          content = {
            type = "filesystem";
            format = "vfat";
            mountpoint = "/boot";
            mountOptions = [ "umask=0077" ];
          };
        };
        luks = {
          size = "100%";
          content = {
            type = "luks";
            name = "crypted";
            content = {
              type = "btrfs";
              extraArgs = [ "-f" ];
              postCreateHook = ''
                mkdir -p /tmp/btrfs-top
                mount -o subvol=/ /dev/mapper/crypted /tmp/btrfs-top
                btrfs subvolume show /tmp/btrfs-top/root-blank >/dev/null 2>&1 || btrfs subvolume snapshot -r /tmp/btrfs-top/root /tmp/btrfs-top/root-blank
                umount /tmp/btrfs-top
              '';
              subvolumes = {
                "/root" = {
                  mountpoint = "/";
                  mountOptions = [ "compress=zstd" "noatime" ];
                };
                "/nix" = {
                  mountpoint = "/nix";
                  mountOptions = [ "compress=zstd" "noatime" ];
                };
                "/persist" = {
                  mountpoint = "/persist";
                  mountOptions = [ "compress=zstd" "noatime" ];
                };
                "/log" = {
                  mountpoint = "/var/log";
                  mountOptions = [ "compress=zstd" "noatime" ];
                };
              };
            };
          };
        };
      };
    };
  };
}
