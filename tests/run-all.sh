#!/bin/sh
# Every suite: unit tests, rule lint, integration tests; the last line is the
# grand total "N passed, N failed". LTC_BIN / LTC_BUILD select the build
# (bin/build or bin-asan/build-asan).
cd "$(dirname "$0")/.." || exit 1
export LTC_BIN=${LTC_BIN:-bin}
units=$(ls tests/unit/*_test.c | sed "s|tests/unit/\(.*\)\.c|${LTC_BUILD:-build}/\1|")
mkdir -p tests/out
# A throwaway PostgreSQL cluster for what runs on PostgreSQL too (LTC_PG_URI),
# stopped and removed however the run ends.
PGDIR=$(mktemp -d /tmp/ltcd-pg.XXXXXX)
trap 'sh scripts/pg-cluster.sh stop "$PGDIR"' EXIT
trap 'exit 130' INT TERM # so that EXIT's stop runs on a signal too
LTC_PG_URI=$(sh scripts/pg-cluster.sh start "$PGDIR") || { echo "0 passed, 1 failed"; exit 1; }
export LTC_PG_URI
sh tests/run-suites.sh $units tests/lint-rules.sh tests/integration/[0-9][0-9]-*.sh \
    2>&1 | tee tests/out/all.txt
tail -1 tests/out/all.txt | grep -q ' 0 failed$'
