#!/usr/bin/env bash
# The run command: builds the local server into the same folder the test command uses (one build
# for both) and starts it, or passes its arguments on (`token --clinic demo`, `--reset`, `openapi`).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

tools="${CLINIC_TOOLS_DIR:-$HOME/.cache/clinic-booking}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$tools/target}"
exec cargo run --quiet --bin clinic-local -- "$@"
