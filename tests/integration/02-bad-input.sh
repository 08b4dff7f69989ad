#!/bin/sh
# Bad input: each gets its documented status and JSON error, and nothing stored changes.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve --idle-timeout 2 --body-timeout 2 || exit 1

api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "one good lead" 201
snapshot() { sql 'SELECT count(*), coalesce(sum(length(doc)),0) FROM instances; SELECT count(*) FROM events'; }
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
[ "$code" = 413 ] && [ "$(jq -r .error.code <"$WORK/body")" = payload_too_large ]; ok_if "body over 1 MiB: 413 payload_too_large"
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

# --- numbers are checked in the type they arrive in, before any narrowing ------
# Each numeric input gets 2^32+1 (which an int would read as 1), -1, 2^63,
# 1e400, "12abc" and empty: 400 with a clear error naming it, and nothing
# changes. Where 2^32+1 or -1 is a legal value of the field, the nearest
# illegal one stands in (2^53+1 for money, -101 for a margin).
all_rows() { sql 'SELECT count(*), coalesce(sum(length(doc)),0) FROM instances; SELECT count(*) FROM events; SELECT count(*) FROM rule_versions; SELECT count(*) FROM share_runs; SELECT count(*) FROM targets; SELECT count(*) FROM ledger'; }
# one NAME FIELD: the last answer was 400 with a message, naming FIELD when it got that far
one() {
    on_c=$(jq -r .error.code <"$WORK/body" 2>/dev/null); on_f=$(jq -r .error.details.field <"$WORK/body" 2>/dev/null)
    on_m=$(jq -r .error.message <"$WORK/body" 2>/dev/null)
    if [ "$(status)" = 400 ] && [ -n "$on_m" ] && { [ "$on_c" = invalid_json ] || { [ "$on_c" = invalid_field ] && [ "$on_f" = "$2" ]; }; }; then
        ok "$1"
    else
        not_ok "$1" "status $(status), code $on_c, field $on_f: $(head -c 200 "$WORK/body")"
    fi
}
# text NAME FIELD METHOD PATH TOKEN VALUES...: PATH has @ where the number goes
text() { # (variables tx_*: api uses _m, _p and _tok)
    tx_n=$1 tx_f=$2 tx_m=$3 tx_p=$4 tx_t=$5; shift 5
    for tx_v in "$@"; do
        api "$tx_m" "${tx_p%%@*}$tx_v${tx_p#*@}" "$tx_t" >/dev/null; one "$tx_n = '$tx_v'" "$tx_f"
    done
}
# body NAME FIELD PATH TOKEN BODY VALUES...: BODY has @ where the JSON number goes
body() {
    bd_n=$1 bd_f=$2 bd_p=$3 bd_t=$4 bd_b=$5; shift 5
    for bd_v in "$@"; do
        api POST "$bd_p" "$bd_t" "${bd_b%%@*}$bd_v${bd_b#*@}" >/dev/null; one "$bd_n = $bd_v" "$bd_f"
    done
}
BAD_TEXT='4294967297 -1 9223372036854775808 1e400 12abc'
rows=$(all_rows)

# shellcheck disable=SC2086
text "GET /v1/instances?limit" limit GET "/v1/instances?limit=@" hq-admin-token $BAD_TEXT ''
text "GET /v1/instances?after" after GET "/v1/instances?after=@" hq-admin-token -1 9223372036854775808 1e400 12abc ''
api GET "/v1/instances?after=4294967297" hq-admin-token >/dev/null
check "after=2^32+1 is read in full, not as 1: an empty page" [ "$(jq '.instances | length' <"$WORK/body")" = 0 ]
text "GET /v1/events?limit" limit GET "/v1/events?limit=@" hq-admin-token $BAD_TEXT ''
text "GET /v1/instances/ID" id GET "/v1/instances/@" hq-admin-token -1 9223372036854775808 1e400 12abc '%20'
api GET /v1/instances/4294967297 hq-admin-token >/dev/null
expect "instance 2^32+1 is not instance 1: 404" 404 not_found
text "POST /v1/instances/ID/actions" id POST "/v1/instances/@/actions" pa-ar-token -1 9223372036854775808 1e400 12abc
text "approve version V" version POST "/v1/rules/region/south/versions/@/approve" hq-admin-token $BAD_TEXT
text "GET version V" version GET "/v1/rules/region/south/versions/@" hq-admin-token $BAD_TEXT
text "GET /v1/shares/runs/ID" id GET "/v1/shares/runs/@" hq-admin-token -1 9223372036854775808 1e400 12abc
api GET /v1/shares/runs/4294967297 hq-admin-token >/dev/null
expect "share run 2^32+1 is not run 1: 404" 404 not_found
text "PUT /v1/targets/UNIT/PERIOD" period PUT "/v1/targets/hq/@" hq-admin-token $BAD_TEXT 2026-+1 '%202026'

