# `lib.check` of the flake: a derivation that runs the checker over a source tree, for a flake's `checks`.
# The build fails when `ephemeral-root check --strict` exits non-zero: an error-severity finding (exit 1), or nothing
# to check or unreadable input (exit 2). The report is printed in the build log and kept as $out.
{
  pkgs,
  ephemeral-root,
  src,
  host ? null,
  release ? null,
  name ? "ephemeral-root-check",
}:
let
  hostArgs = if host == null then "" else "--host ${pkgs.lib.escapeShellArg host}";
  releaseArgs = if release == null then "" else "--release ${pkgs.lib.escapeShellArg release}";
in
pkgs.runCommand name { nativeBuildInputs = [ ephemeral-root ]; } ''
  cd ${src}
  status=0
  ephemeral-root check . --strict ${hostArgs} ${releaseArgs} > "$TMPDIR/report.txt" || status=$?
  cat "$TMPDIR/report.txt"
  if [ "$status" -ne 0 ]; then
    echo "ephemeral-root check failed (exit $status)" >&2
    exit "$status"
  fi
  cp "$TMPDIR/report.txt" "$out"
''
