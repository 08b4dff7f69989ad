#!/bin/sh
# ltcd on PostgreSQL (issue 16): create lead and KDP decision through one
# node, then through two nodes on one database at once, in a throwaway
# cluster (fsync and synchronous_commit on: every acknowledged write is
# durable, as --sync full on SQLite). Prints req/s, p50, p99, errors, and the
# CPU each request costs each ltcd node and the database server. Run by
# scripts/bench.sh (make bench) with its SQLite figures for the ratios:
#   sh scripts/bench-pg.sh [SQLITE_CREATE_RPS SQLITE_DECISION_RPS]
# Env: BENCH_SECONDS (10), BENCH_CONNS (64).
set -eu
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
SQLITE_CREATE=${1:-}
SQLITE_DECISION=${2:-}
WORK=$(mktemp -d /tmp/ltcd-bench-pg.XXXXXX)
PGDIR=$(mktemp -d /tmp/ltcd-bench-pgdata.XXXXXX) # the server's user must reach it
PIDS=""
cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    sh scripts/pg-cluster.sh stop "$PGDIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
URI=$(sh scripts/pg-cluster.sh start "$PGDIR")
cp -r rules "$WORK/rules"
LEAD='{"office":"province-a","customer":"ACME Telecom","title":"5G core","source":"sales","budget":{"amount":60000000,"currency":"CNY","status":"approved"},"horizon_months":6,"signals":{"strategic_fit":4,"urgency":5,"relationship":4,"coach":3,"solution_maturity":4}}'

port() { echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 )); }
# node N: ltcd number N on the database; its URL in URL_N, its pid in PID_N
node() {
    for attempt in 1 2 3 4 5; do
        p=$(port)
        bin/ltcd --listen "127.0.0.1:$p" --db "$URI" --rules "$WORK/rules" --tokens examples/tokens.conf \
            --auto-approve --no-watch --sync full 2>>"$WORK/ltcd.$1.log" &
        pid=$!
        i=0; while [ $i -lt 200 ] && kill -0 $pid 2>/dev/null; do
            if curl -fs "http://127.0.0.1:$p/health" >/dev/null 2>&1; then
                eval "PID_$1=$pid; URL_$1=http://127.0.0.1:$p"
                PIDS="$PIDS $pid"
                return 0
            fi
            i=$((i + 1)); sleep 0.05
        done
        kill -9 $pid 2>/dev/null || true
    done
    echo "bench-pg: ltcd did not start"; cat "$WORK/ltcd.$1.log"; exit 1
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The server's CPU: the postmaster with what its ended children used, and
# every live backend.
db_ticks() {
    pm=$(head -1 "$PGDIR/data/postmaster.pid")
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
    for c in $(pgrep -P "$pm"); do t=$((t + $(ticks "$c" 2>/dev/null || echo 0))); done
    echo "$t"
}
ms() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", n ? t * 1000 / hz / n : 0 }'; }
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /s$/ && v !~ /ms$/) n *= 1000; printf "%.2f", n }'; }
# wrk_to OUT URL [args]: one wrk in the background, its output in OUT
wrk_to() { out=$1; shift; wrk -t1 -c"$1" -d"${SECS}s" --latency "$2" -s "$3" >"$out" 2>&1; }
field() { awk "$2" "$1"; }
rps() { field "$1" '/^Requests\/sec/ { print $2 }'; }
reqs() { field "$1" '/requests in/ { print $1 }'; }
errs() { field "$1" '/Non-2xx/ { n += $NF } /Socket errors/ { n += 1 } END { print n + 0 }'; }
line() { # NAME RPS P50 P99 ERRORS NODE_MS DB_MS
    printf '%-34s %10s %9s %9s %7s %12s %10s\n' "$@"
    echo "$1 $2" >>"$WORK/results"
}
rps_of() { awk -v n="$1" 'index($0, n " ") == 1 { print $NF }' "$WORK/results" | tail -1; }

