#!/usr/bin/env bash
# Runs every fuzz target under fuzz/ (the parsers of outside input: addresses, amounts, --chain
# endpoints, opdev.toml, the explorer's path and query values) for FUZZ_SECONDS each (default 5),
# with cargo-fuzz (libFuzzer). It installs cargo-fuzz from crates.io when it is missing, and uses
# the nightly toolchain when rustup has one; without nightly it builds on stable with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz's instrumentation flags are nightly-only). FUZZ=0 skips the run
# (the same properties still run, bounded, in the normal test suite: proptest).
# A crash fails the run; its input is left in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-5}"
if [ "${FUZZ:-1}" = "0" ]; then
  echo "== fuzz: skipped (FUZZ=0)"
  exit 0
fi
if cargo +nightly --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  echo "== fuzz: no nightly toolchain; building on stable with RUSTC_BOOTSTRAP=1" >&2
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz from crates.io (cargo install --locked cargo-fuzz)" >&2
  cargo install --locked cargo-fuzz
fi
cd fuzz
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(cargo "${toolchain[@]}" fuzz list); do
  echo "== fuzz $target (${seconds} s)"
  # No sanitizer (the code under test is safe Rust) and --dev (no optimisation): the build of
  # the targets and their dependencies stays as short as it can.
  if ! cargo "${toolchain[@]}" fuzz run --dev --sanitizer none "$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$log" || true
done
