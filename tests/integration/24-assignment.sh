#!/bin/sh
# 24-assignment: a new lead's owner (CONTRACT 8.3). HQ's default is the
# least-loaded active account manager of the office (ties: the smallest id;
# none: null); a region's assignment.lua decides instead (North ships one:
# technical leads to the least-loaded solution expert). A hostile
# assignment.lua is refused when it loads (a loop, a wrong type, a person of
# another office for HQ's sample leads) and bounded when it fails later: the
# lead is created with HQ's default owner, and the error is the region's
# runtime last_error and counted in ltcd_rule_errors_total. assign_owner, the
# owner filter and the open-lead counts.
. "$(dirname "$0")/lib.sh"
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
start_daemon --auto-approve || exit 1

put_person() { api PUT "/v1/people/$1" hq-admin "{\"name\":\"$1\",\"office\":\"$2\",\"roles\":$3${4:+,\"active\":$4}}" >/dev/null; }
lead() { api POST /v1/leads "$1" "$(echo "$LEAD" | jq -c --arg o "$2" --arg s "${3:-sales}" --arg t "${4:-5G core}" '.office = $o | .source = $s | .title = $t')" >/dev/null; }
owner() { jq -r .owner <"$WORK/body"; }

lead province-a-ar province-a; expect "a lead in an office without people" 201
check "... has no owner" [ "$(jq -c '[.owner, .assignment.by]' <"$WORK/body")" = '[null,"hq"]' ]
put_person zoe province-a '["ar"]'
put_person amy province-a '["ar","sr"]'
put_person sam province-a '["sr"]'
put_person old province-a '["ar"]' false
lead province-a-ar province-a; check "least-loaded, ties to the smallest id: amy" [ "$(owner)" = amy ]
lead province-a-ar province-a; check "then zoe (amy has one open lead)" [ "$(owner)" = zoe ]
lead province-a-ar province-a; check "then amy again" [ "$(owner)" = amy ]
check "an inactive ar and a non-ar never get one" [ "$(sql "SELECT count(*) FROM instances WHERE owner IN ('old','sam')")" = 0 ]
check "open-lead counts are kept" [ "$(sql "SELECT person || '=' || open_leads FROM person_load ORDER BY person" | paste -sd' ' -)" = "amy=2 zoe=1" ]
api GET "/v1/instances?owner=amy" province-a-viewer >/dev/null
check "GET /v1/instances?owner= lists amy's leads" [ "$(jq -c '[.instances[].owner] | unique' <"$WORK/body")" = '["amy"]' ] && [ "$(jq '.instances | length' <"$WORK/body")" = 2 ]
api GET "/v1/instances?owner=Amy!" province-a-viewer >/dev/null; expect "a malformed owner filter is 400" 400 invalid_field
api GET "/v1/instances?owner=amyy" province-a-viewer >/dev/null; expect "a misspelt owner is 400, not an empty page" 400 invalid_field
check "... naming the owner" [ "$(jq -r .error.message <"$WORK/body")" = "owner: no person 'amyy' in your scope" ]
api GET "/v1/instances?owner=sam" province-a-viewer >/dev/null; expect "a person who owns nothing: an empty page" 200
check "... with no instances" [ "$(jq '.instances | length' <"$WORK/body")" = 0 ]

# assign_owner: reviewer and admin, stage lead, an active person of the office.
AMY1=$(sql "SELECT min(id) FROM instances WHERE owner='amy'")
api POST "/v1/instances/$AMY1/actions" province-a-ar '{"action":"assign_owner","owner":"zoe"}' >/dev/null; expect "an ar may not assign_owner" 403 forbidden
api POST "/v1/instances/$AMY1/actions" province-a-viewer '{"action":"assign_owner","owner":"zoe"}' >/dev/null; expect "a viewer may not" 403 forbidden
api POST "/v1/instances/$AMY1/actions" province-a-ar '{"action":"review","decision":"nurture","owner":"zoe"}' >/dev/null; expect "nor change the owner through a review" 403 forbidden
check "... which records nothing" [ "$(sql "SELECT count(*) FROM events WHERE instance_id = $AMY1")" = 1 ]
put_person cc1 city-c '["ar"]'
api GET "/v1/instances?owner=cc1" province-a-viewer >/dev/null; expect "a person of another office reads as unknown" 400 invalid_field
api GET "/v1/instances?owner=cc1" north-admin >/dev/null; expect "... and is a filter for its region" 200
api POST "/v1/instances/$AMY1/actions" province-a-reviewer '{"action":"assign_owner","owner":"cc1"}' >/dev/null; expect "a person of another office is refused" 400 invalid_field
api POST "/v1/instances/$AMY1/actions" province-a-reviewer '{"action":"assign_owner","owner":"old"}' >/dev/null; expect "an inactive person is refused" 400 invalid_field
api POST "/v1/instances/$AMY1/actions" province-a-reviewer '{"action":"assign_owner","owner":"nobody"}' >/dev/null; expect "an unknown person is refused" 400 invalid_field
api POST "/v1/instances/$AMY1/actions" province-a-reviewer '{"action":"assign_owner","owner":"zoe","x":1}' >/dev/null; expect "an unknown field is refused" 400 invalid_field
api POST "/v1/instances/$AMY1/actions" province-a-reviewer '{"action":"assign_owner","owner":"sam"}' >/dev/null; expect "a reviewer assigns sam" 200
check "the owner changed" [ "$(owner)" = sam ]
api GET "/v1/instances/$AMY1/events" province-a-reviewer >/dev/null
check "an assign_owner event with previous and person" [ "$(jq -c '.events[-1] | [.action, .outcome.owner, .outcome.previous, .person]' <"$WORK/body")" = '["assign_owner","sam","amy","pa-reviewer"]' ]
check "counts follow" [ "$(sql "SELECT open_leads FROM person_load WHERE person='sam'")" = 1 ]
api POST "/v1/instances/$AMY1/actions" hq-admin '{"action":"review","decision":"convert"}' >/dev/null
check "a converted lead is not open any more" [ "$(sql "SELECT open_leads FROM person_load WHERE person='sam'")" = 0 ]
api POST "/v1/instances/$AMY1/actions" province-a-admin '{"action":"assign_owner","owner":"zoe"}' >/dev/null; expect "assign_owner after the lead stage: 409" 409 conflict

