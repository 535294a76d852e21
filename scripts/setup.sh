#!/usr/bin/env bash
# Installs what building and testing Sluice needs, from Debian's packages. Idempotent and quiet:
# only missing packages are installed. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
  libsimdjson-dev libyaml-cpp-dev libabsl-dev libxxhash-dev libfmt-dev libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev librocksdb-dev
  libxgboost-dev librdkafka-dev kcat
  python3 python3-yaml python3-numpy python3-pandas python3-xgboost python3-sklearn
  prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
