#!/usr/bin/env bash
# The benchmark command (not part of the test command): prints store round trips and time per
# operation, then each function's release binary size for arm64 (built with cargo-lambda).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tools="${CLINIC_TOOLS_DIR:-$HOME/.cache/clinic-booking}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$tools/target}"

echo "== store round trips and time per operation"
cargo bench --quiet -p clinic-shared --bench store_round_trips
echo
echo "== Patient Connect: cost of one executed action"
cargo bench --quiet -p clinic-shared --bench connect_actions
echo
echo "== availability computation"
cargo bench --quiet -p clinic-shared --bench availability

echo
echo "== release binary size per function (arm64, cargo lambda build --release --arm64)"
lambda_venv="$tools/cargo-lambda-venv"
if [ ! -x "$lambda_venv/bin/cargo-lambda" ]; then
  python3 -m venv "$lambda_venv"
  "$lambda_venv/bin/pip" install --quiet --disable-pip-version-check 'cargo-lambda==1.*'
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null
PATH="$lambda_venv/bin:$PATH" cargo lambda build --release --arm64 --quiet \
  $(for crate in functions/*/; do printf -- '--package %s ' "$(basename "$crate")"; done)
for crate in functions/*/; do
  name="$(basename "$crate")"
  size=$(stat -c %s "$CARGO_TARGET_DIR/lambda/$name/bootstrap")
  awk -v n="$name" -v s="$size" 'BEGIN { printf "%-20s %8.1f MiB\n", n, s / 1048576 }'
done
