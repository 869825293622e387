/**
 * A generated large host for benchmarks and fuzzing: a valid NixOS configuration of about `lines` lines with many
 * services, users and fileSystems entries, plus a disko layout and a correct rollback unit, so every rule has work.
 */
export function generatedConfiguration(lines: number): string {
  const out: string[] = [
    '{ config, lib, pkgs, ... }:',
    'let',
    '  pool = "rpool";',
    'in',
    '{',
    '  imports = [ ./disko.nix ];',
    '  networking.hostId = "8425e349";',
    '  boot.initrd.systemd.enable = true;',
    '  boot.initrd.systemd.services.rollback = {',
    '    description = "Rollback the root dataset";',
    '    wantedBy = [ "initrd.target" ];',
    '    after = [ "zfs-import-rpool.service" ];',
    '    before = [ "sysroot.mount" ];',
    '    unitConfig.DefaultDependencies = "no";',
    '    serviceConfig.Type = "oneshot";',
    '    script = "zfs rollback -r ${pool}/local/root@blank";',
    '  };',
    '  fileSystems."/persist".neededForBoot = true;',
  ];
  for (let index = 0; out.length < lines - 2; index++) {
    out.push(
      `  systemd.services.generated-${index} = {`,
      `    description = "Generated service ${index}";`,
      '    wantedBy = [ "multi-user.target" ];',
      `    after = [ "network.target" ];`,
      `    serviceConfig = { Type = "simple"; ExecStart = "\${pkgs.coreutils}/bin/sleep ${index}"; Restart = "always"; };`,
      `    environment.INDEX = "${index}";`,
      '  };',
      `  users.users.user${index} = { isNormalUser = true; home = "/home/user${index}"; extraGroups = [ "wheel" ]; };`,
      `  environment.etc."generated/${index}.conf".text = ''`,
      `    value = ${index}`,
      `  '';`,
    );
  }
  out.push('  system.stateVersion = "24.11";', '}');
  return `${out.join('\n')}\n`;
}

export const GENERATED_DISKO = `{
  disko.devices = {
    disk.main = {
      type = "disk";
      device = "/dev/vda";
      content = {
        type = "gpt";
        partitions = {
          ESP = { size = "512M"; type = "EF00"; content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; }; };
          zfs = { size = "100%"; content = { type = "zfs"; pool = "rpool"; }; };
        };
      };
    };
    zpool.rpool = {
      type = "zpool";
      rootFsOptions = { canmount = "off"; "com.sun:auto-snapshot" = "false"; };
      datasets = {
        local = { type = "zfs_fs"; options.mountpoint = "none"; };
        "local/root" = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
          mountpoint = "/";
          postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^rpool/local/root@blank$' || zfs snapshot rpool/local/root@blank";
        };
        "local/nix" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/nix"; };
        "local/persist" = { type = "zfs_fs"; options.mountpoint = "legacy"; mountpoint = "/persist"; };
      };
    };
  };
}
`;