SIM=/v1/rules/region/south/versions/1/simulate
body "simulate limit" limit "$SIM" hq-admin-token '{"limit":@}' 4294967297 -1 9223372036854775808 1e400 '"12abc"' '""' 1.5
body "simulate max_ms" max_ms "$SIM" hq-admin-token '{"max_ms":@}' 4294967297 -1 9223372036854775808 1e400 '"12abc"' '""'
body "shares pool" pool /v1/shares/runs hq-admin-token '{"period":"2026","pool":@}' 9007199254740993 -1 9223372036854775808 1e400 '"12abc"' '""'
body "shares period" period /v1/shares/runs hq-admin-token '{"period":@,"pool":100}' 4294967297 -1 '"12abc"' '""' '"2026-+1"'
for v in 9007199254740993 -1 9223372036854775808 1e400 '"12abc"' '""'; do
    api PUT /v1/targets/hq/2026 hq-admin-token "{\"metric\":\"cash\",\"amount\":$v}" >/dev/null; one "target amount = $v" amount
done
for f in budget.amount horizon_months signals.urgency; do
    for v in 4294967297 -1 9223372036854775808 1e400 '"12abc"' '""'; do
        [ "$f" = budget.amount ] && [ "$v" = 4294967297 ] && v=9007199254740993
        api POST /v1/leads pa-ar-token "$(echo "$LEAD" | jq -c ".$f = 0" | sed "s/\"${f##*.}\":0/\"${f##*.}\":$v/")" >/dev/null
        one "lead $f = $v" "$f"
    done
done
check "no bad number changed anything" [ "$rows" = "$(all_rows)" ]

# Action bodies go to HQ's process.lua, which checks each field in full (Lua's
# 64-bit integers); the engine first refuses any number it cannot hold exactly.
OPP=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -r .id)
act() { api POST "/v1/instances/$OPP/actions" hq-admin-token "$1" >/dev/null; }
act '{"action":"review","decision":"convert"}'; act '{"action":"assign","ar":"Li","sr":"Wang","fr":"Zhao"}'
rows=$(all_rows)
ACT=/v1/instances/$OPP/actions
D='{"action":"decide","kdp":"ATI","outcome":"approve","value":900000000,"discount":5,"margin":25}'
body "decide value" value "$ACT" hq-admin-token "$(echo "$D" | sed 's/900000000/@/')" 9007199254740993 -1 9223372036854775808 1e400 '"12abc"' '""'
body "decide discount" discount "$ACT" hq-admin-token "$(echo "$D" | sed 's/"discount":5/"discount":@/')" 4294967297 -1 9223372036854775808 1e400 '"12abc"' '""'
body "decide margin" margin "$ACT" hq-admin-token "$(echo "$D" | sed 's/"margin":25/"margin":@/')" 4294967297 -101 9223372036854775808 1e400 '"12abc"' '""'
check "no bad number changed the lead's decisions" [ "$rows" = "$(all_rows)" ]
for k in ATI ATB ATC; do act "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":900000000,\"discount\":5,\"margin\":25}"; done
check "an opportunity with ATC approved" [ "$(api GET "/v1/instances/$OPP" hq-admin-token | jq -r '.stage + "," + .gates.ATC.outcome')" = opportunity,approve ]
rows=$(all_rows)
S='{"action":"sign","value":900000000,"net_days":30,"terms":[{"milestone":"advance","percent":10},{"milestone":"delivery","percent":90}]}'
body "sign value" value "$ACT" hq-admin-token "$(echo "$S" | sed 's/900000000/@/')" 9007199254740993 -1 9223372036854775808 1e400 '"12abc"' '""'
body "sign net_days" net_days "$ACT" hq-admin-token "$(echo "$S" | sed 's/"net_days":30/"net_days":@/')" 4294967297 -1 9223372036854775808 1e400 '"12abc"' '""'
body "sign percent" terms "$ACT" hq-admin-token "$(echo "$S" | sed 's/"percent":10/"percent":@/')" 4294967297 -1 9223372036854775808 1e400 '"12abc"' '""'
check "no bad number changed the opportunity" [ "$rows" = "$(all_rows)" ]
act "$S"; check "the good sign is accepted" [ "$(status)" = 200 ]
rows=$(all_rows)
body "milestone amount" amount "$ACT" hq-admin-token '{"action":"milestone","kind":"delivery","amount":@}' 9007199254740993 -1 9223372036854775808 1e400 '"12abc"' '""'
check "no bad number changed the contract" [ "$rows" = "$(all_rows)" ]
out=$(LTC_URL=$URL LTC_TOKEN=hq-admin-token "$LTCCTL" shares run 2026 12abc 2>&1); rc=$?
check "ltcctl refuses '12abc' before sending it, naming POOL (usage, exit 2)" sh -c "[ $rc = 2 ] && echo \"\$1\" | grep -q \"POOL: '12abc' is not an amount in fen\"" - "$out"
check "ltcctl: nothing changed" [ "$rows" = "$(all_rows)" ]
stop_daemon
finish
