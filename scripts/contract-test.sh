#!/usr/bin/env bash
# Starts the local server on a free port with fresh data and runs Schemathesis against its
# OpenAPI document with every check and an admin token, for a bounded number of examples per
# operation (tests/contract/schemathesis.toml says what is configured and why). Any finding
# fails. Called by scripts/test.sh, after the tools step installed Schemathesis.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
: "${CARGO_TARGET_DIR:?set by scripts/test.sh}"
: "${SCHEMATHESIS:?set by scripts/test.sh}"
examples="${CONTRACT_EXAMPLES:-30}"

cargo build --quiet --bin clinic-local
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$data/server.log"
PORT="$port" DATA_DIR="$data" PUBLIC_RATE_LIMIT=off "$CARGO_TARGET_DIR/debug/clinic-local" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { cat "$log"; exit 1; }
token="$(DATA_DIR="$data" "$CARGO_TARGET_DIR/debug/clinic-local" token --clinic demo)"

status=0
"$SCHEMATHESIS" --config-file tests/contract/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
  --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" \
  --max-examples "$examples" --no-color >"$data/schemathesis.txt" 2>&1 || status=$?
if [ "$status" -ne 0 ] || grep -q "panicked" "$log"; then
  cat "$data/schemathesis.txt"
  grep -A5 "panicked" "$log" || true
  exit 1
fi
tail -n 8 "$data/schemathesis.txt"
