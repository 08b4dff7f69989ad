#!/bin/sh
# Business sanity checks in HQ's process rules (issue 15 item 3), each a KCP
# answered 422 with details.kcp and recording nothing:
# - dates_in_order: an action dated (at) before the instance's last business
#   date is refused unless the body says "correction": true, which the event
#   records (payload and outcome);
# - value_consistent: ATC more than 50 times above or below the value ATB
#   approved is refused until ATB is decided again at the new value.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

act() { api POST "/v1/instances/$2/actions" "$1" "$3"; }
events() { api GET "/v1/instances/$1/events" hq-admin-token | jq '.events | length'; }
kcp() { # NAME KCP
    if [ "$(status)" = 422 ] && [ "$(jq -r .error.code <"$WORK/body")" = kcp_failed ] &&
        [ "$(jq -r .error.details.kcp <"$WORK/body")" = "$2" ]; then ok "$1"
    else not_ok "$1" "$(status) $(cat "$WORK/body")"; fi
}
decide() { # TOKEN ID KDP VALUE [OUTCOME]
    act "$1" "$2" "{\"action\":\"decide\",\"kdp\":\"$3\",\"outcome\":\"${5:-approve}\",\"value\":$4,\"discount\":5,\"margin\":25}" >/dev/null
}
new_opp() {
    _id=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -r .id)
    act hq-admin-token "$_id" '{"action":"review","decision":"convert","at":"2026-01-05"}' >/dev/null
    act hq-admin-token "$_id" '{"action":"assign","ar":"Li","sr":"Wang","fr":"Zhao","at":"2026-01-06"}' >/dev/null
    echo "$_id"
}

# --- dates_in_order ------------------------------------------------------------
ID=$(new_opp)
check "the instance keeps its last business date" [ "$(api GET /v1/instances/$ID hq-admin-token | jq -r .last_at)" = 2026-01-06 ]
n=$(events "$ID")
act hq-admin-token "$ID" '{"action":"assign","sr":"Sun","at":"2024-03-01"}' >/dev/null
kcp "an action dated two years before the last one: 422 dates_in_order" dates_in_order
jq -r .error.message <"$WORK/body" | grep -q 'at 2024-03-01 is before the instance.s last business date 2026-01-06; send "correction": true'
ok_if "the message names both dates and the way to record a correction"
check "nothing was recorded" [ "$(events "$ID")" = "$n" ]
act hq-admin-token "$ID" '{"action":"assign","sr":"Sun","at":"2024-03-01","correction":"yes"}' >/dev/null
expect "correction must be a boolean" 400 invalid_field
act hq-admin-token "$ID" '{"action":"assign","sr":"Sun","at":"2024-03-01","correction":false}' >/dev/null
kcp "correction false is no correction" dates_in_order
act hq-admin-token "$ID" '{"action":"assign","sr":"Sun","at":"2024-03-01","correction":true}' >/dev/null
expect "marked as a correction, it is accepted" 200
check "a correction does not move the business date back" [ "$(jq -r .last_at <"$WORK/body")" = 2026-01-06 ]
ev=$(api GET "/v1/instances/$ID/events" hq-admin-token | jq -c '.events[-1]')
[ "$(echo "$ev" | jq -c '[.payload.correction, .payload.at, .outcome.correction]')" = '[true,"2024-03-01",true]' ]
ok_if "the event records the correction (payload and outcome)"
act hq-admin-token "$ID" '{"action":"assign","sr":"Wang","at":"2026-01-06"}' >/dev/null
expect "the same date as the last one is in order" 200
act hq-admin-token "$ID" '{"action":"assign","sr":"Wang"}' >/dev/null
expect "an undated action (today) is not compared" 200
act hq-admin-token "$ID" '{"action":"assign","sr":"Wang","at":"2026-02-01"}' >/dev/null
expect "a later date moves the business date on" 200
check "... to 2026-02-01" [ "$(jq -r .last_at <"$WORK/body")" = 2026-02-01 ]
act hq-admin-token "$ID" '{"action":"close","reason":"lost","at":"2026-01-31"}' >/dev/null
kcp "closing a day before the last date is refused too" dates_in_order

# --- value_consistent ------------------------------------------------------------
ID=$(new_opp)
decide hq-admin-token "$ID" ATI 800000000; expect "ATI" 200
decide hq-admin-token "$ID" ATB 800000000; expect "ATB at 8,000,000.00" 200
n=$(events "$ID")
decide hq-admin-token "$ID" ATC 8000000
kcp "ATC 100 times below the ATB value: 422 value_consistent" value_consistent
jq -r .error.message <"$WORK/body" | grep -q 'ATC value 8000000 is more than 50 times away from the ATB value 800000000; decide ATB again first'
ok_if "the message names both values and the way out"
check "nothing was recorded" [ "$(events "$ID")" = "$n" ]
decide hq-admin-token "$ID" ATC 16000000; expect "50 times below is still consistent" 200
decide hq-admin-token "$ID" ATC 16000000; expect "ATC once approved is not decided again" 409 conflict
ID=$(new_opp)
decide hq-admin-token "$ID" ATI 100000000; decide hq-admin-token "$ID" ATB 100000000
decide hq-admin-token "$ID" ATC 10000000000
kcp "ATC 100 times above the ATB value: 422 value_consistent" value_consistent
decide hq-admin-token "$ID" ATC 5000000000; expect "50 times above is still consistent" 200

ID=$(new_opp)
decide hq-admin-token "$ID" ATI 800000000; decide hq-admin-token "$ID" ATB 800000000
decide hq-admin-token "$ID" ATC 8000000; kcp "a deal that shrank: ATC refused" value_consistent
decide hq-admin-token "$ID" ATB 8000000; expect "ATB is decided again at the new value" 200
check "the gate carries the new value" [ "$(jq '.gates.ATB.value' <"$WORK/body")" = 8000000 ]
decide hq-admin-token "$ID" ATC 8000000; expect "then ATC at that value is consistent" 200
ID=$(new_opp)
decide hq-admin-token "$ID" ATI 800000000; decide hq-admin-token "$ID" ATB 800000000
decide hq-admin-token "$ID" ATI 8000000; expect "ATI decided again before ATC" 200
[ "$(jq -c '[.gates.ATB, .gates.ATI.voided]' <"$WORK/body")" = '[null,["ATB"]]' ]; ok_if "... voids the ATB decided on the old terms"
decide hq-admin-token "$ID" ATC 8000000; expect "ATC now needs ATB again" 409 conflict
check "the event trail keeps the voided ATB" [ "$(api GET "/v1/instances/$ID/events" hq-admin-token | jq '[.events[] | select(.payload.kdp == "ATB")] | length')" = 1 ]
stop_daemon
finish
