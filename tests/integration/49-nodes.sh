#!/bin/sh
# Several nodes on one PostgreSQL database (CONTRACT 8.5): three ltcd started
# at once on an empty database; concurrent creates through all of them;
# concurrent actions on one instance, serialized with no lost update; an
# activation on one node active on every node within 1 s; an approval that
# happens once; targets read alike on every node; kill -9 of a node under
# load losing no acknowledged write. Runs in the cluster of LTC_PG_URI
# (tests/run-all.sh starts one).
LTC_TEST_DB=postgresql
. "$(dirname "$0")/lib.sh"
[ -n "${LTC_PG_URI:-}" ] || { not_ok "PostgreSQL" "LTC_PG_URI is not set: run through tests/run-all.sh"; finish; exit 1; }
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; cleanup' EXIT

url() { cat "$WORK/url.$1"; }
on() { _n=$1; shift; _saved=${URL:-}; URL=$(url "$_n"); api "$@"; URL=$_saved; }

# --- three nodes started together on an empty database ------------------------
psql -X -q "$LTC_PG_URI" -c "CREATE DATABASE $PG_DBNAME" >/dev/null && touch "$WORK/pg-made"
cp -r "$ROOT/rules" "$WORK/rules"
for n in 1 2 3; do
    ( start_daemon >/dev/null 2>&1 && { echo "$URL" >"$WORK/url.$n"; echo "$PID" >"$WORK/pid.$n"; } ) &
done
wait
for n in 1 2 3; do [ -f "$WORK/pid.$n" ] && PIDS="$PIDS $(cat "$WORK/pid.$n")"; done
[ -f "$WORK/url.1" ] && [ -f "$WORK/url.2" ] && [ -f "$WORK/url.3" ]
ok_if "three nodes start at once on one empty database"
hq=$(sql "SELECT count(*) FROM rule_versions WHERE owner='hq'")
act=$(for n in 1 2 3; do on $n GET /v1/rules hq-admin-token | jq -r '.owners[] | select(.owner=="hq") | .active.version'; done | sort -u | tr '\n' ' ')
[ "$hq" = 1 ] && [ "$act" = "1 " ]
ok_if "the rules tree is read once: one HQ version, active on every node ($hq, $act)"

# --- concurrent creates through every node -------------------------------------
for n in 1 2 3; do
    for i in 1 2 3 4 5 6 7 8 9 10; do
        curl -s -w '\n%{http_code}\n' -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" \
            "$(url $n)/v1/leads" >"$WORK/c.$n.$i" &
    done
done
wait
created=$(cat "$WORK"/c.* | grep -c '^201$')
ids=$(for f in "$WORK"/c.*; do head -1 "$f" | jq -r .id; done | sort -un | wc -l)
[ "$created" = 30 ] && [ "$ids" = 30 ] && [ "$(instance_count)" = 30 ]
ok_if "30 creates through three nodes at once: 30 answered 201, 30 ids, 30 stored ($created, $ids)"

# --- concurrent actions on one instance ------------------------------------------
ID=$(head -1 "$WORK/c.1.1" | jq -r .id)
for n in 1 2 3; do
    for i in 1 2 3 4 5 6 7 8; do
        curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer pa-ar-token' \
            --data-binary "{\"action\":\"update\",\"value\":$n$i}" \
            "$(url $n)/v1/instances/$ID/actions" >"$WORK/u.$n.$i" &
    done
done
wait
done_ok=$(cat "$WORK"/u.* | grep -c '^200$')
other=$(cat "$WORK"/u.* | grep -v -c -E '^(200|409)$')
on 1 GET "/v1/instances/$ID/events" pa-ar-token >"$WORK/ev.json"
n_ev=$(jq '.events | length' "$WORK/ev.json")
seqs=$(jq -r '[.events[].seq] == [range(1; (.events | length) + 1)]' "$WORK/ev.json")
[ "$other" = 0 ] && [ "$done_ok" -ge 1 ] && [ "$n_ev" = $((done_ok + 1)) ] && [ "$seqs" = true ]
ok_if "24 actions on one instance through three nodes: each 200 or 409, one event per 200, seqs 1..n ($done_ok done)"
# Every update saw the one before it: no lost update.
chain=$(jq '[.events[] | select(.action == "update")] as $u
    | [range(1; $u | length)] | all(. as $i | $u[$i].outcome.previous.value == $u[$i - 1].outcome.value)' "$WORK/ev.json")
last=$(jq '[.events[] | select(.action == "update")][-1].outcome.value' "$WORK/ev.json")
now=$(on 2 GET "/v1/instances/$ID" pa-ar-token | jq .expected_value)
[ "$chain" = true ] && [ "$last" = "$now" ]
ok_if "each update's previous value is the one before it, and the instance holds the last ($now)"

# --- an activation on one node is active on every node within 1 s ---------------
on 1 PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 61 } -- nodes' >/dev/null
V=$(jq -r .version <"$WORK/body")
on 2 POST "/v1/rules/region/south/versions/$V/approve" hq-admin-token >/dev/null
expect "a region's version approved on node 2" 200
sleep 1
seen=$(for n in 1 3; do on $n POST /v1/leads pa-ar-token "$LEAD" | jq -r '.evaluation.rules["region/south"]'; done | tr '\n' ' ')
[ "$seen" = "$V $V " ]
ok_if "1 s later, nodes 1 and 3 evaluate leads under it (region/south v$V: $seen)"

