#!/bin/sh
# The lead path end to end over HTTP: create, read, list, events, scope, auth.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

body=$(curl -s "$URL/health")
check "health answers ok without a token" [ "$(echo "$body" | jq -r .status)" = ok ]

out=$(api POST /v1/leads pa-ar-token "$LEAD"); expect "create lead: 201" 201
ID=$(echo "$out" | jq -r .id)
[ "$ID" -ge 1 ] && [ "$(echo "$out" | jq -r .stage)" = lead ]; ok_if "created instance has an id and stage lead"
check "evaluation is complete" [ "$(echo "$out" | jq -r '.evaluation | [.score, .temperature, .maturity, .recommendation] | map(tostring) | join(",")')" = "63.6,warm,mature,convert" ]
check "evaluation names every rule version used" [ "$(echo "$out" | jq -c .evaluation.rules)" = '{"hq":1,"region/south":1,"office/province-a":1}' ]

got=$(api GET "/v1/instances/$ID" pa-ar-token); expect "get instance: 200" 200
check "get returns what create returned" [ "$(echo "$got" | jq -S -c .)" = "$(echo "$out" | jq -S -c .)" ]

api GET "/v1/instances/$ID" pb-ar-token >/dev/null; expect "another office cannot see it (404)" 404 not_found
api GET "/v1/instances/$ID" south-reviewer-token >/dev/null; expect "its region sees it" 200
api GET "/v1/instances/$ID" north-admin-token >/dev/null; expect "another region cannot" 404
api GET "/v1/instances/$ID" hq-viewer-token >/dev/null; expect "hq sees everything" 200
api GET /v1/instances/999999 hq-admin-token >/dev/null; expect "unknown instance: 404" 404 not_found
api GET /v1/instances/abc hq-admin-token >/dev/null; expect "malformed id: 400 naming it" 400 invalid_field

for i in 1 2 3 4; do api POST /v1/leads cc-admin-token '{"office":"city-c","customer":"Grid '$i'","title":"Meters","budget":{"amount":0,"status":"none"},"signals":{"strategic_fit":1}}' >/dev/null; done
expect "office tools defaults fill source and horizon" 201
check "city-c default source is delivery" [ "$(jq -r .source <"$WORK/body")" = delivery ]
check "no strategic fit: recommendation close" [ "$(jq -r .evaluation.recommendation <"$WORK/body")" = close ]

list=$(api GET "/v1/instances?office=city-c&limit=3" hq-admin-token); expect "list: 200" 200
check "list pages by limit" [ "$(echo "$list" | jq '.instances | length')" = 3 ]
next=$(echo "$list" | jq -r .next)
list2=$(api GET "/v1/instances?office=city-c&limit=3&after=$next" hq-admin-token)
[ "$(echo "$list2" | jq '.instances | length')" = 1 ] && [ "$(echo "$list2" | jq -r .next)" = null ]; ok_if "next page holds the rest"
list=$(api GET "/v1/instances?temperature=warm" hq-admin-token)
check "filter by temperature" [ "$(echo "$list" | jq '[.instances[].evaluation.temperature] | unique')" = '[
  "warm"
]' ]
list=$(api GET "/v1/instances" pa-ar-token)
check "an office lists only its own instances" [ "$(echo "$list" | jq -c '[.instances[].office] | unique')" = '["province-a"]' ]
api GET "/v1/instances?office=city-c" pa-ar-token >/dev/null; expect "an office asking for another is refused" 403 forbidden
api GET "/v1/instances?limit=0" hq-admin-token >/dev/null; expect "bad limit: 400" 400 invalid_field

ev=$(api GET "/v1/instances/$ID/events" pa-ar-token); expect "events: 200" 200
check "one create event with actor and rules" [ "$(echo "$ev" | jq -c '[.events[] | [.seq, .action, .actor, .rules.hq]]')" = '[[1,"create","office/province-a:ar",1]]' ]

api POST /v1/leads "" "$LEAD" >/dev/null; expect "no token: 401" 401 unauthenticated
api POST /v1/leads wrong-token "$LEAD" >/dev/null; expect "unknown token: 401" 401 unauthenticated
api POST /v1/leads hq-viewer-token "$LEAD" >/dev/null; expect "viewer may not create: 403" 403 forbidden
api POST /v1/leads cc-admin-token "$LEAD" >/dev/null; expect "office outside scope: 403" 403 forbidden
api DELETE /v1/leads hq-admin-token >/dev/null; expect "wrong method: 405" 405 method_not_allowed
api GET /v1/nothing hq-admin-token >/dev/null; expect "unknown path: 404" 404 not_found

# reevaluate records the rules active now, and the earlier evaluation stays in the trail.
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 60, warm = 30, mature_budget = 50000000, horizon_months = 9 }' >/dev/null
expect "region uploads new thresholds (auto-approve)" 201
out=$(api POST "/v1/instances/$ID/actions" pa-ar-token '{"action":"reevaluate"}'); expect "reevaluate: 200" 200
check "reevaluation uses region/south v2 and turns hot" [ "$(echo "$out" | jq -r '.evaluation.rules["region/south"], .evaluation.temperature' | tr '\n' ,)" = "2,hot," ]
ev=$(api GET "/v1/instances/$ID/events" pa-ar-token)
check "trail keeps the first evaluation and adds the second" [ "$(echo "$ev" | jq -c '[.events[] | [.seq, .action, .outcome.temperature, .rules["region/south"]]]')" = '[[1,"create","warm",1],[2,"reevaluate","hot",2]]' ]

# ltcctl against the same daemon
"$LTCCTL" --url "$URL" --token pa-ar-token lead show "$ID" >"$WORK/show"
check "ltcctl lead show prints the instance" grep -q 'ACME Telecom' "$WORK/show"
out=$("$LTCCTL" --url "$URL" --token hq-admin-token --json lead list --office city-c)
check "ltcctl --json lead list" [ "$(echo "$out" | jq '.instances | length')" = 4 ]
LTC_URL=$URL LTC_TOKEN=nope "$LTCCTL" health >/dev/null; check "ltcctl health needs no token" [ $? = 0 ]
LTC_URL=$URL LTC_TOKEN=nope "$LTCCTL" lead list >/dev/null 2>"$WORK/err"
check "ltcctl explains a refused token" grep -q "token was refused" "$WORK/err"
"$LTCCTL" --url http://127.0.0.1:1 health >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 3 ] && grep -q "cannot reach" "$WORK/err"; ok_if "ltcctl says when the daemon is down (exit 3)"

stop_daemon; check "SIGTERM stops with exit 0" [ $? = 0 ]
finish
