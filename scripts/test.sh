#!/usr/bin/env bash
# The test command: installs what the tests need (idempotently, outside the repository), then
# checks formatting, lints, the SAM template, and runs every test.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

tools="${CLINIC_TOOLS_DIR:-$HOME/.cache/clinic-booking}"
venv="$tools/venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$tools/target}"
export MOTO_PYTHON="$venv/bin/python"

step() { printf '\n== %s\n' "$*"; }

step "tools: moto server, cfn-lint and independent iCalendar and PDF readers in $venv"
if ! "$venv/bin/python" -c 'import moto.server, werkzeug, icalendar, pypdf' 2>/dev/null || [ ! -x "$venv/bin/cfn-lint" ]; then
  mkdir -p "$tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.*' 'cfn-lint==1.*' 'icalendar==7.*' 'pypdf==5.*'
fi
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'

step "tools: Schemathesis (the OpenAPI contract check) in $tools/schemathesis"
export SCHEMATHESIS="$tools/schemathesis/bin/schemathesis"
if ! "$SCHEMATHESIS" --version 2>/dev/null | grep -q '4.32.5'; then
  python3 -m venv "$tools/schemathesis"
  "$tools/schemathesis/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
"$SCHEMATHESIS" --version

step "tools: Chromium (Debian) and the browser-test packages (npm)"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

step "rust components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "SAM template"
"$venv/bin/cfn-lint" infra/template.yaml
echo "cfn-lint: clean"

step "tests"
cargo test --workspace --quiet

step "booking pages in headless Chromium"
bash scripts/browser-test.sh

step "the OpenAPI contract: Schemathesis, every check, admin token"
bash scripts/contract-test.sh
