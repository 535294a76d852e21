#!/usr/bin/env bash
# Sets up a fresh machine and runs every test:  bash scripts/test.sh
# Builds the release tree (unit tests, engine), the sanitize tree (clang ASan+UBSan engine and the
# libFuzzer targets) and the TSan engine, then runs ctest from the release tree.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== build: release"
bash scripts/build.sh release
echo "== build: sanitize (ASan+UBSan, fuzzers)"
bash scripts/build.sh sanitize
echo "== build: tsan"
bash scripts/build.sh tsan sluice
echo "== test"
ctest --test-dir build --output-on-failure -j2
