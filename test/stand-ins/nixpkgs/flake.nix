# STAND-IN for nixpkgs, used only by test/install/flake.test.ts (nixpkgs is not reachable on the test machines).
# It is passed to our flake with `--override-input nixpkgs path:test/stand-ins/nixpkgs`. Each builder records the
# arguments it is given instead of building anything, so that the test can read what our flake asks nixpkgs for.
# One check is real: like nixpkgs' importNpmLock, the stand-in reads package-lock.json from `npmRoot` and requires
# a `resolved` URL and an `integrity` hash for every package it would fetch.
{
  outputs =
    { self }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      pkgsFor =
        system:
        let
          pkgs = {
            inherit system;
            lib = {
              licenses.mit = {
                spdxId = "MIT";
              };
              escapeShellArg = argument: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString argument)}'";
            };
            callPackage =
              fn: overrides:
              let
                f = if builtins.isFunction fn then fn else import fn;
              in
              f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
            buildNpmPackage = args: {
              standIn = "buildNpmPackage";
              inherit args;
              outPath = "/nix/store/00000000000000000000000000000000-stand-in-${args.pname}-${args.version}";
            };
            importNpmLock = {
              __functor =
                _: args:
                let
                  lock = builtins.fromJSON (builtins.readFile (args.npmRoot + "/package-lock.json"));
                  fetched = builtins.removeAttrs lock.packages [ "" ];
                  unpinned = builtins.filter (name: !(fetched.${name} ? link) && !(fetched.${name} ? resolved && fetched.${name} ? integrity)) (builtins.attrNames fetched);
                in
                if unpinned != [ ] then
                  throw "stand-in importNpmLock: no resolved URL or integrity for ${toString unpinned}"
                else
                  {
                    standIn = "importNpmLock";
                    inherit args;
                    packages = builtins.length (builtins.attrNames fetched);
                  };
              npmConfigHook = {
                standIn = "importNpmLock.npmConfigHook";
              };
            };
            runCommand = name: env: script: {
              standIn = "runCommand";
              inherit name env script;
              outPath = "/nix/store/00000000000000000000000000000000-stand-in-${name}";
            };
            mkShell = args: {
              standIn = "mkShell";
              inherit args;
            };
            nodejs_20 = {
              standIn = "nodejs_20";
              outPath = "/nix/store/00000000000000000000000000000000-stand-in-nodejs-20";
            };
            nix = {
              standIn = "nix";
              outPath = "/nix/store/00000000000000000000000000000000-stand-in-nix";
            };
          };
        in
        pkgs;
    in
    {
      legacyPackages = builtins.listToAttrs (map (system: { name = system; value = pkgsFor system; }) systems);
    };
}
