#!/usr/bin/env bash
# Starts the local server on a free port with fresh data and runs Schemathesis against its
# OpenAPI document with every check and an admin token, for a bounded number of examples per
# operation (tests/contract/schemathesis.toml says what is configured and why). Any finding
# fails. Called by scripts/test.sh, after the tools step installed Schemathesis.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
: "${SCHEMATHESIS:?set by scripts/test.sh}"
examples="${CONTRACT_EXAMPLES:-30}"

# shellcheck source=scripts/local-server.sh
source scripts/local-server.sh

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
