#!/usr/bin/env bash
# Installs the Debian packages opdev's devnet services use when they are missing: PostgreSQL
# (indexer, faucet), Prometheus and Alertmanager (monitoring); with --tests also Chromium (the
# explorer's browser test). As root it runs apt-get; otherwise sudo when it needs no password;
# otherwise it prints the command to run and fails.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [ "${1:-}" = "--tests" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "opdev needs these Debian packages: ${missing[*]}" >&2
  echo "install them: sudo apt-get update && sudo apt-get install ${missing[*]}" >&2
  echo "(or run without them: opdev up --no-indexer --no-faucet --no-monitoring)" >&2
  exit 1
fi
echo "== installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
