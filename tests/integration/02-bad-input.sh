#!/bin/sh
# Bad input: each gets its documented status and JSON error, and nothing stored changes.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve --idle-timeout 2 --body-timeout 2 || exit 1

api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "one good lead" 201
snapshot() { sqlite3 "$WORK/db" 'SELECT count(*), coalesce(sum(length(doc)),0) FROM instances; SELECT count(*) FROM events'; }
before=$(snapshot)

bad() { # NAME STATUS CODE BODY [FIELD]
    api POST /v1/leads pa-ar-token "$4" >/dev/null
    expect "$1" "$2" "$3"
    if [ $# -gt 4 ]; then
        f=$(jq -r .error.details.field <"$WORK/body")
        [ "$f" = "$5" ] && ok "$1 names $5" || not_ok "$1 names $5" "field was $f"
    fi
}
bad "malformed JSON" 400 invalid_json '{"office":'
bad "not an object" 400 invalid_json '[1,2,3]'
bad "empty body" 400 invalid_json ''
bad "duplicate key" 400 invalid_json '{"office":"province-a","office":"province-b"}'
bad "wrong type" 400 invalid_field "$(echo "$LEAD" | jq -c '.horizon_months = "soon"')" horizon_months
bad "missing field" 400 invalid_field "$(echo "$LEAD" | jq -c 'del(.customer)')" customer
bad "missing nested field" 400 invalid_field "$(echo "$LEAD" | jq -c 'del(.budget.status)')" budget.status
bad "unknown field" 400 invalid_field "$(echo "$LEAD" | jq -c '.discount = 5')" discount
bad "unknown office" 400 invalid_field "$(echo "$LEAD" | jq -c '.office = "atlantis"')" office
bad "signal out of range" 400 invalid_field "$(echo "$LEAD" | jq -c '.signals.urgency = 9')" signals.urgency
bad "negative amount" 400 invalid_field "$(echo "$LEAD" | jq -c '.budget.amount = -1')" budget.amount
bad "float amount" 400 invalid_field "$(echo "$LEAD" | jq -c '.budget.amount = 1.5')" budget.amount
bad "integer overflow" 400 invalid_json '{"budget":{"amount":123456789012345678901234567890}}'
bad "invalid UTF-8" 400 invalid_json "$(printf '{"office":"province-a","customer":"\377\376"}')"
bad "NUL escape" 400 invalid_json '{"customer":"a\u0000b"}'
deep=$(awk 'BEGIN { for (i = 0; i < 50000; i++) printf "["; for (i = 0; i < 50000; i++) printf "]" }')
bad "deep nesting" 400 invalid_json "$deep"
long=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "x" }')
bad "text too long" 400 invalid_field "$(echo "$LEAD" | jq -c --arg l "$long" '.title = $l')" title

head -c 2000000 /dev/zero | tr '\0' 'x' >"$WORK/big"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H 'Authorization: Bearer pa-ar-token' --data-binary @"$WORK/big" "$URL/v1/leads")
check "body over 1 MiB: 413 payload_too_large" [ "$code" = 413 ] && [ "$(jq -r .error.code <"$WORK/body")" = payload_too_large ]
code=$(head -c 2000000 /dev/zero | tr '\0' 'x' | curl -s -o "$WORK/body" -w '%{http_code}' -H 'Authorization: Bearer pa-ar-token' -H 'Transfer-Encoding: chunked' -T - -X POST "$URL/v1/leads")
check "chunked body over the limit: 413" [ "$code" = 413 ]

api POST /v1/leads "" "$LEAD" >/dev/null; expect "missing token" 401 unauthenticated
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H 'Authorization: Basic abc' --data-binary "$LEAD" "$URL/v1/leads")
check "non-bearer credentials: 401" [ "$code" = 401 ]
api POST /v1/leads unknown "$LEAD" >/dev/null; expect "unknown token" 401 unauthenticated
api POST /v1/instances/1/actions pa-ar-token '{"action":"fly"}' >/dev/null; expect "unknown action names the field" 400 invalid_field
api POST /v1/instances/1/actions pa-ar-token '{"action":' >/dev/null; expect "malformed action body" 400 invalid_json

# A client that sends part of a body and stalls is dropped at the body
# deadline, while others are served meanwhile.
mkfifo "$WORK/slow"
(printf '{"office":"province-a",'; sleep 5) >"$WORK/slow" &
SLOWW=$!
curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer pa-ar-token' -H 'Transfer-Encoding: chunked' -T - -X POST "$URL/v1/leads" <"$WORK/slow" >"$WORK/slowcode" 2>/dev/null &
SLOWC=$!
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/health")
check "others are served while a client stalls" [ "$code" = 200 ]
established() { ss -Htn state established "( sport = :$PORT )" | wc -l; }
check "the stalled connection is open at first" [ "$(established)" = 1 ]
sleep 3
check "the daemon drops it at the body deadline" [ "$(established)" = 0 ]
kill $SLOWW 2>/dev/null; wait $SLOWC
check "the stalled request stored nothing" [ "$(cat "$WORK/slowcode")" != 201 ]

after=$(snapshot)
check "nothing stored changed" [ "$before" = "$after" ]
check "the daemon is still alive" curl -fs "$URL/health" -o /dev/null
check "every error body is the JSON envelope" sh -c "jq -e '.error.code and .error.message' '$WORK/body' >/dev/null"
stop_daemon
finish
