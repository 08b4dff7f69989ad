#!/bin/sh
# Rule governance: the scope table, the version lifecycle, what-if simulation,
# rollback, the audit trail, and escalation attempts.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1     # region versions need HQ approval

ID=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -r .id)
N=0
# Every role x unit x endpoint: TOKEN METHOD PATH EXPECTED-STATUS (bodies below).
cat >"$WORK/table" <<TABLE
hq-admin-token        GET  /v1/instances/$ID 200
hq-viewer-token       GET  /v1/instances/$ID 200
south-admin-token     GET  /v1/instances/$ID 200
south-reviewer-token  GET  /v1/instances/$ID 200
north-admin-token     GET  /v1/instances/$ID 404
pa-admin-token        GET  /v1/instances/$ID 200
pa-ar-token           GET  /v1/instances/$ID 200
pb-ar-token           GET  /v1/instances/$ID 404
cc-admin-token        GET  /v1/instances/$ID 404
hq-admin-token        POST /v1/leads 201
hq-viewer-token       POST /v1/leads 403
south-admin-token     POST /v1/leads 201
south-reviewer-token  POST /v1/leads 201
north-admin-token     POST /v1/leads 403
pa-admin-token        POST /v1/leads 201
pa-ar-token           POST /v1/leads 201
pb-ar-token           POST /v1/leads 403
cc-admin-token        POST /v1/leads 403
hq-admin-token        PUT  /v1/rules/region/south/thresholds.lua 403
hq-viewer-token       PUT  /v1/rules/region/south/thresholds.lua 403
south-admin-token     PUT  /v1/rules/region/south/thresholds.lua 201
south-reviewer-token  PUT  /v1/rules/region/south/thresholds.lua 403
north-admin-token     PUT  /v1/rules/region/south/thresholds.lua 403
pa-admin-token        PUT  /v1/rules/region/south/thresholds.lua 403
hq-admin-token        PUT  /v1/rules/office/province-a/tools.lua 403
south-admin-token     PUT  /v1/rules/office/province-a/tools.lua 403
pa-admin-token        PUT  /v1/rules/office/province-a/tools.lua 201
pa-ar-token           PUT  /v1/rules/office/province-a/tools.lua 403
cc-admin-token        PUT  /v1/rules/office/province-a/tools.lua 403
hq-admin-token        PUT  /v1/rules/hq/notes.lua 201
hq-viewer-token       PUT  /v1/rules/hq/notes.lua 403
south-admin-token     PUT  /v1/rules/hq/notes.lua 403
pa-admin-token        PUT  /v1/rules/hq/notes.lua 403
hq-viewer-token       POST /v1/rules/region/south/versions/1/approve 403
south-admin-token     POST /v1/rules/region/south/versions/1/approve 403
south-reviewer-token  POST /v1/rules/region/south/versions/1/approve 403
pa-admin-token        POST /v1/rules/region/south/versions/1/approve 403
hq-admin-token        POST /v1/rules/region/south/versions/2/approve 200
hq-viewer-token       POST /v1/rules/region/north/versions/1/reject 403
north-admin-token     POST /v1/rules/region/north/versions/1/reject 403
hq-admin-token        POST /v1/rules/region/north/versions/1/reject 200
hq-viewer-token       POST /v1/rules/region/south/versions/1/simulate 403
pa-admin-token        POST /v1/rules/region/south/versions/1/simulate 403
north-admin-token     POST /v1/rules/region/south/versions/1/simulate 403
south-admin-token     POST /v1/rules/region/south/versions/1/simulate 200
hq-admin-token        POST /v1/rules/region/south/versions/1/simulate 200
pa-admin-token        POST /v1/rules/region/south/rollback 403
north-admin-token     POST /v1/rules/region/south/rollback 403
hq-viewer-token       POST /v1/rules/region/south/rollback 403
hq-viewer-token       GET  /v1/rules 200
pb-ar-token           GET  /v1/rules/region/south/versions 200
TABLE
# (The region's v2 is the PUT above built on v1, which it superseded.)
while read -r tok method path want; do
    N=$((N + 1))
    case "$path" in
        /v1/leads) body="$LEAD" ;;
        */thresholds.lua) body="return { hot = $((60 + N % 30)) } -- $N" ;;
        */tools.lua) body="return { defaults = { horizon_months = $((N % 30 + 1)) } } -- $N" ;;
        */notes.lua) body="return { note = $N }" ;;
        *) body="" ;;
    esac
    if [ -n "$body" ]; then api "$method" "$path" "$tok" "$body" >/dev/null; else api "$method" "$path" "$tok" >/dev/null; fi
    expect "$tok $method $path -> $want" "$want"
done <"$WORK/table"

# --- lifecycle ----------------------------------------------------------------
rules_of() { api GET /v1/rules hq-viewer-token | jq -c ".owners[] | select(.owner == \"$1\")"; }
check "region/north v1 was rejected: nothing active" [ "$(rules_of region/north | jq -r .active)" = null ]
v=$(api GET /v1/rules/region/north/versions/1 hq-viewer-token | jq -r .status,.reason | tr '\n' ,)
check "the rejection is stored with its reason" [ "$v" = "rejected,rejected," ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 55 } -- a' >/dev/null; A=$(jq -r .version <"$WORK/body")
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 56 } -- b' >/dev/null; B=$(jq -r .version <"$WORK/body")
api POST "/v1/rules/region/south/versions/$B/approve" hq-admin-token >/dev/null; expect "approve the newer pending version" 200
check "the older pending one is superseded" [ "$(api GET /v1/rules/region/south/versions/$A hq-viewer-token | jq -r .status)" = superseded ]
api POST "/v1/rules/region/south/versions/$A/approve" hq-admin-token >/dev/null; expect "replaying an approval for a superseded version" 409 conflict
api POST "/v1/rules/region/south/versions/$B/reject" hq-admin-token '{"reason":"late"}' >/dev/null; expect "rejecting an active version" 409 conflict
api POST "/v1/rules/region/south/versions/999/approve" hq-admin-token >/dev/null; expect "approving a version that does not exist" 404 not_found
api PUT /v1/rules/hq/lead.lua hq-admin-token 'return { evaluate = 1 }' >/dev/null; expect "HQ versions validate too" 422 rule_rejected

