#!/usr/bin/env bash
# Rebuilds Counter.bin and Counter.abi.json from Counter.sol with the pinned solcjs (npm: solc),
# offline once the npm package is cached. Usage: contracts/build.sh [OUT_DIR] (default: contracts/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
solc_version=0.8.28 # keep in step with crates/spec/src/versions.rs (SOLC)
tools="${XDG_CACHE_HOME:-$HOME/.cache}/opdev/solc-$solc_version"
if [ ! -x "$tools/node_modules/.bin/solcjs" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" "solc@$solc_version" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && "$tools/node_modules/.bin/solcjs" --bin --abi --optimize --optimize-runs 200 -o "$work" Counter.sol)
mkdir -p "$out"
tr -d '\n' < "$work/Counter_sol_Counter.bin" > "$out/Counter.bin"
python3 -m json.tool --indent 2 "$work/Counter_sol_Counter.abi" > "$out/Counter.abi.json"
echo "wrote $out/Counter.bin and $out/Counter.abi.json" >&2
