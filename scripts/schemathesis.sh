#!/usr/bin/env bash
# Contract fuzzing: schemathesis (pinned, in a venv under target/) against the real `api`
# handlers served natively on loopback (tests/src/bin/api_server.rs, needs the local Redis).
# Fails on any failed check. scripts/schemathesis.toml lists the statuses that depend on
# data or configuration (and why).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=target/schemathesis/venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

cargo build -q -p testkit --bin api_server
out=$(mktemp)
target/debug/api_server >"$out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q '^URL=' "$out" && break; sleep 0.1; done
url=$(sed -n 's/^URL=//p' "$out")
token=$(sed -n 's/^TOKEN=//p' "$out")
[ -n "$url" ] || { cat "$out"; echo "api_server did not start"; exit 1; }

"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$url/api/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --seed 1 \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
  --suppress-health-check all \
  --no-color
