#!/usr/bin/env bash
# Runs every fuzz target under fuzz/ (the parsers of outside input: addresses, amounts, --chain
# endpoints, opdev.toml, the explorer's path and query values) for FUZZ_SECONDS each (default 5),
# with cargo-fuzz on a nightly toolchain. Without nightly or cargo-fuzz it says so and skips (exit
# 0): the same properties run on stable, bounded, in the normal test suite (proptest).
# A crash fails the run; its input is left in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-5}"
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "== fuzz: skipped: no nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== fuzz: skipped: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)"
  exit 0
fi
cd fuzz
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(cargo +nightly fuzz list); do
  echo "== fuzz $target (${seconds} s)"
  # No sanitizer (the code under test is safe Rust) and --dev (no optimisation): the build of
  # the targets and their dependencies stays as short as it can.
  if ! cargo +nightly fuzz run --dev --sanitizer none "$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$log" || true
done