# A regional rule: North's shipped assignment.lua.
put_person na city-c '["ar"]'
put_person ns city-c '["sr"]'
lead cc-ar city-c technical; check "North: a technical lead goes to the solution expert" [ "$(jq -c '[.owner, .assignment.by]' <"$WORK/body")" = '["ns","region/north@1"]' ]
lead cc-ar city-c sales; check "North: a sales lead to the least-loaded ar (cc1 and na tie: cc1)" [ "$(owner)" = cc1 ]
lead cc-ar city-c sales; check "... then na" [ "$(owner)" = na ]

# Hostile rules refused when they load.
putrule() { api PUT /v1/rules/region/north/assignment.lua north-admin "$1" >/dev/null; }
putrule 'return function(lead, c) while true do end end'; expect "an endless loop is refused at load" 422 rule_budget
putrule 'return function(lead, c) return 42 end'; expect "a number is refused" 422 rule_output
putrule 'return function(lead, c) return { c[1].id } end'; expect "a table is refused" 422 rule_output
putrule 'return function(lead, c) return "cc1-of-another-office" end'; expect "an id that is no candidate is refused" 422 rule_output
putrule 'return function(lead, c) return "zoe" end'; expect "a registered person of another office (zoe, province-a) is refused" 422 rule_output
putrule 'return 7'; expect "a file that is not a function is refused" 422 rule_output
# Each refusal names owner, version and file, as every rule error does.
for body in 'return function(lead, c) while true do end end' 'return function(lead, c) return 42 end' \
    'return function(lead, c) return "zoe" end' 'return {}' 'return 7'; do
    putrule "$body"
    check "refused at load, naming owner, version and file: $body" \
        sh -c "jq -r .error.message '$WORK/body' | grep -Eq '^region/north v[0-9]+: regions/north/assignment.lua: '"
done
lead cc-ar city-c technical; check "the shipped rule stays active" [ "$(jq -r .assignment.by <"$WORK/body")" = "region/north@1" ]

# Hostile rules that pass HQ's samples and fail later: bounded.
# North's shipped rule (its tests.lua still passes) with three traps in it.
putrule "$(sed 's/^return function(lead, candidates)$/&\
    if lead.title == "loop" then while true do end end\
    if lead.title == "foreign" then return "zoe" end\
    if lead.title == "number" then return 1 end/' "$WORK/rules/regions/north/assignment.lua")"
expect "a rule hostile only for some leads passes its load checks" 201
# HQ's default as the database says it: the least-loaded active ar, smallest id first.
hq_default() {
    if on_pg; then is_ar="EXISTS (SELECT 1 FROM json_array_elements_text(p.doc::json -> 'roles') r WHERE r = 'ar')"
    else is_ar="EXISTS (SELECT 1 FROM json_each(p.doc, '\$.roles') WHERE value = 'ar')"; fi
    sql "SELECT p.id FROM people p LEFT JOIN person_load l ON l.person = p.id
        WHERE p.office = 'city-c' AND p.active = 1 AND $is_ar
        ORDER BY coalesce(l.open_leads, 0), p.id LIMIT 1"
}
for t in loop foreign number; do
    want=$(hq_default)
    lead cc-ar city-c sales "$t"; expect "a '$t' lead is still created" 201
    check "... with HQ's default owner ($want)" [ "$(jq -c '[.owner, .assignment.by]' <"$WORK/body")" = "[\"$want\",\"hq\"]" ]
    check "... and the rule error recorded beside it" [ -n "$(jq -r '.assignment.rule_error // empty' <"$WORK/body")" ]
    api GET /v1/rules hq-admin >/dev/null
    check "... as region/north's runtime last_error" [ "$(jq -r '.owners[] | select(.owner == "region/north") | .last_error.kind' <"$WORK/body")" = runtime ]
done
check "the three errors are counted as region/north's runtime errors" sh -c "curl -s '$URL/metrics' | grep -q 'ltcd_rule_errors_total{owner=\"region/north\",kind=\"runtime\"} 3'"
api GET "/v1/instances?office=city-c&limit=500" hq-admin >/dev/null
check "no lead of North was lost to the hostile rule" [ "$(jq '.instances | length' <"$WORK/body")" = 7 ]

stop_daemon
finish
