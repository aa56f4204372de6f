#!/usr/bin/env bash
# Starts the local server on a free port with fresh data, drives the booking pages in headless
# Chromium (tests/browser), and stops the server. Called by scripts/test.sh.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
: "${CARGO_TARGET_DIR:?set by scripts/test.sh}"

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
node tests/browser/booking-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/booking-link-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/partner-booking-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/portal-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/waitlist-flow.mjs "http://127.0.0.1:$port" "$token"
