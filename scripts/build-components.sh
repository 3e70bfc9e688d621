#!/usr/bin/env bash
# Builds every Spin component exactly as `spin build` does: the [component.*.build] commands
# of spin.toml, in order. Useful where the Spin CLI is not installed (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -E '^command = "cargo build' spin.toml | sed -E 's/^command = "(.*)"$/\1/' | while read -r cmd; do
  echo "+ $cmd"
  bash -c "$cmd"
done
