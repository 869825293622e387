# The npm package built with nixpkgs' buildNpmPackage: `npm ci` from package-lock.json (every tarball fetched by
# the hash the lock file records, through importNpmLock), `npm run build` (esbuild bundles and the two wasm files),
# then the files package.json lists, with `ephemeral-root` and `ephemeral-root-ls` in $out/bin.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_20,
  src,
}:
let
  manifest = builtins.fromJSON (builtins.readFile (src + "/package.json"));
in
buildNpmPackage {
  pname = manifest.name;
  inherit (manifest) version;
  inherit src;
  nodejs = nodejs_20;
  npmDeps = importNpmLock { npmRoot = src; };
  npmConfigHook = importNpmLock.npmConfigHook;
  # The bundles carry every runtime dependency; no native module is built (tree-sitter-nix ships C sources whose
  # node-gyp build is not needed: the grammar's wasm is committed).
  npmRebuildFlags = [ "--ignore-scripts" ];
  npmBuildScript = "build";
  meta = {
    description = manifest.description;
    homepage = manifest.repository.url;
    license = lib.licenses.mit;
    mainProgram = "ephemeral-root";
  };
}
