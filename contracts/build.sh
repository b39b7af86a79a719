#!/usr/bin/env bash
# Rebuilds NAME.bin and NAME.abi.json from NAME.sol for each contract below with the pinned solcjs
# (npm: solc), offline once the npm package is cached. Usage: contracts/build.sh [OUT_DIR]
# (default: contracts/)
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
mkdir -p "$out"
for name in Counter OutputGame; do
  # One compiler run per contract, so each output depends only on its own source.
  (cd "$here" && "$tools/node_modules/.bin/solcjs" --bin --abi --optimize --optimize-runs 200 \
    -o "$work/$name" "$name.sol")
  tr -d '\n' < "$work/$name/${name}_sol_$name.bin" > "$out/$name.bin"
  python3 -m json.tool --indent 2 "$work/$name/${name}_sol_$name.abi" > "$out/$name.abi.json"
  echo "wrote $out/$name.bin and $out/$name.abi.json" >&2
done
