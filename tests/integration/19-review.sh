#!/bin/sh
# Reviewing a rule version (issue 11, CONTRACT 8.2): simulation results that
# list changed leads, failing leads with file:line and authority routing
# changes, capped with totals; shadow runs on live traffic; runtime rule
# errors in last_error, /metrics and the log. ltcctl shows each as tables.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1
CTL() { "$LTCCTL" --url "$URL" "$@"; }
has() { printf '%s\n' "$1" | grep -q -- "$2"; } # TEXT PATTERN
south() { api GET /v1/rules hq-viewer-token | jq -c '.owners[] | select(.owner == "region/south")'; }
lead_of() { echo "$LEAD" | jq -c --arg s "$1" --arg o "${2:-province-a}" '.source = $s | .office = $o'; }
create() { api POST /v1/leads "${3:-pa-ar-token}" "$(lead_of "$1" "${2:-}")" >/dev/null; status; }

# The candidate: a higher bar for maturity (every sales lead changes), and it
# forgot the sources other than sales and technical: line 4 fails for them.
cat >"$WORK/thresholds.lua" <<'LUA'
-- South candidate: bigger budgets before a lead counts as mature
local by_source = { sales = { hot = 60 }, technical = { hot = 70 } }
return function(lead)
    return { mature_budget = 100000000, horizon_months = 9, hot = by_source[lead.source].hot, warm = 30 }
end
LUA
ERR_AT='regions/south/thresholds.lua:4: attempt to index a nil value'

api POST /v1/rules/region/south/versions/1/approve hq-admin-token >/dev/null; expect "the shipped region/south v1 is approved" 200
A=1

