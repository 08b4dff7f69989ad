#!/bin/sh
# Installs the Debian packages ltcd needs to build, test and benchmark.
# Idempotent: asks apt-get only for what dpkg does not already report as installed.
set -eu

PACKAGES="
  build-essential pkg-config clang-14 clang-format-14 libclang-rt-14-dev llvm-14
  liblua5.4-dev lua5.4 libuv1-dev libsqlite3-dev sqlite3
  libhttp-parser-dev libjemalloc-dev libjansson-dev libsodium-dev libsystemd-dev libcurl4-openssl-dev
  curl jq wrk nginx-light redis-server lua-check shellcheck procps iproute2
  libpq-dev postgresql
"

# --browser adds what the dashboard's browser test needs (make browser-test):
# Debian's chromium, and Node.js with npm unless the machine already has them.
if [ "${1:-}" = "--browser" ]; then
    PACKAGES="$PACKAGES chromium"
    command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs"
    command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
