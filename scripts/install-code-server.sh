#!/usr/bin/env bash
# Installs the VS Code server bundled in npm code-server@4.100.3 (VS Code 1.100.3, Node 20)
# into .vscode-test/code-server/ for the integration-test launcher (test/vscode/launcher.js).
#
# Why not a plain `npm i code-server`: npm 11 blocks dependency install scripts (allowScripts),
# code-server's postinstall wants --unsafe-perm as root, @vscode/ripgrep downloads from GitHub
# (unreachable here), kerberos needs libkrb5-dev and node-pty runs `npx node-gyp` (needs
# npm_config_yes=true because ~/.npmrc has yes=false). So this script does the postinstall by hand.
#
# Needs: node 20, npm, g++/make/python3, and the Debian packages chromium, ripgrep, libkrb5-dev.
# Network: only the npm registry (prebuild downloads from GitHub fail and fall back to source builds).
# Idempotent: a stamp file records a finished install; rerun with --force to reinstall.
#
# Usage: scripts/install-code-server.sh [--force]
#   env CODE_SERVER_DIR   install prefix (default: <repo>/.vscode-test/code-server)
set -euo pipefail

CODE_SERVER_VERSION="4.100.3"
VSCODE_VERSION="1.100.3"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${CODE_SERVER_DIR:-$REPO_ROOT/.vscode-test/code-server}"
STAMP="$PREFIX/.installed-$CODE_SERVER_VERSION"
CS="$PREFIX/node_modules/code-server"
VSC="$CS/lib/vscode"

die() { echo "install-code-server: error: $*" >&2; exit 1; }
log() { echo "install-code-server: $*"; }

FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument: $a" ;;
  esac
done

# ---- prerequisites (one clear line each) -------------------------------------------------
command -v node >/dev/null || die "node not found (need Node 20)"
command -v npm >/dev/null || die "npm not found"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" = "20" ] || die "code-server@$CODE_SERVER_VERSION needs Node 20, found $(node --version)"
[ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || [ -n "${EPHEMERAL_ROOT_CHROMIUM:-}" ] \
  || die "chromium missing: apt-get install -y chromium"
[ -x /usr/bin/rg ] || die "ripgrep missing (/usr/bin/rg): apt-get install -y ripgrep"
[ -f /usr/include/gssapi/gssapi.h ] || die "Kerberos headers missing (gssapi/gssapi.h): apt-get install -y libkrb5-dev"
for t in g++ make python3; do
  command -v "$t" >/dev/null || die "$t missing (needed for native module builds): apt-get install -y build-essential python3"
done

if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] && [ -f "$VSC/out/server-main.js" ]; then
  log "already installed ($STAMP), nothing to do (use --force to reinstall)"
  exit 0
fi

START=$(date +%s)
export npm_config_yes=true          # node-pty's build calls `npx node-gyp`; ~/.npmrc has yes=false
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export npm_config_loglevel="${npm_config_loglevel:-warn}"

if [ "$FORCE" = 1 ]; then
  log "--force: removing $PREFIX"
  rm -rf "$PREFIX"
fi
rm -f "$STAMP"
mkdir -p "$PREFIX"

# A package.json of our own so npm treats PREFIX as its project root (never the repo's package.json).
# code-server's own postinstall is denied: steps 2-3 below do its work in a way that works offline.
cat >"$PREFIX/package.json" <<EOF
{
  "name": "ephemeral-root-code-server",
  "private": true,
  "description": "VS Code $VSCODE_VERSION server from code-server@$CODE_SERVER_VERSION, installed by scripts/install-code-server.sh",
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "argon2": true, "code-server": false }
}
EOF

# ---- 1. the package itself, no scripts -----------------------------------------------------
log "npm i --ignore-scripts code-server@$CODE_SERVER_VERSION"
(cd "$PREFIX" && npm install --ignore-scripts --no-package-lock) || die "npm install code-server@$CODE_SERVER_VERSION failed"
[ -f "$VSC/package.json" ] || die "code-server unpacked but $VSC/package.json is missing"

# ---- 2. the equivalent of code-server's postinstall.sh -------------------------------------
log "rebuilding argon2"
(cd "$PREFIX" && npm rebuild argon2) || die "argon2 rebuild failed"

log "npm install --omit=dev in lib/vscode (native modules: spdlog, node-pty, kerberos, watcher, ...)"
(
  cd "$VSC"
  npm pkg set \
    allowScripts.@parcel/watcher=true allowScripts.@vscode/deviceid=true allowScripts.@vscode/spdlog=true \
    allowScripts.kerberos=true allowScripts.native-watchdog=true allowScripts.node-pty=true \
    allowScripts.@vscode/windows-registry=false allowScripts.@vscode/windows-process-tree=false \
    allowScripts.@vscode/ripgrep=false --json
  npm install --omit=dev
) || die "npm install in $VSC failed (see output above)"

log "symlinks (node_modules.asar, remote-cli, helpers, ripgrep -> /usr/bin/rg)"
(
  cd "$VSC"
  ln -sfn node_modules node_modules.asar
  if [ -d bin/remote-cli ]; then (cd bin/remote-cli && ln -sfn code-linux.sh code-server); fi
  if [ -d bin/helpers ]; then (cd bin/helpers && ln -sfn browser-linux.sh browser.sh); fi
  mkdir -p node_modules/@vscode/ripgrep/bin
  ln -sfn /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
)

log "npm install --omit=dev in lib/vscode/extensions"
(cd "$VSC/extensions" && npm install --omit=dev) || die "npm install in $VSC/extensions failed"

# ---- 3. smoke checks -------------------------------------------------------------------------
[ -f "$VSC/out/server-main.js" ] || die "$VSC/out/server-main.js missing after install"
GOT="$(node -p "require('$VSC/package.json').version")"
[ "$GOT" = "$VSCODE_VERSION" ] || die "expected VS Code $VSCODE_VERSION in $VSC, found $GOT"
(cd "$VSC" && node -e "require('@vscode/spdlog'); require('node-pty'); require('kerberos')") \
  || die "native modules in $VSC do not load (spdlog/node-pty/kerberos)"
"$VSC/node_modules/@vscode/ripgrep/bin/rg" --version >/dev/null || die "ripgrep symlink is broken"

date -u +%Y-%m-%dT%H:%M:%SZ >"$STAMP"
log "done: VS Code $GOT server at $VSC ($(( $(date +%s) - START )) s)"
