#!/bin/sh
# The pipeline and the targets roll-up at scale (issue 14): 100,000 open
# instances with a forecast and 10,000 registered customers in four offices,
# 100,000 signed orders in the ledger; prints the time of GET /v1/pipeline and
# GET /v1/targets from HQ down to customers (each the median of 5 reads), and
# of the first pipeline read after a regional probability change (every
# forecast of the region recomputed). Run by scripts/bench.sh (make bench);
# runs alone too: sh scripts/bench-pipeline.sh (needs bin/ltcd built).
set -eu
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/ltcd-bench-pipeline.XXXXXX)
PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
URL="http://127.0.0.1:$PORT"
PID=""
trap '[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"' EXIT
cp -r rules "$WORK/rules"
start() {
    bin/ltcd --listen "127.0.0.1:$PORT" --db "$WORK/ltc.db" --rules "$WORK/rules" \
        --tokens examples/tokens.conf --auto-approve --no-watch 2>>"$WORK/ltcd.log" &
    PID=$!
    i=0; until curl -fs "$URL/health" >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 200 ] || exit 1; sleep 0.05; done
}
H='Authorization: Bearer hq-admin-token'
start
curl -fs -H "$H" --data-binary '{"office":"province-a","customer":"c-0","title":"seed","source":"sales","budget":{"amount":100000000,"currency":"CNY","status":"approved"},"horizon_months":6,"signals":{"strategic_fit":4}}' "$URL/v1/leads" >/dev/null
kill -TERM "$PID"; wait "$PID" || true; PID=""
# Instance k: office k % 4, customer c-(k % 10000) of that office, closing in
# month 1 + k % 12 of 2026, its forecast as the shipped rules give it (South
# has forecast.lua: its key names its version).
sqlite3 "$WORK/ltc.db" "
    WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 9999)
    INSERT INTO customers(id, region, office, credit_limit, doc, updated_at, updated_by)
    SELECT 'c-' || x, CASE WHEN x % 4 < 2 THEN 'south' ELSE 'north' END,
           CASE x % 4 WHEN 0 THEN 'province-a' WHEN 1 THEN 'province-b' WHEN 2 THEN 'city-c' ELSE 'city-d' END,
           NULL, '{}', 0, 'bench' FROM n;
    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
    INSERT INTO instances(stage, region, office, temperature, doc, created_at, updated_at, last_seq,
                          customer, exposure)
    SELECT 'lead', CASE WHEN x % 4 < 2 THEN 'south' ELSE 'north' END,
           CASE x % 4 WHEN 0 THEN 'province-a' WHEN 1 THEN 'province-b' WHEN 2 THEN 'city-c' ELSE 'city-d' END,
           temperature, json_set(doc, '$.customer', 'c-' || (x % 10000),
               '$.expected_close', '2026-' || printf('%02d', 1 + x % 12) || '-15',
               '$.expected_value', 1000000 + x),
           created_at, updated_at, last_seq, 'c-' || (x % 10000), 0
    FROM instances, n WHERE id = 1;
    INSERT INTO forecasts(id, region, office, customer, month, value, weighted, category, rules)
    SELECT id, region, office, customer, substr(json_extract(doc, '$.expected_close'), 1, 7),
           json_extract(doc, '$.expected_value'), (json_extract(doc, '$.expected_value') * 5 + 50) / 100,
           'pipeline', CASE region WHEN 'south' THEN 'hq@1 region/south@1' ELSE 'hq@1' END
    FROM instances WHERE id > 1;
    UPDATE instances SET office = json_extract(doc, '$.office') WHERE id = 1;
    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
    INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer, product_line)
    SELECT 1, x, 'orders', 5000000 + x, 20, '2026-' || printf('%02d', 1 + x % 12) || '-10',
           CASE WHEN x % 4 < 2 THEN 'south' ELSE 'north' END,
           CASE x % 4 WHEN 0 THEN 'province-a' WHEN 1 THEN 'province-b' WHEN 2 THEN 'city-c' ELSE 'city-d' END,
           'c-' || (x % 10000), 'general' FROM n;"
start
median() { # URL: the median time of 5 reads, in ms
    for i in 1 2 3 4 5; do curl -s -o "$WORK/out.json" -w '%{time_total}\n' -H "$H" "$1"; done |
        sort -n | sed -n 3p | awk '{ printf "%.1f", $1 * 1000 }'
}
curl -s -o /dev/null -H "$H" "$URL/v1/pipeline?period=2026" # warm the cache, refresh nothing stale
n=$(sqlite3 "$WORK/ltc.db" "SELECT count(*) FROM forecasts")
c=$(sqlite3 "$WORK/ltc.db" "SELECT count(*) FROM customers")
echo "pipeline from hq to $c customers over $n open instances: $(median "$URL/v1/pipeline?period=2026") ms (median of 5)"
echo "  (open $(jq .open "$WORK/out.json"), weighted $(jq .weighted "$WORK/out.json"), won $(jq .won "$WORK/out.json"))"
echo "pipeline of one office (2,500 customers): $(median "$URL/v1/pipeline?period=2026&unit=office/province-a") ms"
echo "targets roll-up from hq to $c customers over $(sqlite3 "$WORK/ltc.db" "SELECT count(*) FROM ledger") ledger rows: $(median "$URL/v1/targets?period=2026&metric=orders") ms"
curl -s -o /dev/null -H 'Authorization: Bearer south-admin-token' -X PUT --data-binary 'return { stages = { lead = 6, ATB = 60, ATC = 85 } }' "$URL/v1/rules/region/south/forecast.lua"
# /health every 20 ms meanwhile: the recomputation runs as a job, the loop
# only writes its results.
curl -s -o "$WORK/out.json" -w '%{time_total}' -H "$H" "$URL/v1/pipeline?period=2026&unit=region/south" >"$WORK/t" &
c=$!
worst=0
while kill -0 $c 2>/dev/null; do
    h=$(curl -s -o /dev/null -w '%{time_total}' "$URL/health")
    worst=$(awk -v a="$worst" -v b="$h" 'BEGIN { print (b > a ? b : a) }')
    sleep 0.02
done
wait $c || true
t=$(cat "$WORK/t")
echo "first pipeline read after South's probabilities changed: $(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }') ms ($(jq .refreshed "$WORK/out.json") forecasts recomputed); worst /health meanwhile: $(awk -v t="$worst" 'BEGIN { printf "%.0f", t * 1000 }') ms"
