#!/bin/sh
# luacheck over the shipped rules and the example adaptation, with the
# sandbox's globals (.luacheckrc), as a one-test suite.
cd "$(dirname "$0")/.." || exit 1
if out=$(luacheck -q rules examples/adaptation 2>&1); then
    echo "ok 1 - luacheck rules/ examples/adaptation/"; echo "1 passed, 0 failed"
else
    echo "$out" | sed 's/^/# /'; echo "not ok 1 - luacheck rules/ examples/adaptation/"
    echo "0 passed, 1 failed"
fi
