#!/bin/sh
# Runs each unit test binary given; prints their TAP and a final total.
passed=0; failed=0
for t in "$@"; do
    echo "# $t"
    out=$("$t" 2>&1); rc=$?
    echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ]; then
        echo "not ok - $t crashed or printed no summary (exit $rc)"; failed=$((failed + 1)); continue
    fi
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    [ "$rc" -ne 0 ] && [ "$(echo "$line" | cut -d' ' -f3)" = 0 ] && failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
