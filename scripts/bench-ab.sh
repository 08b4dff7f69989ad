#!/bin/sh
# scripts/bench-ab.sh OLD NEW [MORE...]: interleaved A/B runs of ltcd binaries,
# for "keep only changes that measure" on a shared, noisy machine. Each round
# starts every binary in turn on a fresh database, warms it up, drives one load
# with wrk, and prints req/s and the daemon's CPU per request (utime + stime
# over the run, from /proc): the CPU figure moves far less with the machine's
# noise than req/s. Compare medians over the rounds.
#   BENCH_LOAD    create (POST /v1/leads, the default) or decision (ATI deferred
#                 over 200 opportunities, as make bench)
#   BENCH_DB      sqlite (default) or a PostgreSQL admin URI: each run then gets
#                 a database of its own there (made and dropped)
#   ROUNDS (3), SECS (6), CONNS (32)
# Never run two benchmarks at once on this machine.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OLD-LTCD NEW-LTCD [MORE...]" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}; SECS=${SECS:-6}; CONNS=${CONNS:-32}
LOAD=${BENCH_LOAD:-create}; DBK=${BENCH_DB:-sqlite}
HZ=$(getconf CLK_TCK)
LEAD='{"office":"province-a","customer":"ACME Telecom","title":"5G core","source":"sales","budget":{"amount":60000000,"currency":"CNY","status":"approved"},"horizon_months":6,"signals":{"strategic_fit":4,"urgency":5,"relationship":4,"coach":3,"solution_maturity":4}}'
WORK=$(mktemp -d /tmp/ltcd-ab.XXXXXX)
LP=""
cleanup() { [ -n "$LP" ] && kill "$LP" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
cat >"$WORK/decide.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer pa-admin-token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"action":"decide","kdp":"ATI","outcome":"defer","value":500000000,"discount":5,"margin":25}'
request = function() return wrk.format(nil, "/v1/instances/" .. math.random(1, 200) .. "/actions") end
LUA
port() { echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 )); }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
run_one() { # BIN: prints "req/s cpu_us_per_request"
    rm -rf "$WORK/run"; mkdir -p "$WORK/run"; cp -r rules "$WORK/run/rules"
    db="$WORK/run/ltc.db"
    if [ "$DBK" != sqlite ]; then
        psql -X -q "$DBK" -c "DROP DATABASE IF EXISTS ltcd_ab WITH (FORCE)" -c "CREATE DATABASE ltcd_ab" >/dev/null
        db="${DBK%/*}/ltcd_ab"
    fi
    for attempt in 1 2 3 4 5; do
        p=$(port)
        "$1" --listen "127.0.0.1:$p" --db "$db" --rules "$WORK/run/rules" --tokens examples/tokens.conf \
            --auto-approve --no-watch --sync full 2>"$WORK/run/log" &
        LP=$!
        i=0; until curl -fs "http://127.0.0.1:$p/health" >/dev/null 2>&1; do
            kill -0 "$LP" 2>/dev/null || break; i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05; done
        kill -0 "$LP" 2>/dev/null && break
        wait "$LP" 2>/dev/null || true; LP=""
    done
    [ -n "$LP" ] || { echo "bench-ab: $1 did not start" >&2; cat "$WORK/run/log" >&2; exit 1; }
    url="http://127.0.0.1:$p"
    if [ "$LOAD" = decision ]; then
        for i in $(seq 1 200); do
            curl -s -o /dev/null -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$url/v1/leads"
            curl -s -o /dev/null -H 'Authorization: Bearer hq-admin-token' \
                --data-binary '{"action":"review","decision":"convert"}' "$url/v1/instances/$i/actions"
        done
        script="$WORK/decide.lua"; target="$url/"
    else
        script=tests/fixtures/wrk/post-lead.lua; target="$url/v1/leads"
    fi
    wrk -t2 -c"$CONNS" -d1s -s "$script" "$target" >/dev/null 2>&1
    t0=$(ticks "$LP")
    rps=$(wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$script" "$target" 2>&1 | awk '/^Requests\/sec/ { print $2 }')
    t1=$(ticks "$LP")
    kill "$LP"; wait "$LP" 2>/dev/null || true; LP=""
    awk -v a="$t0" -v b="$t1" -v r="$rps" -v s="$SECS" -v hz="$HZ" \
        'BEGIN { printf "%10.1f %10.1f\n", r, (b - a) * 1e6 / hz / (r * s) }'
}
printf '%-5s %-40s %10s %10s\n' round binary "req/s" "us/req"
for r in $(seq 1 "$ROUNDS"); do
    for bin in "$@"; do
        printf '%-5s %-40s %s\n' "$r" "$bin" "$(run_one "$bin")" | tee -a "$WORK/all"
    done
done
echo "medians ($LOAD on $([ "$DBK" = sqlite ] && echo SQLite || echo PostgreSQL), $ROUNDS rounds):"
for bin in "$@"; do
    awk -v b="$bin" '$2 == b { print $3, $4 }' "$WORK/all" | sort -n | awk -v b="$bin" '{ r[NR] = $1 } END { m = int((NR + 1) / 2); printf "  %-40s req/s %s", b, r[m] }'
    awk -v b="$bin" '$2 == b { print $4 }' "$WORK/all" | sort -n | awk '{ c[NR] = $1 } END { m = int((NR + 1) / 2); printf "  us/req %s\n", c[m] }'
done