# --- simulation: changed, failed, routing, caps and totals -------------------
n=0; for i in $(seq 1 105); do [ "$(create sales)" = 201 ] && n=$((n + 1)); done
for i in 1 2 3 4 5; do [ "$(create marketing)" = 201 ] && n=$((n + 1)); done
for i in 1 2 3; do create sales city-c cc-admin-token >/dev/null; done
check "115 leads stored (110 in region south)" [ "$n" = 110 ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token "$(cat "$WORK/thresholds.lua")" >/dev/null
expect "the candidate validates (HQ's samples are sales and technical)" 201
C=$(jq -r .version <"$WORK/body")
sim=$(api POST "/v1/rules/region/south/versions/$C/simulate" hq-admin-token '{}'); expect "simulate the candidate" 200
echo "$sim" >"$WORK/sim.json"
check "it evaluated the region's 110 stored leads, not the north's" [ "$(echo "$sim" | jq .evaluated)" = 110 ]
check "failed_total counts the 5 marketing leads" [ "$(echo "$sim" | jq .failed_total)" = 5 ]
check "failed lists each with its error naming file and line" \
    [ "$(echo "$sim" | jq --arg e "$ERR_AT" '[.failed[] | select((.error | startswith($e)) and .file == "regions/south/thresholds.lua" and .line == 4 and .owner == "region/south" and .version == '"$C"')] | length')" = 5 ]
check "the failed instances are the marketing leads" \
    [ "$(echo "$sim" | jq -r '.failed[].instance' | while read -r i; do api GET "/v1/instances/$i" hq-viewer-token | jq -r .source; done | sort -u)" = marketing ]
check "changed_total counts every changed lead, changed lists the cap" \
    [ "$(echo "$sim" | jq -c '[.changed_total, (.changed | length), .cap]')" = '[105,100,100]' ]
check "a changed entry names the instance and only the fields that differ, before and after" \
    [ "$(echo "$sim" | jq -c '.changed[0] | [(.instance | type), (.before | keys), (.after | keys), .before.maturity, .after.maturity, .before.recommendation, .after.recommendation]')" = '["number",["maturity","recommendation","temperature"],["maturity","recommendation","temperature"],"mature","early","convert","nurture"]' ]
check "no routing changes without a new authority matrix" [ "$(echo "$sim" | jq .routing_total)" = 0 ]
sim=$(api POST "/v1/rules/region/south/versions/$C/simulate" hq-admin-token '{"limit":3}')
check "a smaller run counts what it evaluated" [ "$(echo "$sim" | jq -c '[.evaluated, .truncated, .changed_total + .failed_total]')" = '[3,true,3]' ]

# ltcctl: tables (counts, then changed, failed, routing); --json is the API's answer.
out=$(LTC_TOKEN=hq-admin-token CTL rules simulate region/south "$C")
check "ltcctl prints the counts first" has "$(echo "$out" | sed -n 3,6p)" "changed  *105"
check "ltcctl prints changed (capped, with the total)" has "$out" "^CHANGED (100 of 105)"
check "ltcctl prints the failed leads with file:line" [ "$(echo "$out" | grep -c "region/south v$C  *$ERR_AT")" = 5 ]
check "ltcctl prints the routing table" has "$out" "^ROUTING (0)"
check "the tables come in order: counts, changed, failed, routing" \
    [ "$(echo "$out" | grep -E '^(COUNTS|CHANGED|FAILED|ROUTING)' | cut -c1-4 | tr '\n' ,)" = "COUN,CHAN,FAIL,ROUT," ]
LTC_TOKEN=hq-admin-token CTL --json rules simulate region/south "$C" >"$WORK/sim2.json"
check "ltcctl --json prints the API's answer" [ "$(jq -S -c . "$WORK/sim2.json")" = "$(jq -S -c . "$WORK/sim.json")" ]

# Routing: an opportunity whose ATI was decided at office level (8,000,000.00
# CNY is within HQ's default office limit of 10,000,000.00); a candidate
# authority.lua lowers the office limit to 5,000,000.00: its next KDP (ATB)
# would go to the region.
OPP=$(api POST /v1/leads pa-ar-token "$(lead_of sales)" | jq -r .id)
api POST "/v1/instances/$OPP/actions" pa-admin-token '{"action":"review","decision":"convert"}' >/dev/null; expect "convert a lead" 200
api POST "/v1/instances/$OPP/actions" pa-admin-token '{"action":"decide","kdp":"ATI","outcome":"approve","value":800000000,"discount":5,"margin":30}' >/dev/null
expect "ATI is decided at office level" 200
api PUT /v1/rules/region/south/authority.lua south-admin-token 'return { office = { max_value = 500000000 } }' >/dev/null; expect "an authority.lua candidate" 201
D=$(jq -r .version <"$WORK/body")
sim=$(api POST "/v1/rules/region/south/versions/$D/simulate" hq-admin-token '{}')
check "routing lists the opportunity whose next KDP changes level" \
    [ "$(echo "$sim" | jq -c '[.routing_total, (.routing[0] | [.instance, .stage, .kdp, .value, .before, .after])]')" = "[1,[$OPP,\"opportunity\",\"ATB\",800000000,\"office\",\"region\"]]" ]
out=$(LTC_TOKEN=hq-admin-token CTL rules simulate region/south "$D")
check "ltcctl prints the routing change" has "$out" "^$OPP  *province-a  *opportunity  *ATB  *8,000,000.00 CNY .*office -> region"

# --- shadow runs ---------------------------------------------------------------
# Active: v1 (hot 65 for the region). Shadow S: the failing candidate above.
api PUT /v1/rules/region/south/thresholds.lua south-admin-token "$(cat "$WORK/thresholds.lua") -- shadow" >/dev/null
S=$(jq -r .version <"$WORK/body")
SH=/v1/rules/region/south/versions/$S/shadow
for h in 0 169 1.5 '"2"' null; do
    api POST "$SH" south-admin-token "{\"hours\":$h}" >/dev/null; expect "hours $h: 400" 400 invalid_field
done
api POST "$SH" south-admin-token '{}' >/dev/null; expect "hours is required" 400 invalid_field
api POST "$SH" pa-admin-token '{"hours":2}' >/dev/null; expect "an office admin may not shadow the region's version" 403 forbidden
api POST "$SH" north-admin-token '{"hours":2}' >/dev/null; expect "another region's admin may not" 403 forbidden
api POST "$SH" hq-viewer-token '{"hours":2}' >/dev/null; expect "an hq viewer may not" 403 forbidden
api POST "/v1/rules/region/south/versions/$A/shadow" hq-admin-token '{"hours":2}' >/dev/null; expect "only a pending version is shadowed" 409 conflict
api POST /v1/rules/region/south/versions/999/shadow hq-admin-token '{"hours":2}' >/dev/null; expect "a version that does not exist: 404" 404 not_found
api GET "$SH" hq-viewer-token >/dev/null; expect "no shadow yet: 404" 404 not_found
api POST "$SH" south-admin-token '{"hours":2}' >/dev/null; expect "the owner's admin starts a shadow" 201
check "the answer is the summary: version, until, zero counts" \
    [ "$(jq -c '[.version, .status, (.until | type), .evaluated, .differing, .failed, .examples]' <"$WORK/body")" = "[$S,\"running\",\"string\",0,0,0,[]]" ]
until=$(jq -r .until <"$WORK/body"); started=$(jq -r .started_at <"$WORK/body")
check "until is 2 hours after the start" [ $(( $(date -d "$until" +%s) - $(date -d "$started" +%s) )) = 7200 ]

ok_all=1
for i in 1 2 3 4; do [ "$(create sales)" = 201 ] || ok_all=0; done
for i in 1 2; do [ "$(create marketing)" = 201 ] || ok_all=0; done
check "clients get 201 while the shadow version fails for marketing leads" [ "$ok_all" = 1 ]
last=$(jq -r .id <"$WORK/body")
for i in 1 2 3; do create sales city-c cc-admin-token >/dev/null; done # region north: out of scope
api POST "/v1/instances/$last/actions" pa-ar-token '{"action":"reevaluate"}' >/dev/null; expect "a reevaluation succeeds" 200
api GET "$SH" pa-ar-token >/dev/null; expect "an office principal may not read a region's shadow (it names the region's leads)" 403 forbidden
api GET "$SH" north-admin-token >/dev/null; expect "nor may another region" 403 forbidden
api GET "$SH" south-reviewer-token >/dev/null; expect "the region's principals read it" 200
sum=$(api GET "$SH" hq-viewer-token); expect "HQ's principals read it" 200
check "evaluated counts the 6 leads created in scope and the reevaluation, not the north's" [ "$(echo "$sum" | jq .evaluated)" = 7 ]
check "failed counts the shadow's errors (the 2 marketing leads and their reevaluation)" [ "$(echo "$sum" | jq .failed)" = 3 ]
check "differing counts the sales leads (mature under v1, early under the shadow)" [ "$(echo "$sum" | jq .differing)" = 4 ]
check "examples show differing and failed results first, with file:line" \
    [ "$(echo "$sum" | jq --arg e "$ERR_AT" '[.examples[:7][] | select(.differs or (.error | contains($e)))] | length')" = 7 ]
check "an example shows active and shadow evaluations" \
    [ "$(echo "$sum" | jq -c '[.examples[] | select(.differs)][0] | [.active.maturity, .shadow.maturity]')" = '["mature","early"]' ]
check "the instances cite the active version only" \
    [ "$(api GET "/v1/instances/$last" hq-viewer-token | jq -c '[.evaluation.rules["region/south"], .evaluation.previous.rules["region/south"]]')" = "[$A,$A]" ]
check "so do their events" [ "$(api GET "/v1/instances/$last/events" hq-viewer-token | jq -c '[.events[].rules["region/south"]] | unique')" = "[$A]" ]
check "each result is one row beside the lead" [ "$(sql 'SELECT count(*) FROM rule_shadow_results')" = 7 ]
out=$(LTC_TOKEN=hq-viewer-token CTL rules shadow region/south "$S")
check "ltcctl rules shadow shows the summary as a table" has "$out" "^evaluated  *7$"
check "ltcctl lists the failed examples with file:line" has "$out" "failed  *region/south v$S: $ERR_AT"
check "the start is audited" [ "$(api GET /v1/rules/region/south/events hq-viewer-token | jq -r '.events[-1] | .action + "," + (.version | tostring)')" = "shadow,$S" ]

# A restart resumes the window; a new shadow of S replaces it.
stop_daemon; start_daemon || exit 1
create sales >/dev/null
check "after a restart the shadow still runs" [ "$(api GET "$SH" hq-viewer-token | jq .evaluated)" = 8 ]
LTC_TOKEN=hq-admin-token CTL rules shadow region/south "$S" --hours 1 >"$WORK/out"
check "ltcctl rules shadow --hours starts a new window" has "$(cat "$WORK/out")" "^evaluated  *0$"
create sales >/dev/null
check "the new window counts from zero" [ "$(api GET "$SH" hq-viewer-token | jq -c '[.evaluated, .status]')" = '[1,"running"]' ]

# It ends when the version is approved, rejected or superseded.
api POST "/v1/rules/region/south/versions/$S/approve" hq-admin-token >/dev/null; expect "approve the shadowed version" 200
create sales >/dev/null
check "approval ends the shadow" [ "$(api GET "$SH" hq-viewer-token | jq -c '[.status, .end_reason, .evaluated]')" = '["ended","approved",1]' ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 70 }' >/dev/null; T=$(jq -r .version <"$WORK/body")
api POST "/v1/rules/region/south/versions/$T/shadow" hq-admin-token '{"hours":168}' >/dev/null; expect "an hq admin starts a week-long shadow" 201
api POST "/v1/rules/region/south/versions/$T/reject" hq-admin-token '{"reason":"no"}' >/dev/null
create sales >/dev/null
check "rejection ends the shadow" [ "$(api GET "/v1/rules/region/south/versions/$T/shadow" hq-viewer-token | jq -c '[.status, .end_reason, .evaluated]')" = '["ended","rejected",0]' ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 71 }' >/dev/null; U1=$(jq -r .version <"$WORK/body")
api POST "/v1/rules/region/south/versions/$U1/shadow" hq-admin-token '{"hours":1}' >/dev/null; expect "shadow a pending version" 201
# A newer version is built on U1 and supersedes it (CONTRACT 8.2 lineage).
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 72 }' >/dev/null; U2=$(jq -r .version <"$WORK/body")
check "supersession ends the shadow" [ "$(api GET "/v1/rules/region/south/versions/$U1/shadow" hq-viewer-token | jq -r .end_reason)" = superseded ]
api POST "/v1/rules/region/south/versions/$U1/shadow" hq-admin-token '{"hours":1}' >/dev/null; expect "a superseded version is not shadowed" 409 conflict
api POST "/v1/rules/region/south/versions/$U2/approve" hq-admin-token >/dev/null; expect "approve the newer one" 200

