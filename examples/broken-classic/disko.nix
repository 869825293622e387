{
  disko.devices = {
    disk.vda = {
      type = "disk";
      device = "/dev/vda";
      content = {
        type = "gpt";
        partitions = {
          ESP = {
            size = "512M";
            type = "EF00";
            content = {
              type = "filesystem";
              format = "vfat";
              mountpoint = "/boot";
            };
          };
          zfs = {
            size = "100%";
            content = {
              type = "zfs";
              pool = "rpool";
            };
          };
        };
      };
    };
    zpool.rpool = {
      type = "zpool";
      rootFsOptions.canmount = "off";
      postCreateHook = "zfs snapshot rpool/local/root@blank";
      datasets = {
        local = {
          type = "zfs_fs";
          options.mountpoint = "none";
        };
        "local/root" = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
          mountpoint = "/";
        };
        "local/nix" = {
          type = "zfs_fs";
          options.mountpoint = "/nix";
        };
        "local/persist" = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
        };
      };
    };
  };
}
