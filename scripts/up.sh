#!/usr/bin/env bash
# Brings up a devnet from this checkout: installs the Debian packages the services use when they
# are missing (scripts/deps.sh), builds opdev and runs `opdev up` with the arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
exec cargo run --release --quiet -- up "$@"
