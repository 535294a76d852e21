#!/usr/bin/env bash
# Configures and builds one preset (default: release) into build*/; usage: scripts/build.sh [PRESET] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
dir=build
[ "$preset" != release ] && dir="build-$preset"
cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build "$dir" --target "$@"
else
  cmake --build "$dir"
fi