# measure NAME SCRIPT_1 [SCRIPT_2]: wrk through node 1 (and node 2 at once,
# the connections split), CPU per request of each node and of the server
measure() {
    name=$1; s1=$2; s2=${3:-}
    n1=$(ticks "$PID_1"); n2=0; [ -n "$s2" ] && n2=$(ticks "$PID_2"); d0=$(db_ticks)
    if [ -n "$s2" ]; then
        wrk_to "$WORK/w1" $((CONNS / 2)) "$URL_1/" "$s1" & w=$!
        wrk_to "$WORK/w2" $((CONNS / 2)) "$URL_2/" "$s2"
        wait $w
    else
        wrk_to "$WORK/w1" "$CONNS" "$URL_1/" "$s1"
    fi
    c1=$(( $(ticks "$PID_1") - n1 )); d=$(( $(db_ticks) - d0 ))
    r=$(reqs "$WORK/w1"); total=$(rps "$WORK/w1"); e=$(errs "$WORK/w1")
    node_ms=$(ms "$c1" "$r")
    if [ -n "$s2" ]; then
        c2=$(( $(ticks "$PID_2") - n2 )); r2=$(reqs "$WORK/w2")
        node_ms="$node_ms/$(ms "$c2" "$r2")"
        total=$(awk -v a="$total" -v b="$(rps "$WORK/w2")" 'BEGIN { printf "%.2f", a + b }')
        e=$((e + $(errs "$WORK/w2"))); r=$((r + r2))
    fi
    line "$name" "$total" "$(to_ms "$(field "$WORK/w1" '$1 == "50%" { print $2 }')")" \
        "$(to_ms "$(field "$WORK/w1" '$1 == "99%" { print $2 }')")" "$e" "$node_ms" "$(ms "$d" "$r")"
}

node 1
# The standard lead (tests/fixtures/wrk/post-lead.lua), to the path of the node's URL.
{ cat tests/fixtures/wrk/post-lead.lua
  echo 'request = function() return wrk.format(nil, "/v1/leads") end'; } >"$WORK/create.lua"
# 200 opportunities for the decisions (ATI deferred again and again): the
# first 100 decided through node 1, the others through node 2, so two nodes
# do not race for one instance (suite 49 tests that race).
first=""
i=0; while [ $i -lt 200 ]; do i=$((i + 1))
    id=$(curl -s -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL_1/v1/leads" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
    [ -n "$first" ] || first=$id
    curl -s -o /dev/null -H 'Authorization: Bearer hq-admin-token' \
        --data-binary '{"action":"review","decision":"convert"}' "$URL_1/v1/instances/$id/actions"
done
decide() { # FILE FROM COUNT
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer pa-admin-token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"action":"decide","kdp":"ATI","outcome":"defer","value":500000000,"discount":5,"margin":25}'
request = function() return wrk.format(nil, "/v1/instances/" .. math.random($2, $2 + $3 - 1) .. "/actions") end
LUA
}
decide "$WORK/decide.lua" "$first" 200
decide "$WORK/decide.1.lua" "$first" 100
decide "$WORK/decide.2.lua" $((first + 100)) 100

echo "ltcd on PostgreSQL 15 (a throwaway cluster, fsync on): wrk over loopback, $CONNS connections in all"
printf '%-34s %10s %9s %9s %7s %12s %10s\n' "load" "req/s" "p50 ms" "p99 ms" "errors" "ltcd ms/req" "db ms/req"
measure "pg create lead, 1 node" "$WORK/create.lua"
measure "pg KDP decision, 1 node" "$WORK/decide.lua"
node 2
measure "pg create lead, 2 nodes" "$WORK/create.lua" "$WORK/create.lua"
measure "pg KDP decision, 2 nodes" "$WORK/decide.1.lua" "$WORK/decide.2.lua"
# The loop while the core waits for the server: /health through node 1
# (4 connections) while creates run through it; its worst latency.
wrk -t1 -c4 -d"${SECS}s" --latency "$URL_1/health" >"$WORK/wrk.health" 2>&1 &
HW=$!
wrk_to "$WORK/w1" "$CONNS" "$URL_1/" "$WORK/create.lua"
wait $HW
echo "/health through node 1 during the creates: p99 $(to_ms "$(field "$WORK/wrk.health" '$1 == "99%" { print $2 }')") ms," \
    "worst $(field "$WORK/wrk.health" '$1 == "Latency" { print $4 }')"
echo "(CPU per request: ltcd's is each node's own, node 1/node 2; the database's is the"
echo " server's whole CPU over every request of the run)"
if [ -n "$SQLITE_CREATE" ] && [ -n "$SQLITE_DECISION" ]; then
    for n in "pg create lead, 1 node" "pg create lead, 2 nodes"; do
        awk -v a="$(rps_of "$n")" -v b="$SQLITE_CREATE" -v n="$n" 'BEGIN { printf "ratio %-36s %.2f x SQLite create lead\n", n, a / b }'
    done
    for n in "pg KDP decision, 1 node" "pg KDP decision, 2 nodes"; do
        awk -v a="$(rps_of "$n")" -v b="$SQLITE_DECISION" -v n="$n" 'BEGIN { printf "ratio %-36s %.2f x SQLite decision\n", n, a / b }'
    done
fi
