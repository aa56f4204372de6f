# Sourced by browser-test.sh and contract-test.sh: builds the local server, starts it on a free
# port with fresh data (stopped and removed on exit) and sets `port`, `data` and an admin `token`
# for the demo clinic.
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
