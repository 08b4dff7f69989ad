#!/bin/sh
# Every suite: unit tests, rule lint, integration tests.
# The last line is the grand total "N passed, N failed".
# LTC_BIN / LTC_BUILD select the build (bin/build or bin-asan/build-asan).
cd "$(dirname "$0")/.." || exit 1
BUILD=${LTC_BUILD:-build}
export LTC_BIN=${LTC_BIN:-bin}
passed=0; failed=0
mkdir -p tests/out
units=$(ls tests/unit/*_test.c | sed "s|tests/unit/\(.*\)\.c|$BUILD/\1|")
echo "## unit"
sh tests/run-unit.sh $units >tests/out/unit.txt 2>&1
cat tests/out/unit.txt
line=$(tail -1 tests/out/unit.txt)
case "$line" in *passed*failed) passed=$((passed + $(echo "$line" | cut -d' ' -f1))); failed=$((failed + $(echo "$line" | cut -d' ' -f3)));; *) failed=$((failed + 1));; esac
echo "## rules lint"
if luacheck -q rules examples/adaptation >tests/out/lint.txt 2>&1; then echo "ok - luacheck rules/ examples/adaptation/"; passed=$((passed + 1));
else cat tests/out/lint.txt; echo "not ok - luacheck rules/"; failed=$((failed + 1)); fi
echo "## integration"
sh tests/run-integration.sh >tests/out/integration.txt 2>&1
cat tests/out/integration.txt
line=$(tail -1 tests/out/integration.txt)
case "$line" in *passed*failed) passed=$((passed + $(echo "$line" | cut -d' ' -f1))); failed=$((failed + $(echo "$line" | cut -d' ' -f3)));; *) failed=$((failed + 1));; esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
