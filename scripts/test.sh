#!/usr/bin/env bash
# Runs every check and test of opdev: formatting, clippy, and the whole test suite (unit tests and
# end-to-end tests against real anvil processes). Installs what the tests need when it is missing:
# anvil comes from opdev itself (npm), solcjs from npm (for the bytecode check).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
need cargo || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
need npm || { echo "npm is required: opdev installs anvil and solc from npm" >&2; exit 1; }

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --profile ci
else
  cargo test --workspace --locked
fi
