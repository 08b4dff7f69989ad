#!/bin/sh
# An allocation run over one office with 9,000 projects: HQ's share.lua splits
# that office's group in one call, whose result is sized by the engine's own
# input (about 270 KiB here, past the 64 KiB cap of other rule calls); the run
# succeeds and its sums are exact. Its text (about 5 MiB) is stored in parts
# (ALLOCATION_PART_BYTES, 4 MiB): the run read back is the run answered.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "a lead to clone" 201
stop_daemon
sql "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 9000)
    INSERT INTO instances(id, stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure)
    SELECT $(new_id instance_ids), stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure FROM instances, n WHERE id = 1;
  WITH RECURSIVE n(x) AS (SELECT 2 UNION ALL SELECT x + 1 FROM n WHERE x < 9001)
    INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer, product_line, ar, sr, fr)
    SELECT x, 100, 'cash', 100000 + x * 7, 20, '2026-03-15', 'south', 'province-a', 'customer-' || x, 'general',
           'ar-' || (x % 40), 'sr-' || (x % 30), 'fr-' || (x % 20) FROM n;"
start_daemon --auto-approve || exit 1
api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":100000000007}' >"$WORK/run.json"
expect "the run over 9,000 projects in one office succeeds" 201
projects=$(jq '[.lines[] | select(.level == "project" and .parent == "office/province-a")] | length' "$WORK/run.json")
check "it has a line for each of the 9,000 projects" [ "$projects" = 9000 ]
sum=$(jq '[.lines[] | select(.level == "project" and .parent == "office/province-a") | .amount] | add' "$WORK/run.json")
office=$(jq '.lines[] | select(.unit == "office/province-a") | .amount' "$WORK/run.json")
check "the projects' amounts sum exactly to the office's ($office)" [ "$sum" = "$office" ]
id=$(jq .id "$WORK/run.json")
check "its text is stored in more than one part" \
    [ "$(sql "SELECT count(*) FROM share_run_parts WHERE run_id = $id")" -ge 2 ]
api GET "/v1/shares/runs/$id" hq-admin-token >"$WORK/read.json"
expect "the run is read back" 200
check "byte for byte the run answered" cmp -s "$WORK/run.json" "$WORK/read.json"
api GET "/v1/shares/runs/$id" south-admin-token | jq -e --argjson s "$sum" \
    '[.lines[] | select(.level == "project") | .amount] | add == $s' >/dev/null
ok_if "a region reads its own lines of it"
stop_daemon
# Parts left without their run (the daemon stopped between two parts) are
# invisible, and removed when the store opens; the next run takes another id.
sql "INSERT INTO share_run_parts(run_id, part, text) VALUES ($id + 1, 0, '{\"lines\":[');"
start_daemon --auto-approve || exit 1
api GET "/v1/shares/runs/$((id + 1))" hq-admin-token >/dev/null; expect "a run that never got its row does not exist" 404
check "and its parts are gone" [ "$(sql "SELECT count(*) FROM share_run_parts WHERE run_id = $id + 1")" = 0 ]
stop_daemon
finish
