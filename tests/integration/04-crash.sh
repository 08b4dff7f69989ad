#!/bin/sh
# kill -9 at random moments under concurrent writes (leads and rule uploads):
# after each restart every acknowledged lead is there, the active rule version
# is one that was stored whole, and the database is sound (db_integrity).
. "$(dirname "$0")/lib.sh"
ROUNDS=${CRASH_ROUNDS:-12}
: >"$WORK/acked"
: >"$WORK/acked-rules"

writer() { # appends the id of every acknowledged lead
    while :; do
        out=$(curl -s -m 5 -w '\n%{http_code}' -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads" 2>/dev/null) || continue
        [ "$(echo "$out" | tail -1)" = 201 ] && echo "$out" | head -1 | jq -r .id >>"$WORK/acked"
    done
}
rule_writer() { # uploads distinct office tools; records acknowledged versions
    n=0
    while :; do
        n=$((n + 1))
        out=$(curl -s -m 5 -w '\n%{http_code}' -X PUT -H 'Authorization: Bearer pa-admin-token' \
            --data-binary "return { defaults = { horizon_months = $(( n % 30 + 1 )) } } -- $$ $n" \
            "$URL/v1/rules/office/province-a/tools.lua" 2>/dev/null) || continue
        [ "$(echo "$out" | tail -1)" = 201 ] && echo "$out" | head -1 | jq -r .version >>"$WORK/acked-rules"
    done
}

round=1
while [ $round -le "$ROUNDS" ]; do
    start_daemon --auto-approve --no-watch || { not_ok "start round $round"; break; }
    writer & W1=$!; writer & W2=$!; writer & W3=$!; rule_writer & W4=$!
    sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 8 + 2 ))"
    kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
    kill $W1 $W2 $W3 $W4 2>/dev/null; wait $W1 $W2 $W3 $W4 2>/dev/null
    round=$((round + 1))
done
check "ran $ROUNDS kill -9 rounds" [ "$round" -gt "$ROUNDS" ]

start_daemon --auto-approve --no-watch || exit 1
acked=$(sort -n "$WORK/acked" | uniq | wc -l)
check "writes were acknowledged between kills ($acked)" [ "$acked" -gt 20 ]
missing=0
for id in $(sort -n "$WORK/acked" | uniq); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer hq-admin-token' "$URL/v1/instances/$id")
    [ "$code" = 200 ] || missing=$((missing + 1))
done
check "every acknowledged lead survived" [ "$missing" = 0 ]
check "every instance has its create event" [ "$(sql 'SELECT count(*) FROM instances i WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.instance_id = i.id AND e.seq = 1)')" = 0 ]

last=$(sort -n "$WORK/acked-rules" | tail -1)
status=$(api GET /v1/rules hq-viewer-token)
active=$(echo "$status" | jq -r '.owners[] | select(.owner == "office/province-a") | .active.version')
hash=$(echo "$status" | jq -r '.owners[] | select(.owner == "office/province-a") | .active.hash')
check "the active rule version is at least the last acknowledged one ($active >= ${last:-1})" [ "$active" -ge "${last:-1}" ]
stored=$(api GET "/v1/rules/office/province-a/versions/$active" hq-viewer-token)
check "the active version was stored whole, with its hash" [ "$(printf "%s" "$stored" | jq -r .hash,.status | tr '\n' ,)" = "$hash,active," ]
check "exactly one version is active" [ "$(sql "SELECT count(*) FROM rule_versions WHERE owner='office/province-a' AND status='active'")" = 1 ]
stop_daemon
check "the database is sound (SQLite's integrity_check, PostgreSQL's amcheck)" [ "$(db_integrity)" = ok ]
finish
