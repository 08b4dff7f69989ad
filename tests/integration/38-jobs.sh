#!/bin/sh
# Long reads off the loop (job.h): while a what-if simulation or an allocation
# run works on its own thread, every other request is answered at once, and
# writes go on; SIGTERM lets running jobs finish and answers waiting ones 503.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "a lead to clone" 201
stop_daemon
# 20,000 stored leads, and 400,000 payment records over 8,000 projects in four offices.
LEDGER_ROW="x % 8000 + 1, 100 + x / 8000, 'cash', 1000 + (x * 7919) % 100000, 5 + x % 30, '2026-03-15',
           CASE WHEN x % 4 < 2 THEN 'south' ELSE 'north' END,
           CASE x % 4 WHEN 0 THEN 'province-a' WHEN 1 THEN 'province-b' WHEN 2 THEN 'city-c' ELSE 'city-d' END,
           'customer-' || (x % 500), 'general', 'ar-' || (x % 40), 'sr-' || (x % 30), 'fr-' || (x % 20)"
if on_pg; then
    # PostgreSQL's summary triggers upsert a few rows per insert, and each
    # update of a row that one transaction already updated walks all its dead
    # versions: one transaction of 400,000 would take hours. A thousand rows a
    # transaction keeps every row of the load going through the triggers.
    sql "DO \$\$ BEGIN
        FOR c IN 0..19 LOOP
            INSERT INTO instances(id, stage, region, office, temperature, doc, created_at, updated_at,
                                  last_seq, customer, exposure)
            SELECT nextval('instance_ids'), stage, region, office, temperature, doc, created_at,
                   updated_at, last_seq, customer, exposure
            FROM instances, generate_series(1, CASE c WHEN 19 THEN 999 ELSE 1000 END) WHERE id = 1;
            COMMIT;
        END LOOP;
        FOR c IN 0..399 LOOP
            INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer,
                               product_line, ar, sr, fr)
            SELECT $LEDGER_ROW FROM generate_series(CAST(c AS BIGINT) * 1000, c * 1000 + 999) x;
            COMMIT;
        END LOOP;
    END \$\$"
else
    sql "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 19999)
    INSERT INTO instances(id, stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure)
    SELECT $(new_id instance_ids), stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure FROM instances, n WHERE id = 1;
  WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 399999)
    INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer, product_line, ar, sr, fr)
    SELECT $LEDGER_ROW FROM n;"
fi
start_daemon || exit 1
# A candidate whose thresholds take a few ms a lead: a simulation of it over
# 20,000 leads runs until its max_ms.
SLOW='return function(lead) local x = 0 for i = 1, 150000 do x = x + i end return { hot = 70 } end'
api PUT /v1/rules/region/south/thresholds.lua south-admin-token "$SLOW" >/dev/null
expect "a slow candidate is stored" 201
V=$(jq -r .version <"$WORK/body")

# during NAME: /health, a read and a write, over and over, while the job whose
# curl wrote its pid to $WORK/job.pid runs; each must answer within a second,
# and the job must outlast the slowest of them by far.
ACKED=0 # leads created (201) while jobs ran
during() {
    n=0; worst=0; writes=0
    while kill -0 "$(cat "$WORK/job.pid")" 2>/dev/null; do
        t=$(curl -s -o /dev/null -w '%{time_total}' "$URL/health")
        worst=$(awk -v a="$t" -v b="$worst" 'BEGIN { print (a > b ? a : b) }')
        api POST /v1/leads pa-ar-token "$LEAD" >/dev/null
        [ "$(status)" = 201 ] && writes=$((writes + 1)) && ACKED=$((ACKED + 1))
        n=$((n + 1))
    done
    wait "$(cat "$WORK/job.pid")" 2>/dev/null
    job=$(cat "$WORK/job.time")
    echo "# $1: $n rounds, worst /health ${worst} s, the job ${job} s"
    [ "$n" -ge 1 ] && [ "$writes" = "$n" ]; ok_if "$1: requests and writes go on meanwhile ($n rounds)"
    awk -v w="$worst" -v j="$job" 'BEGIN { exit !(w < 1.0 && w * 4 < j) }'
    ok_if "$1: /health answers at once (worst ${worst} s of a ${job} s job)"
}
job() { # OUT BODY PATH: the request in the background, its pid in $WORK/job.pid
    (curl -s -o "$WORK/$1" -w '%{time_total}' -H 'Authorization: Bearer hq-admin-token' \
        --data-binary "$2" "$URL$3" >"$WORK/job.time") &
    echo $! >"$WORK/job.pid"
    sleep 0.05
}

job sim.json '{"limit":20000,"max_ms":3000}' "/v1/rules/region/south/versions/$V/simulate"
during "a simulation"
jq -e '.truncated == true and .evaluated > 0 and .owner == "region/south"' "$WORK/sim.json" >/dev/null
ok_if "the simulation answers at its max_ms, truncated"

job run.json '{"period":"2026","pool":100000000007}' /v1/shares/runs
during "an allocation run"
lines=$(jq '[.lines[] | select(.level == "project")] | length' "$WORK/run.json")
check "the allocation has a line for each of the 8,000 projects" [ "$lines" = 8000 ]
sum=$(jq '[.lines[] | select(.level == "region") | .amount] | add' "$WORK/run.json")
check "its regions' amounts sum exactly to the pool" [ "$sum" = 100000000007 ]
again=$(api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":100000000007}' | jq -r .input_hash)
check "a second run over the same ledger has the same input hash" [ "$again" = "$(jq -r .input_hash "$WORK/run.json")" ]

stop_daemon
check "every lead acknowledged while jobs ran is stored ($ACKED)" [ "$(instance_count)" = $((20000 + ACKED)) ]
start_daemon || exit 1

# SIGTERM: the two running simulations finish (200), the third, waiting, is 503.
for k in 1 2 3; do
    (curl -s -o "$WORK/s$k.json" -w '%{http_code}' -H 'Authorization: Bearer hq-admin-token' \
        --data-binary '{"limit":20000,"max_ms":2000}' "$URL/v1/rules/region/south/versions/$V/simulate" >"$WORK/s$k.code") &
    sleep 0.2
done
kill -TERM "$PID"
wait "$PID"; rc=$?; PID=""
wait
codes="$(cat "$WORK/s1.code") $(cat "$WORK/s2.code") $(cat "$WORK/s3.code")"
check "SIGTERM: running simulations answer 200, the waiting one 503 ($codes)" [ "$codes" = "200 200 503" ]
check "SIGTERM: the waiting one says ltcd is shutting down" \
    [ "$(jq -r .error.code "$WORK/s3.json")" = unavailable ]
check "SIGTERM with jobs running exits 0" [ "$rc" = 0 ]
finish
