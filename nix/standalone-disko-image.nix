# Standalone disko images, from NixOS Ephemeral Root ("Run disko on a VM image" -> "Standalone disko file").
#
# Wraps one disko file that is not part of a flake into a minimal NixOS system with disko's NixOS module, and
# returns that system's image script: disko's `config.system.build.diskoImagesScript` (lib/make-disk-image.nix).
# Run in an empty folder with `--build-memory <MiB>`, the script starts a QEMU VM in which disko's
# destroy-format-mount script formats one image per `disko.devices.disk.<name>` (the VM sees them as /dev/vda,
# /dev/vdb, ...; the `device` paths written in the file are never touched), installs this minimal system and
# leaves `<imageName>.<imageFormat>` in the folder. The system has no boot loader: the images show the layout,
# they are not meant to boot.
#
#   nix build -L --impure --out-link ./images-script --file nix/standalone-disko-image.nix \
#     --argstr diskoFile /abs/path/to/disko.nix --argstr imageFormat raw --arg zfs true
#   ./images-script --build-memory 2048
#
# Arguments:
#   diskoFile    absolute path of the disko file: a module that sets `disko.devices` (an attribute set or a
#                module function), or a plain set of devices (`{ disk = ...; zpool = ...; }`)
#   imageFormat  "raw" or "qcow2" (disko.imageBuilder.imageFormat)
#   zfs          build the image VM with ZFS (the layout has zpools)
#   hostId       networking.hostId, which ZFS requires; any 8 hex digits do for throw-away images
#   nixpkgs      the nixpkgs to build with (default: <nixpkgs> from NIX_PATH)
#   disko        disko's source (default: its master branch)
{
  diskoFile,
  imageFormat ? "raw",
  zfs ? true,
  hostId ? "8425e349",
  nixpkgs ? <nixpkgs>,
  disko ? builtins.fetchTarball "https://github.com/nix-community/disko/archive/master.tar.gz",
  system ? builtins.currentSystem,
}:
let
  file = /. + diskoFile;
  imported = import file;
  # A module (function or set with `disko`) is used as it is; a plain set of devices is put under disko.devices.
  layout =
    if builtins.isFunction imported || imported ? disko || imported ? imports then
      file
    else
      {
        _file = file;
        disko.devices = imported;
      };
  eval = import (nixpkgs + "/nixos/lib/eval-config.nix") {
    inherit system;
    modules = [
      (disko + "/module.nix")
      layout
      (
        { lib, ... }:
        {
          disko.imageBuilder.imageFormat = imageFormat;
          boot.loader.grub.enable = false;
          boot.supportedFilesystems = lib.optional zfs "zfs";
          networking.hostId = lib.mkDefault hostId;
          # Only when the layout mounts nothing at / (disko's fileSystems have normal priority and win).
          fileSystems."/" = lib.mkDefault {
            device = "none";
            fsType = "tmpfs";
          };
          documentation.enable = false;
          system.stateVersion = lib.mkDefault lib.trivial.release;
        }
      )
    ];
  };
in
eval.config.system.build.diskoImagesScript