# --- what-if simulation ------------------------------------------------------
for i in 1 2 3 4 5; do api POST /v1/leads pa-ar-token "$(echo "$LEAD" | jq -c --argjson u $i '.signals.urgency = $u')" >/dev/null; done
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 50, warm = 20 }' >/dev/null; C=$(jq -r .version <"$WORK/body")
before=$(sql 'SELECT count(*), sum(length(doc)) FROM instances; SELECT count(*) FROM events; SELECT count(*) FROM rule_versions')
sim=$(api POST "/v1/rules/region/south/versions/$C/simulate" hq-admin-token '{}'); expect "simulate a pending version" 200
check "it evaluated the region's stored leads" [ "$(echo "$sim" | jq .evaluated)" -ge 10 ]
check "it reports changes with counts and per-lead differences" [ "$(echo "$sim" | jq '.changed_total > 0 and (.changed | length) == .changed_total and (.counts.temperature | length) > 0')" = true ]
check "a difference names the lead, before and after" [ "$(echo "$sim" | jq -r '.changed[0] | (.instance | type) + "," + .before.temperature + "->" + .after.temperature' | grep -c 'number,.*->hot')" = 1 ]
after=$(sql 'SELECT count(*), sum(length(doc)) FROM instances; SELECT count(*) FROM events; SELECT count(*) FROM rule_versions')
check "simulation writes nothing" [ "$before" = "$after" ]
sim=$(api POST "/v1/rules/region/south/versions/$C/simulate" hq-admin-token '{"limit":2}')
check "limit bounds the work" [ "$(echo "$sim" | jq -c '[.evaluated, .truncated]')" = '[2,true]' ]
api POST "/v1/rules/region/south/versions/$C/simulate" hq-admin-token '{"from":"yesterday"}' >/dev/null; expect "bad period: 400" 400 invalid_field
sim=$(api POST "/v1/rules/region/south/versions/$C/simulate" hq-admin-token '{"from":"2999-01-01"}')
check "a period filters the leads" [ "$(echo "$sim" | jq .evaluated)" = 0 ]
sim=$(api POST "/v1/rules/hq/versions/1/simulate" hq-admin-token '{"unit":"office/province-a"}')
check "simulating HQ's active version against itself changes nothing" [ "$(echo "$sim" | jq -c '[.evaluated > 0, .changed_total, .failed_total]')" = '[true,0,0]' ]

# --- rollback -------------------------------------------------------------------
api POST "/v1/rules/region/south/versions/$C/approve" hq-admin-token >/dev/null; expect "approve the simulated version" 200
api POST /v1/rules/region/south/rollback south-admin-token >/dev/null; expect "the region rolls back" 200
[ "$(jq -r .version <"$WORK/body")" = "$B" ] && [ "$(rules_of region/south | jq -r .active.version)" = "$B" ]; ok_if "back to the previous good version"
out=$(api POST /v1/leads pa-ar-token "$LEAD")
check "new leads use the rolled-back version" [ "$(echo "$out" | jq -r '.evaluation.rules["region/south"]')" = "$B" ]
api POST /v1/rules/office/city-c/rollback cc-admin-token >/dev/null; expect "nothing to roll back to" 409 conflict

# --- audit -----------------------------------------------------------------------
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 99 }' >/dev/null; expect "an out-of-bounds upload" 422
ev=$(api GET /v1/rules/region/south/events hq-viewer-token); expect "the audit of region/south" 200
check "uploads, failures, approvals, supersessions and the rollback are audited" [ "$(echo "$ev" | jq -c '[.events[].action] | unique')" = '["approve","rollback","superseded","upload","validation_failed"]' ]
check "every audit entry has actor, time and (for versions) hash" [ "$(echo "$ev" | jq '(.events | map(select(.actor and .at and (.version == null or .hash))) | length) == (.events | length)')" = true ]
check "the approval names the approver" [ "$(echo "$ev" | jq -r '[.events[] | select(.action == "approve")][0].actor')" = "hq:admin" ]
api GET /v1/rules/hq/events hq-viewer-token >/dev/null
check "HQ uploads and validation failures are audited" [ "$(jq -c '[.events[].action] | unique' <"$WORK/body")" = '["activate","upload","validation_failed"]' ]
# A version cited by an instance event can be fetched and checked against its hash.
V=$(api GET "/v1/instances/$ID/events" hq-admin-token | jq -r '.events[0].rules.hq')
api GET "/v1/rules/hq/versions/$V" hq-viewer-token >"$WORK/v.json"
want=$(jq -r .hash "$WORK/v.json")
got=$(jq -j '.files | to_entries | sort_by(.key) | .[] | .key + "\u0000" + .value + "\u0000"' "$WORK/v.json" | sha256sum | cut -d' ' -f1)
check "the cited HQ version's source hashes to its recorded hash" [ "$got" = "$want" ]
stop_daemon
finish