# --- an approval happens once ------------------------------------------------------
on 3 PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 62 } -- once' >/dev/null
W=$(jq -r .version <"$WORK/body")
for n in 1 2 3; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Authorization: Bearer hq-admin-token' \
        "$(url $n)/v1/rules/region/south/versions/$W/approve" >"$WORK/a.$n" &
done
wait
a200=$(cat "$WORK"/a.* | grep -c '^200$'); a409=$(cat "$WORK"/a.* | grep -c '^409$')
events=$(sql "SELECT count(*) FROM rule_events WHERE owner='region/south' AND version=$W AND action='approve'")
[ "$a200" = 1 ] && [ "$a409" = 2 ] && [ "$events" = 1 ]
ok_if "one version approved on three nodes at once: one 200, two 409, one approve event"

# --- versions of one owner submitted through every node at once -------------------
for n in 1 2 3; do
    for i in 1 2; do
        curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H 'Authorization: Bearer south-admin-token' \
            --data-binary "return { hot = 7$n } -- $n.$i" \
            "$(url $n)/v1/rules/region/south/thresholds.lua" >"$WORK/p.$n.$i" &
    done
done
wait
p201=$(cat "$WORK"/p.* | grep -c '^201$'); pother=$(cat "$WORK"/p.* | grep -v -c -E '^(201|409)$')
stored=$(sql "SELECT count(*) FROM rule_versions WHERE owner='region/south' AND files LIKE '%-- _._%'")
[ "$pother" = 0 ] && [ "$p201" -ge 1 ] && [ "$stored" = "$p201" ]
ok_if "six versions of one owner through three nodes at once: each 201 or 409, one stored per 201 ($p201)"

# --- a shadow run started on one node shadows the leads of every node ------------
on 1 PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 50 } -- shadow' >/dev/null
X=$(jq -r .version <"$WORK/body")
on 1 POST "/v1/rules/region/south/versions/$X/shadow" south-admin-token '{"hours":1}' >/dev/null
expect "a shadow run started on node 1" 201
sleep 1
on 3 POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "a lead created on node 3" 201
evaluated=$(on 2 GET "/v1/rules/region/south/versions/$X/shadow" hq-viewer-token | jq .evaluated)
[ "$evaluated" = 1 ]
ok_if "node 3 evaluated it under the shadow too, as node 2 reads ($evaluated)"

# --- targets alike on every node ---------------------------------------------------
on 1 PUT /v1/targets/office/province-a/2026 hq-admin-token '{"metric":"orders","amount":1234500}' >/dev/null
expect "a target set on node 1" 200
t=$(for n in 1 2 3; do on $n GET "/v1/targets?period=2026&metric=orders" hq-viewer-token | jq -c .; done | sort -u | wc -l)
[ "$t" = 1 ]
ok_if "the target tree reads the same on every node"

# --- an allocation run alike whichever node runs or reads it -----------------------
sql "INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer, product_line, ar, sr, fr)
    SELECT id, 100, 'cash', 100000 + id * 7, 20, '2026-03-15', 'south', 'province-a', 'c-' || id, 'general',
           'ar-' || (id % 4), 'sr-' || (id % 3), 'fr-' || (id % 2) FROM instances WHERE id <= 20"
r1=$(on 1 POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}'); s1=$(status)
r3=$(on 3 POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}')
RUN=$(echo "$r1" | jq .id)
g2=$(on 2 GET "/v1/shares/runs/$RUN" hq-viewer-token)
[ "$s1" = 201 ] && [ "$(echo "$r1" | jq -c '[.input_hash, .lines]')" = "$(echo "$r3" | jq -c '[.input_hash, .lines]')" ] &&
    [ "$(echo "$g2" | jq -c .)" = "$(echo "$r1" | jq -c .)" ] && [ "$(echo "$r3" | jq .id)" != "$RUN" ]
ok_if "an allocation run on node 1 and on node 3: the same lines, their own ids, read alike on node 2"

# --- the dashboard against any node ------------------------------------------------
same=$(for n in 1 2 3; do on $n GET /v1/funnel hq-admin-token | jq -c .; done | sort -u | wc -l)
page=$(for n in 1 2 3; do curl -s -o /dev/null -w '%{http_code}' "$(url $n)/"; done)
[ "$same" = 1 ] && [ "$page" = 200200200 ]
ok_if "every node serves the dashboard, and its funnel reads the same on each"

# --- kill -9 of a node under load loses no acknowledged write ----------------------
for i in $(seq 1 40); do
    curl -s -w '\n%{http_code}\n' -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" \
        "$(url 2)/v1/leads" >"$WORK/k.$i" 2>/dev/null &
done
sleep 0.25
kill -9 "$(cat "$WORK/pid.2")"
wait
acked=0; lost=0
for f in "$WORK"/k.*; do
    grep -q '^201$' "$f" || continue
    acked=$((acked + 1))
    id=$(head -1 "$f" | jq -r .id)
    on 1 GET "/v1/instances/$id" pa-ar-token >/dev/null
    [ "$(status)" = 200 ] || lost=$((lost + 1))
done
[ "$lost" = 0 ]
ok_if "kill -9 of node 2 under load: all $acked acknowledged creates are read on node 1"
on 3 GET /health hq-viewer-token >/dev/null
expect "the other nodes serve on" 200

finish
