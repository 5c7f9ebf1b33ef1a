#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3) from the npm registry alone, for the extension-host and UI
# tests: its postinstall downloads are skipped, ripgrep comes from Debian, native modules are built with
# node-gyp. Adapted from a recipe tried on this kind of machine. Idempotent: a finished install is kept.
set -euo pipefail
export npm_config_yes=true   # node-pty's build runs `npx node-gyp`
DEST=${1:-"$(cd "$(dirname "$0")/../.." && pwd)/.vscode-test/code-server"}
CS="$DEST/node_modules/code-server"
if [ -f "$DEST/.installed" ]; then echo "code-server already installed in $DEST"; exit 0; fi
command -v rg >/dev/null || echo "warning: ripgrep (rg) is missing, search in VS Code will not work: apt-get install -y ripgrep" >&2
mkdir -p "$DEST" && cd "$DEST"
[ -f package.json ] || echo '{"name":"code-server-host","private":true}' > package.json
npm install --ignore-scripts --no-audit --no-fund code-server@4.100.3
npm rebuild --ignore-scripts=false argon2   # prebuilt download fails offline, falls back to node-gyp
cd "$CS/lib/vscode"
npm install --omit=dev --ignore-scripts --no-audit --no-fund
mkdir -p node_modules/@vscode/ripgrep/bin
if command -v rg >/dev/null; then ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg; fi
# kerberos is skipped: it is only used for proxy authentication
npm rebuild --ignore-scripts=false @vscode/spdlog node-pty native-watchdog @parcel/watcher
rm -rf node_modules.asar && ln -s node_modules node_modules.asar
(cd bin/remote-cli && rm -f code-server && ln -s code-linux.sh code-server)
(cd bin/helpers && rm -f browser.sh && ln -s browser-linux.sh browser.sh)
cd extensions
npm install --omit=dev --no-audit --no-fund
touch "$DEST/.installed"
echo "code-server installed in $DEST"
