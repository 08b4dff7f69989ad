#!/bin/sh
# Runs every tests/integration/NN-*.sh; prints their TAP and a final total.
cd "$(dirname "$0")/.." || exit 1
passed=0; failed=0
for t in tests/integration/[0-9][0-9]-*.sh; do
    echo "# $t"
    out=$(sh "$t" 2>&1); rc=$?
    echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ]; then
        echo "not ok - $t stopped early (exit $rc)"; failed=$((failed + 1)); continue
    fi
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
