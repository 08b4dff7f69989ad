#!/bin/sh
# Runs each suite given (an executable that prints TAP and ends with
# "N passed, N failed"), shows its output, and prints the grand total last.
# A suite that ends without its summary, or fails with none counted, counts
# as one failure.
cd "$(dirname "$0")/.." || exit 1
summary='^[0-9]+ passed, [0-9]+ failed$'
passed=0; failed=0
for t in "$@"; do
    echo "# $t${LTC_TEST_DB:+ on $LTC_TEST_DB}"
    out=$("$t" 2>&1); rc=$?
    echo "$out" | grep -v -E "$summary"
    line=$(echo "$out" | grep -E "$summary" | tail -1)
    if [ -z "$line" ]; then
        echo "not ok - $t${LTC_TEST_DB:+ on $LTC_TEST_DB} stopped without its summary (exit $rc)"; failed=$((failed + 1)); continue
    fi
    p=$(echo "$line" | cut -d' ' -f1); f=$(echo "$line" | cut -d' ' -f3)
    [ "$rc" -ne 0 ] && [ "$f" = 0 ] && f=1
    passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
