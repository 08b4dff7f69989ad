#!/bin/sh
# An allocation run over one office with 5,000 projects: HQ's share.lua splits
# that office's group in one call, whose result is sized by the engine's own
# input (about 150 KiB here, past the 64 KiB cap of other rule calls); the run
# succeeds and its sums are exact.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "a lead to clone" 201
stop_daemon
sqlite3 "$WORK/db" "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000)
    INSERT INTO instances(stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure)
    SELECT stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure FROM instances, n WHERE id = 1;
  WITH RECURSIVE n(x) AS (SELECT 2 UNION ALL SELECT x + 1 FROM n WHERE x < 5001)
    INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer, product_line, ar, sr, fr)
    SELECT x, 100, 'cash', 100000 + x * 7, 20, '2026-03-15', 'south', 'province-a', 'customer-' || x, 'general',
           'ar-' || (x % 40), 'sr-' || (x % 30), 'fr-' || (x % 20) FROM n;"
start_daemon --auto-approve || exit 1
api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":100000000007}' >"$WORK/run.json"
expect "the run over 5,000 projects in one office succeeds" 201
projects=$(jq '[.lines[] | select(.level == "project" and .parent == "office/province-a")] | length' "$WORK/run.json")
check "it has a line for each of the 5,000 projects" [ "$projects" = 5000 ]
sum=$(jq '[.lines[] | select(.level == "project" and .parent == "office/province-a") | .amount] | add' "$WORK/run.json")
office=$(jq '.lines[] | select(.unit == "office/province-a") | .amount' "$WORK/run.json")
check "the projects' amounts sum exactly to the office's ($office)" [ "$sum" = "$office" ]
stop_daemon
finish
