#!/bin/sh
# make bench: wrk over loopback against ltcd and, in the same run, against
# nginx (one worker, a fixed JSON body): the HTTP floor of this machine; and
# Redis (appendfsync always) running a Lua lead score plus XADD: the
# durable-Lua peer. Prints req/s, p50 and p99 for each load and the ratios;
# then the pipeline at scale (bench-pipeline.sh) and PostgreSQL (bench-pg.sh).
# Env: BENCH_SECONDS (default 10), BENCH_CONNS (64), BENCH_MILLION (1: also
# measure resident memory with a million stored leads).
set -eu
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
WORK=$(mktemp -d /tmp/ltcd-bench.XXXXXX)
NGINX_PID=""; LTCD_PID=""; RELOADER=""; REDIS_PID=""
cleanup() {
    for p in $RELOADER $LTCD_PID $NGINX_PID $REDIS_PID; do kill "$p" 2>/dev/null || true; done
    sleep 0.2; rm -rf "$WORK"
}
trap cleanup EXIT

port() { echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 )); }
wait_up() { i=0; while ! curl -fs "$1" >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.05; done; }

# --- the floor: nginx, one worker --------------------------------------------
NPORT=$(port)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    server {
        listen 127.0.0.1:$NPORT;
        location / { default_type application/json; return 200 '{"status":"ok","version":"floor"}'; }
    }
}
NGX
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>>"$WORK/nginx/error.log" &
NGINX_PID=$!
wait_up "http://127.0.0.1:$NPORT/" || { echo "bench: nginx did not start"; cat "$WORK/nginx/error.log"; exit 1; }

# --- the durable-Lua peer: Redis 7, appendfsync always -----------------------
RPORT=$(port)
mkdir -p "$WORK/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
    --appendfsync always --save '' --logfile "$WORK/redis/log" &
REDIS_PID=$!
i=0; until redis-cli -p "$RPORT" ping >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 100 ] && { echo "bench: redis did not start"; exit 1; }; sleep 0.05; done
REDIS_SHA=$(redis-cli -p "$RPORT" SCRIPT LOAD "$(cat tests/fixtures/bench/redis-lead.lua)")

# --- ltcd: sync full, group commit -------------------------------------------
LPORT=$(port)
cp -r rules "$WORK/rules"
URL="http://127.0.0.1:$LPORT"
bin/ltcd --listen "127.0.0.1:$LPORT" --db "$WORK/ltc.db" --rules "$WORK/rules" \
    --tokens examples/tokens.conf --auto-approve --no-watch --sync full 2>"$WORK/ltcd.log" &
LTCD_PID=$!
wait_up "$URL/health" || { echo "bench: ltcd did not start"; cat "$WORK/ltcd.log"; exit 1; }

LEAD='{"office":"province-a","customer":"ACME Telecom","title":"5G core","source":"sales","budget":{"amount":60000000,"currency":"CNY","status":"approved"},"horizon_months":6,"signals":{"strategic_fit":4,"urgency":5,"relationship":4,"coach":3,"solution_maturity":4}}'
cp tests/fixtures/wrk/post-lead.lua "$WORK/post.lua"
curl -fs -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads" >/dev/null

# run NAME URL [wrk args...]: prints "NAME req/s p50 p99 errors"
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
run() {
    name=$1; url=$2; shift 2
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" "$url" >"$WORK/wrk.out" 2>&1
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$WORK/wrk.out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.out")")
    errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { n += 1 } END { print n + 0 }' "$WORK/wrk.out")
    printf '%-34s %10s %9s %9s %7s\n' "$name" "$rps" "$p50" "$p99" "$errs"
    echo "$name $rps" >>"$WORK/results"
}
rps_of() { awk -v n="$1" 'index($0, n " ") == 1 { print $NF }' "$WORK/results" | tail -1; }

echo "ltcd bench: wrk -t2 -c$CONNS -d${SECS}s over loopback on $(nproc) cores; ltcd --sync full"
printf '%-34s %10s %9s %9s %7s\n' "load" "req/s" "p50 ms" "p99 ms" "errors"
run "nginx floor (fixed JSON)" "http://127.0.0.1:$NPORT/"
# The peer: as many requests as wrk would send in the same time at ltcd's rate.
redis-benchmark -p "$RPORT" -c "$CONNS" -n $((SECS * 30000)) --csv EVALSHA "$REDIS_SHA" 0 \
    province-a "ACME Telecom" approved 60000000 6 4 5 4 3 4 >"$WORK/redis.csv" 2>/dev/null