# --- runtime errors --------------------------------------------------------------
# A marketing lead stored while the rules still evaluate it, for a reevaluation later.
M=$(api POST /v1/leads pa-ar-token "$(lead_of marketing)" | jq -r .id)
api PUT /v1/rules/region/south/thresholds.lua south-admin-token "$(cat "$WORK/thresholds.lua") -- approved" >/dev/null; R=$(jq -r .version <"$WORK/body")
api POST "/v1/rules/region/south/versions/$R/approve" hq-admin-token >/dev/null; expect "HQ approves a version that fails for marketing leads" 200
check "last_error is clear after the approval" [ "$(south | jq -c .last_error)" = null ]
lines_before=$(wc -l <"$WORK/log")
for i in 1 2 3; do
    api POST /v1/leads pa-ar-token "$(lead_of marketing)" >/dev/null; expect "a marketing lead gets 422 ($i)" 422 rule_error
done
check "the client's error names the file and line" has "$(jq -r .error.message <"$WORK/body")" "region/south v$R: $ERR_AT"
check "a sales lead still gets 201" [ "$(create sales)" = 201 ]
e=$(south | jq -c .last_error)
check "last_error is a runtime error of the approved version" [ "$(echo "$e" | jq -c '[.kind, .version, .count]')" = "[\"runtime\",$R,3]" ]
check "last_error's message names file and line" has "$(echo "$e" | jq -r .message)" "$ERR_AT"
check "first_at is the first of the three, at the newest" [ "$(echo "$e" | jq '.first_at < .at')" = true ]
api POST "/v1/instances/$M/actions" pa-ar-token '{"action":"reevaluate"}' >/dev/null; expect "a reevaluation (group commit) gets 422" 422 rule_error
check "errors in the group-commit path reach last_error too" [ "$(south | jq .last_error.count)" = 4 ]
metric() { curl -s "$URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
check "/metrics counts them by owner and kind" [ "$(metric 'ltcd_rule_errors_total{owner="region/south",kind="runtime"}')" = 4 ]
tail -n +"$((lines_before + 1))" "$WORK/log" >"$WORK/new.log"
grep 'rule runtime error' "$WORK/new.log" >"$WORK/errors.log"
check "one log line per runtime error" [ "$(wc -l <"$WORK/errors.log")" = 4 ]
check "each names owner, version, file:line and actor" \
    [ "$(grep -c "owner=region/south version=$R where=regions/south/thresholds.lua:4 actor=office/province-a:ar error=$ERR_AT" "$WORK/errors.log")" = 4 ]
ids_ok=1
for id in $(sed -n 's/.* warn \[\([^]]*\)\] rule runtime error.*/\1/p' "$WORK/errors.log"); do
    grep -q "info \[$id\] POST /v1/[a-z/0-9]*: 422 " "$WORK/new.log" || ids_ok=0
done
check "each carries the request id of the 422 it caused" [ "$ids_ok" = 1 -a -s "$WORK/errors.log" ]

# A burst is rate-limited: at most RULES_ERROR_LOG_PER_S (5) lines a second,
# the last saying that more are dropped, the next line saying how many were.
sleep 1.1 # a fresh second: the errors above count in theirs
lines_before=$(wc -l <"$WORK/log")
seq 1 30 | xargs -P 4 -I{} curl -s -o /dev/null -H "Authorization: Bearer pa-ar-token" --data-binary "$(lead_of marketing)" "$URL/v1/leads"
sleep 1.2
api POST /v1/leads pa-ar-token "$(lead_of marketing)" >/dev/null
tail -n +"$((lines_before + 1))" "$WORK/log" >"$WORK/burst.log"
n=$(grep -c 'rule runtime error' "$WORK/burst.log")
check "a burst of 31 errors writes far fewer lines ($n)" [ "$n" -ge 6 -a "$n" -le 21 ]
check "the limit is announced" grep -q 'note=further runtime errors of this owner are dropped this second' "$WORK/burst.log"
check "the dropped lines are counted" grep -q 'rules: region/south: [0-9]* further runtime error lines were dropped' "$WORK/burst.log"
check "every error is still counted" [ "$(south | jq .last_error.count)" = 35 ]

# JSON logs carry the same as fields.
stop_daemon; start_daemon --log-format json || exit 1
api POST /v1/leads pa-ar-token "$(lead_of delivery)" >/dev/null; expect "after a restart the version still fails" 422 rule_error
grep '"msg":"rule runtime error"' "$WORK/log" | tail -1 >"$WORK/line.json"
check "a JSON line has owner, version, where, req_id and actor fields" \
    [ "$(jq -c '[.level, .owner, .version, .where, (.req_id | length > 0), .actor]' <"$WORK/line.json")" = "[\"warn\",\"region/south\",\"$R\",\"regions/south/thresholds.lua:4\",true,\"office/province-a:ar\"]" ]

# It never goes stale: a fixed version settles it; a failed upload cites the
# number the next good version gets, and that version settles it.
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 66 }' >/dev/null; F=$(jq -r .version <"$WORK/body")
check "a pending fix does not hide the active version's errors" [ "$(south | jq -r .last_error.kind)" = runtime ]
api POST "/v1/rules/region/south/versions/$F/approve" hq-admin-token >/dev/null; expect "approve the fix" 200
check "activating the fix settles the runtime error" [ "$(south | jq -c .last_error)" = null ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 99 }' >/dev/null; expect "out of HQ's bounds" 422 rule_rejected
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 99 }' >/dev/null
check "a validation error, counted twice" [ "$(south | jq -c '[.last_error.kind, .last_error.count]')" = '["validation",2]' ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return {' >/dev/null; expect "a syntax error" 422 rule_syntax
V=$(south | jq .last_error.version)
check "a load error names the version it would have been" [ "$(south | jq -r .last_error.kind)" = load -a "$V" -gt "$F" ]
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 67 }' >/dev/null; expect "the next good version" 201
# Refused numbers are spent (lineage): the good version comes after the one the error cites.
check "it takes a newer number, and settles the error" [ "$(jq -r .version <"$WORK/body")" -gt "$V" -a "$(south | jq -c .last_error)" = null ]
check "the counters keep every kind" [ "$(metric 'ltcd_rule_errors_total{owner="region/south",kind="validation"}')" = 2 -a "$(metric 'ltcd_rule_errors_total{owner="region/south",kind="load"}')" = 1 ]
out=$(LTC_TOKEN=hq-viewer-token CTL rules status)
check "ltcctl rules status still prints" has "$out" "region/south"

stop_daemon
finish
