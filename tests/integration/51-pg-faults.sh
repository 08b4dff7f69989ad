#!/bin/sh
# PostgreSQL gone and back (CONTRACT 8.5): while the server is down, what
# needs it answers 503 and /health says degraded; when it is back the node
# serves again without a restart; nothing acknowledged is lost, also when the
# server is killed under load. A cluster of the suite's own, since it is
# stopped on purpose (scripts/pg-cluster.sh down/up).
. "$(dirname "$0")/lib.sh"
PGC=$(mktemp -d /tmp/ltcd-pg-faults.XXXXXX)
trap 'sh "$ROOT/scripts/pg-cluster.sh" stop "$PGC"; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; cleanup' EXIT
U=$(sh "$ROOT/scripts/pg-cluster.sh" start "$PGC") || { not_ok "a cluster of its own" "pg-cluster.sh start failed"; finish; exit 1; }
DB=$U
PG_DBNAME="" # not the shared cluster of LTC_PG_URI
start_daemon || exit 1
H='Authorization: Bearer pa-ar-token'
create() { curl -s -o "$WORK/c.out" -w '%{http_code}' -H "$H" --data-binary "$LEAD" "$URL/v1/leads"; }
[ "$(create)" = 201 ]
ok_if "a lead is created on PostgreSQL"
FIRST=$(jq -r .id <"$WORK/c.out")

# --- the server down ------------------------------------------------------------
sh "$ROOT/scripts/pg-cluster.sh" down "$PGC"
sleep 1.5 # a ping a second finds it out while nothing else runs
api GET /health pa-ar-token >/dev/null
[ "$(status)" = 503 ] && [ "$(jq -r .status <"$WORK/body")" = degraded ] && jq -e '.reason | length > 0' "$WORK/body" >/dev/null
ok_if "/health says degraded, with a reason, while nobody writes"
[ "$(create)" = 503 ] && [ "$(jq -r .error.code <"$WORK/c.out")" = unavailable ]
ok_if "a create answers 503 unavailable"
api GET "/v1/instances/$FIRST" pa-ar-token >/dev/null; expect "a read answers 503 unavailable" 503 unavailable
api GET /v1/instances/1/events pa-ar-token >/dev/null; expect "an event list answers 503 too" 503 unavailable
kill -0 "$PID"
ok_if "the daemon keeps running"

# --- and back ---------------------------------------------------------------------
sh "$ROOT/scripts/pg-cluster.sh" up "$PGC"
i=0; until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
[ $i -lt 50 ]
ok_if "/health is ok again within 5 s of the server's return ($i tenths)"
[ "$(create)" = 201 ]
ok_if "creates succeed again without a restart"
api GET "/v1/instances/$FIRST" pa-ar-token >/dev/null; expect "the lead from before is read" 200
grep -q 'commits succeed again' "$WORK/log"
ok_if "the log says when commits succeed again"

# --- the server killed under load: nothing acknowledged is lost -------------------
# The server goes down once one of the first 20 is acknowledged, the others
# still in flight (on a slow machine none had been answered when it went down
# at once, and a run with nothing acknowledged proves nothing).
curls=""
send() { curl -s -w '\n%{http_code}\n' -H "$H" --data-binary "$LEAD" "$URL/v1/leads" >"$WORK/k.$1" 2>/dev/null & curls="$curls $!"; }
for i in $(seq 1 20); do send "$i"; done
i=0; until grep -qsx 201 "$WORK"/k.* || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
sh "$ROOT/scripts/pg-cluster.sh" down "$PGC"
for i in $(seq 21 40); do send "$i"; done
wait $curls # not the daemon, a child too
sh "$ROOT/scripts/pg-cluster.sh" up "$PGC"
i=0; until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
acked=0; lost=0; bad=0
for f in "$WORK"/k.*; do
    code=$(tail -1 "$f")
    case $code in 201) ;; 503) continue ;; *) bad=$((bad + 1)); continue ;; esac
    acked=$((acked + 1))
    id=$(head -1 "$f" | jq -r .id)
    api GET "/v1/instances/$id" pa-ar-token >/dev/null
    [ "$(status)" = 200 ] || lost=$((lost + 1))
done
[ "$bad" = 0 ] && [ "$lost" = 0 ] && [ "$acked" -ge 1 ]
ok_if "the server killed under 40 creates: each 201 or 503, all $acked acknowledged are stored"
# --- the server stalled: /health is answered on the loop -------------------------
# Every postgres process of the cluster stopped (SIGSTOP): a create waits in
# the core for the server, and /health, answered from what the core last
# published, must not wait behind it (it waited in the core's queue).
pm=$(head -1 "$PGC/data/postmaster.pid")
pgs="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
kill -STOP $pgs
curl -s -o "$WORK/stalled" -w '%{http_code}' -H "$H" --data-binary "$LEAD" "$URL/v1/leads" >"$WORK/stalled.code" &
stalled=$!
sleep 0.5
code=$(curl -s -o "$WORK/h.out" -w '%{http_code}' --max-time 5 "$URL/health")
kill -0 "$stalled" 2>/dev/null; waiting=$?
kill -CONT $pgs
wait "$stalled"
[ "$code" = 200 ] && [ "$waiting" = 0 ] && [ "$(jq -r .status <"$WORK/h.out")" = ok ]
ok_if "/health answers ok at once while a create waits for a stalled server ($code)"
[ "$(cat "$WORK/stalled.code")" = 201 ]
ok_if "... and the create is stored once the server goes on"

stop_daemon
ok_if "the daemon stops cleanly"

finish
