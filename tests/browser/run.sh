#!/bin/sh
# tests/browser/run.sh [SCRIPT.mjs...]: seed a daemon and drive the dashboard
# in headless Chromium (make browser-test: every script). Needs chromium and
# node (scripts/install-deps.sh --browser installs them) and playwright-core
# (npm ci in tests/browser). meeting.mjs seeds its own people, customers,
# leads and activities (office province-b) through the API.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ROOT/tests/browser" || exit 1
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null
start_daemon || exit 1      # no --auto-approve: region versions are pending
api POST /v1/rules/region/north/versions/1/approve hq-admin-token >/dev/null
for o in province-a province-a province-b city-c; do
    api POST /v1/leads hq-admin-token "$(echo "$LEAD" | jq -c --arg o "$o" '.office = $o')" >/dev/null
done
api POST /v1/instances/1/actions hq-admin-token '{"action":"review","decision":"convert"}' >/dev/null
api PUT /v1/targets/hq/2026 hq-admin-token '{"metric":"cash","amount":1000000000}' >/dev/null
api PUT /v1/targets/office/province-a/2026 hq-admin-token '{"metric":"cash","amount":400000000}' >/dev/null
api PUT /v1/rules/office/city-c/tools.lua cc-admin-token 'return { defaults = ' >/dev/null
# A pending North version (it must pass North's tests.lua): hot from 76 for sales leads.
api PUT /v1/rules/region/north/thresholds.lua north-admin-token 'return function(lead)
    if lead.source == "technical" then return { horizon_months = 18, hot = 75 } end
    return { horizon_months = 12, hot = 76, warm = 45 }
end' >/dev/null
[ "$(status)" = 201 ] || { echo "not ok - seeding a pending North version: $(cat "$WORK/body")"; echo "0 passed, 1 failed"; exit 1; }
# The work lists' instances: decisions waiting, overdue invoices, closed three ways.
. "$ROOT/tests/integration/worklist-seed.sh"
seed_worklists
# A person of province-a registered after the seeding (so no seeded lead is
# hers): the owner filter names a real person, and the list is empty.
api PUT /v1/people/li hq-admin-token '{"name":"Li","office":"province-a","roles":["ar"]}' >/dev/null
mkdir -p "$ROOT/tests/out"
# Each script prints TAP and its own "N passed, N failed"; the last line adds them up.
passed=0; failed=0
for t in ${*:-dashboard.mjs worklists.mjs meeting.mjs pipeline.mjs}; do
    out=$(LTC_URL=$URL AS_OF=$W_AS_OF OUT="$ROOT/tests/out" SHOT="$ROOT/tests/out/dashboard.png" node "$t" 2>&1)
    rc=$?
    echo "# $t"; echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
    p=$(echo "${line:-0 passed, 1 failed}" | cut -d' ' -f1); f=$(echo "${line:-0 passed, 1 failed}" | cut -d' ' -f3)
    [ "$rc" -ne 0 ] && [ "$f" = 0 ] && f=1
    passed=$((passed + p)); failed=$((failed + f))
done
stop_daemon
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
