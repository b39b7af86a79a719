#!/usr/bin/env bash
# Runs every check and test of opdev: formatting, clippy, and the whole test suite (unit tests and
# end-to-end tests against real anvil, PostgreSQL, Prometheus, Alertmanager and Chromium).
# What the tests need and is missing gets installed: Debian packages by scripts/deps.sh (as root,
# or with password-less sudo), anvil by opdev itself from npm, solcjs and playwright-core from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null 2>&1 || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm is required: opdev installs anvil and solc from npm" >&2; exit 1; }

scripts/deps.sh --tests

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
echo "== fuzz (5 s per target; cargo-fuzz installed when missing; FUZZ=0 skips)"
scripts/fuzz.sh