redis_rps=$(awk -F'"' 'NR == 2 { print $4 }' "$WORK/redis.csv")
printf '%-34s %10s %9s %9s %7s\n' "redis peer (Lua score + XADD)" "$redis_rps" \
    "$(awk -F'"' 'NR == 2 { print $10 }' "$WORK/redis.csv")" "$(awk -F'"' 'NR == 2 { print $14 }' "$WORK/redis.csv")" 0
echo "redis $redis_rps" >>"$WORK/results"
run "ltcd create lead (evaluate+commit)" "$URL/v1/leads" -s "$WORK/post.lua"
run "ltcd read instance" "$URL/v1/instances/1" -H "Authorization: Bearer pa-ar-token"
run "ltcd health (HTTP only)" "$URL/health"
( i=0; while :; do i=$((i + 1))
    curl -s -o /dev/null -X PUT -H 'Authorization: Bearer south-admin-token' \
        --data-binary "return { hot = $(( 60 + i % 30 )), warm = 30 } -- $i" \
        "$URL/v1/rules/region/south/thresholds.lua"; sleep 0.1; done ) &
RELOADER=$!
run "ltcd create lead, reload every 100ms" "$URL/v1/leads" -s "$WORK/post.lua"
kill $RELOADER; RELOADER=""
# KDP decisions: ATI deferred again and again over 200 opportunities (authority
# routing, KCPs, a durable event each).
cpu_ms() { awk '{ print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' /proc/$LTCD_PID/stat; }
act() { curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $1" --data-binary "$3" "$URL/v1/instances/$2/actions"; }
first=""
i=0; while [ $i -lt 200 ]; do i=$((i + 1))
    id=$(curl -s -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
    [ -n "$first" ] || first=$id
    act hq-admin-token "$id" '{"action":"review","decision":"convert"}' >/dev/null
done
cat >"$WORK/decide.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer pa-admin-token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"action":"decide","kdp":"ATI","outcome":"defer","value":500000000,"discount":5,"margin":25}'
request = function() return wrk.format(nil, "/v1/instances/" .. math.random($first, $first + 199) .. "/actions") end
LUA
c0=$(cpu_ms)
run "ltcd KDP decision (ATI, durable)" "$URL/" -s "$WORK/decide.lua"
c1=$(cpu_ms)
n_dec=$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")
per_action=$(awk -v a="$c0" -v b="$c1" -v n="$n_dec" 'BEGIN { printf "%.3f", (b - a) / n }')

# A full lead-to-cash instance: create and 12 actions, sequentially, 30 times;
# compared by daemon CPU time with 12 single decisions.
flow() {
    id=$(curl -s -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
    act hq-admin-token "$id" '{"action":"review","decision":"convert"}'
    act hq-admin-token "$id" '{"action":"assign","ar":"Li","sr":"Wang","fr":"Zhao"}'
    for k in ATI ATB ATC; do act hq-admin-token "$id" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":500000000,\"discount\":5,\"margin\":25}"; done
    act hq-admin-token "$id" '{"action":"sign","value":500000000,"net_days":30,"terms":[{"milestone":"delivery","percent":100}]}'
    for m in delivery acceptance invoice payment; do act hq-admin-token "$id" "{\"action\":\"milestone\",\"kind\":\"$m\",\"amount\":500000000}"; done
    act hq-admin-token "$id" '{"action":"decide","kdp":"ATCC","outcome":"approve","margin":24}'
    act hq-admin-token "$id" '{"action":"close","reason":"done"}'
}
# Both sides one request at a time (no group commit), so they compare alike.
c0=$(cpu_ms)
bad=0; f=0; while [ $f -lt 30 ]; do f=$((f + 1)); bad=$((bad + $(flow | grep -cv '^200$' || true))); done
c1=$(cpu_ms)
per_flow=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", (b - a) / 30 }')
c0=$(cpu_ms)
k=0; while [ $k -lt 360 ]; do k=$((k + 1))
    act pa-admin-token $(( first + k % 200 )) '{"action":"decide","kdp":"ATI","outcome":"defer","value":500000000,"discount":5,"margin":25}' >/dev/null
done
c1=$(cpu_ms)
per_single=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", (b - a) / 360 }')
echo "full lead-to-cash (create + 12 actions, one at a time): ${per_flow} ms daemon CPU ($bad failed steps)" \
     "vs 12 single decisions one at a time: $(awk -v p="$per_single" 'BEGIN { printf "%.3f", 12 * p }') ms" \
     "(batched under load: $per_action ms a decision)"

# Reload latency: one PUT through the whole pipeline (validate, store, swap).
: >"$WORK/reload.ms"
i=0; while [ $i -lt 50 ]; do i=$((i + 1))
    curl -s -o /dev/null -w '%{time_total}\n' -X PUT -H 'Authorization: Bearer south-admin-token' \
        --data-binary "return { hot = $(( 60 + i % 30 )), warm = 31 } -- latency $i" \
        "$URL/v1/rules/region/south/thresholds.lua" >>"$WORK/reload.ms"
done
med=$(sort -n "$WORK/reload.ms" | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] * 1000 }')
echo "reload latency (PUT, validate, commit, swap; median of 50): ${med} ms"

# KDP decisions again with 5,000 contracts in execution for the same customer
# (the credit KCP weighs the customer's exposure): cloned from one signed contract.
cid=$(curl -s -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
act hq-admin-token "$cid" '{"action":"review","decision":"convert"}' >/dev/null
act hq-admin-token "$cid" '{"action":"assign","ar":"Li","sr":"Wang","fr":"Zhao"}' >/dev/null
for k in ATI ATB ATC; do act hq-admin-token "$cid" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":5000,\"discount\":5,\"margin\":25}" >/dev/null; done
act hq-admin-token "$cid" '{"action":"sign","value":5000,"net_days":30,"terms":[{"milestone":"delivery","percent":100}]}' >/dev/null
kill -TERM $LTCD_PID; wait $LTCD_PID 2>/dev/null || true
sqlite3 "$WORK/ltc.db" "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 4999)
    INSERT INTO instances(stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure)
    SELECT stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure FROM instances, n WHERE id = $cid;"
bin/ltcd --listen "127.0.0.1:$LPORT" --db "$WORK/ltc.db" --rules "$WORK/rules" \
    --tokens examples/tokens.conf --auto-approve --no-watch --sync full 2>>"$WORK/ltcd.log" &
LTCD_PID=$!
wait_up "$URL/health"
echo "($(sqlite3 "$WORK/ltc.db" "SELECT count(*) FROM instances WHERE stage = 'contract'") contracts in execution)"
run "ltcd KDP decision, 5000 contracts" "$URL/" -s "$WORK/decide.lua"

floor=$(rps_of "nginx")
echo
for n in "ltcd create lead (evaluate+commit)" "ltcd read instance" "ltcd health (HTTP only)" "ltcd create lead, reload every 100ms" "ltcd KDP decision (ATI, durable)" "ltcd KDP decision, 5000 contracts"; do
    awk -v a="$(rps_of "$n")" -v b="$floor" -v n="$n" 'BEGIN { printf "ratio %-36s %.2f x nginx\n", n, a / b }'
done
awk -v a="$(rps_of "ltcd create lead (evaluate+commit)")" -v b="$redis_rps" 'BEGIN { printf "ratio %-36s %.2f x redis peer\n", "ltcd create lead (evaluate+commit)", a / b }'
awk -v a="$(rps_of "ltcd KDP decision, 5000 contracts")" -v b="$(rps_of "ltcd KDP decision (ATI, durable)")" 'BEGIN { printf "ratio %-36s %.2f x decision with none\n", "ltcd KDP decision, 5000 contracts", a / b }'
rss=$(awk '/VmRSS/ { print $2 }' /proc/$LTCD_PID/status)
count=$(sqlite3 "$WORK/ltc.db" 'SELECT count(*) FROM instances')
echo "ltcd resident memory: $((rss / 1024)) MiB with $count stored leads"

if [ "${BENCH_MILLION:-1}" = 1 ]; then
    kill -TERM $LTCD_PID; wait $LTCD_PID 2>/dev/null || true
    sqlite3 "$WORK/ltc.db" "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000 - $count)
        INSERT INTO instances(stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure)
        SELECT stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer, exposure FROM instances, n WHERE id = 1;"
    bin/ltcd --listen "127.0.0.1:$LPORT" --db "$WORK/ltc.db" --rules "$WORK/rules" \
        --tokens examples/tokens.conf --auto-approve --no-watch 2>>"$WORK/ltcd.log" &
    LTCD_PID=$!
    wait_up "$URL/health"
    cat >"$WORK/rand.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer hq-admin-token"
request = function() return wrk.format("GET", "/v1/instances/" .. math.random(1, 1000000)) end
LUA
    run "ltcd read random of 1M instances" "$URL/" -s "$WORK/rand.lua"
    run "ltcd create lead over 1M instances" "$URL/v1/leads" -s "$WORK/post.lua"
    curl -s -H 'Authorization: Bearer hq-admin-token' "$URL/v1/instances?office=city-c&limit=50" >/dev/null
    rss=$(awk '/VmRSS/ { print $2 }' /proc/$LTCD_PID/status)
    echo "ltcd resident memory after reads and writes: $((rss / 1024)) MiB with $(sqlite3 "$WORK/ltc.db" 'SELECT count(*) FROM instances') stored leads"
    t=$(curl -s -o "$WORK/sim.json" -w '%{time_total}' -H 'Authorization: Bearer hq-admin-token' \
        --data-binary '{"limit":100000,"max_ms":30000}' "$URL/v1/rules/region/south/versions/1/simulate")
    echo "what-if simulation of region/south v1 over $(sed -n 's/.*"evaluated":\([0-9]*\).*/\1/p' "$WORK/sim.json") leads: ${t} s"
    # worst /health latency while a long request runs: wrk with 4 connections
    # for the length of the request.
    during() { # NAME CURL-ARGS...: runs curl in the background and /health under wrk meanwhile
        name=$1; shift
        # longer than the request, and a timeout past it, so a stalled /health is counted
        wrk -t1 -c4 -d"$((SECS + 10))"s --timeout 60s --latency "$URL/health" >"$WORK/wrk.health" 2>&1 &
        w=$!
        sleep 1
        t=$(curl -s -o /dev/null -w '%{time_total}' "$@")
        wait $w
        echo "worst /health latency during $name (${t} s): $(awk '$1 == "Latency" { print $4 }' "$WORK/wrk.health")"
    }
    during "a simulation over 50k leads" -H 'Authorization: Bearer hq-admin-token' \
        --data-binary '{"limit":50000,"max_ms":30000}' "$URL/v1/rules/region/south/versions/1/simulate"
    # Acquire-and-share over a million payment records (100,000 projects in
    # four offices), and the targets roll-up over them.
    sqlite3 "$WORK/ltc.db" "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 999999)
        INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer,
                           product_line, ar, sr, fr)
        SELECT x % 100000 + 1, 100 + x / 100000, 'cash', 1000 + (x * 7919) % 100000, 5 + x % 30,
               '2026-' || printf('%02d', 1 + x % 12) || '-15',
               CASE WHEN x % 4 < 2 THEN 'south' ELSE 'north' END,
               CASE x % 4 WHEN 0 THEN 'province-a' WHEN 1 THEN 'province-b' WHEN 2 THEN 'city-c' ELSE 'city-d' END,
               'customer-' || (x % 5000), 'general', 'ar-' || (x % 300), 'sr-' || (x % 200), 'fr-' || (x % 250)
        FROM n;"
    t=$(curl -s -o "$WORK/run.json" -w '%{time_total}' -H 'Authorization: Bearer hq-admin-token' \
        --data-binary '{"period":"2026","pool":100000000007}' "$URL/v1/shares/runs")
    echo "allocation over $(sqlite3 "$WORK/ltc.db" "SELECT count(*) FROM ledger WHERE kind='cash'") payment records: ${t} s ($(grep -o '"unit"' "$WORK/run.json" | wc -l) lines)"
    during "an allocation over $(sqlite3 "$WORK/ltc.db" "SELECT count(*) FROM ledger WHERE kind='cash'") ledger rows" \
        -H 'Authorization: Bearer hq-admin-token' --data-binary '{"period":"2026","pool":100000000007}' "$URL/v1/shares/runs"
    t=$(curl -s -o "$WORK/tree.json" -w '%{time_total}' -H 'Authorization: Bearer hq-admin-token' "$URL/v1/targets?period=2026&metric=cash")
    echo "  (roll-up actual: $(sed -n 's/.*"actual":\([0-9]*\).*/\1/p' "$WORK/tree.json" | head -1))"
    echo "targets roll-up over $(sqlite3 "$WORK/ltc.db" 'SELECT count(DISTINCT instance_id) FROM ledger') instances: ${t} s"
    rss=$(awk '/VmRSS/ { print $2 }' /proc/$LTCD_PID/status)
    count=$(sqlite3 "$WORK/ltc.db" 'SELECT count(*) FROM instances')
    echo "ltcd resident memory after the runs: $((rss / 1024)) MiB with $count stored leads"
fi

# The pipeline and the targets roll-up over 100,000 instances and 10,000
# customers (issue 14), on a database of its own.
kill -TERM $LTCD_PID 2>/dev/null; wait $LTCD_PID 2>/dev/null || true; LTCD_PID=""
sh scripts/bench-pipeline.sh
# The same loads on PostgreSQL, one node and two (issue 16), beside these.
echo
sh scripts/bench-pg.sh "$(rps_of "ltcd create lead (evaluate+commit)")" "$(rps_of "ltcd KDP decision (ATI, durable)")"
