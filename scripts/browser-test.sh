#!/usr/bin/env bash
# Starts the local server on a free port with fresh data, drives the booking pages in headless
# Chromium (tests/browser), and stops the server. Called by scripts/test.sh.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# shellcheck source=scripts/local-server.sh
source scripts/local-server.sh
node tests/browser/booking-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/booking-link-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/partner-booking-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/portal-flow.mjs "http://127.0.0.1:$port" "$token"
node tests/browser/waitlist-flow.mjs "http://127.0.0.1:$port" "$token"
