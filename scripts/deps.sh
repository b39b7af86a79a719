#!/usr/bin/env bash
# Installs the Debian packages opdev's devnet services use when they are missing: PostgreSQL
# (indexer, faucet), Prometheus and Alertmanager (monitoring); with --tests also Chromium (the
# explorer's browser test), zsh and fish (`opdev env` and completion tests) and Docker Engine (the
# Docker runtime's tests), whose daemon it starts when none answers. As root it runs apt-get;
# otherwise sudo when it needs no password; otherwise it prints the command to run and fails.
# With --tests it also installs cargo-nextest from crates.io when it is missing (the test runner
# scripts/test.sh prefers).
set -euo pipefail

if [ "${1:-}" = "--tests" ] && ! cargo nextest --version >/dev/null 2>&1; then
  echo "== installing cargo-nextest from crates.io (cargo install --locked cargo-nextest)" >&2
  cargo install --locked cargo-nextest
fi

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
tests=false
if [ "${1:-}" = "--tests" ]; then
  tests=true
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v zsh >/dev/null 2>&1 || missing+=(zsh)
  command -v fish >/dev/null 2>&1 || missing+=(fish)
  command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || missing+=(docker.io)
fi

# Starts dockerd in the background when no Docker daemon answers, and waits for it.
start_docker() {
  docker version >/dev/null 2>&1 && return 0
  echo "== starting dockerd (log: /var/log/opdev-dockerd.log)" >&2
  "${sudo[@]}" sh -c 'nohup dockerd >/var/log/opdev-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker version >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "dockerd did not answer within 30 s; see /var/log/opdev-dockerd.log" >&2
  return 1
}

need_root=false
[ "${#missing[@]}" -gt 0 ] && need_root=true
if $tests && ! docker version >/dev/null 2>&1; then need_root=true; fi
$need_root || exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "opdev needs these Debian packages: ${missing[*]:-none} (and, for tests, a running dockerd)" >&2
  echo "install them: sudo apt-get update && sudo apt-get install ${missing[*]:-}" >&2
  echo "(or run without them: opdev up --no-indexer --no-faucet --no-monitoring)" >&2
  exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if $tests; then
  start_docker
fi
