#!/bin/sh
# Migration of open instances to a new HQ process version (CONTRACT 8.4): a dry
# run that changes nothing, a real one that re-pins exactly the instances the
# dry run listed, with one audited event each, and the instances refused by
# the new version's migrate (or by HQ's default: a deferred decision) left as
# they were.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

act() { api POST "/v1/instances/$2/actions" "$1" "$3" >/dev/null; }
lead() { # OFFICE TITLE
    api POST /v1/leads hq-admin-token "$(echo "$LEAD" | jq -c --arg o "$1" --arg t "$2" '.office = $o | .title = $t')" | jq -r .id
}
pin() { api GET "/v1/instances/$1" hq-admin-token | jq '.rules.hq'; }
snapshot() { sql "SELECT id, doc, last_seq FROM instances ORDER BY id; SELECT count(*) FROM events" | sha256sum; }

L1=$(lead province-a "Plain lead")
L2=$(lead province-a "Stay put")
O1=$(lead province-a "Opportunity"); act hq-admin-token "$O1" '{"action":"review","decision":"convert"}'
O2=$(lead province-a "Deferred");    act hq-admin-token "$O2" '{"action":"review","decision":"convert"}'
act hq-admin-token "$O2" '{"action":"decide","kdp":"ATI","outcome":"defer","value":100000000,"discount":0,"margin":30}'
X1=$(lead province-a "Closed");      act hq-admin-token "$X1" '{"action":"close","reason":"no budget"}'
N1=$(lead city-c "North lead")
V1=$(pin "$L1")

# A new HQ version whose migrate also refuses the leads titled "Stay put".
sed 's/^local function migrate(instance, from_version)$/&\n    if instance.title == "Stay put" then return "this lead stays on v" .. from_version end/' \
    "$WORK/rules/hq/process.lua" >"$WORK/process.lua"
check "the new migrate differs" [ -n "$(diff "$WORK/rules/hq/process.lua" "$WORK/process.lua")" ]
V2=$(api PUT /v1/rules/hq/process.lua hq-admin-token "$(cat "$WORK/process.lua")" | jq .version)
expect "HQ's new process version" 201
check "a new version number" [ "$V2" -gt "$V1" ]

api POST /v1/instances/migrate south-admin-token "{\"to_hq\":$V2,\"dry_run\":true}" >/dev/null
expect "a region admin may not migrate" 403 forbidden
api POST /v1/instances/migrate hq-viewer-token "{\"to_hq\":$V2,\"dry_run\":true}" >/dev/null
expect "nor may an hq viewer" 403 forbidden
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2}" >/dev/null
expect "dry_run must be said" 400 invalid_field
api POST /v1/instances/migrate hq-admin-token '{"to_hq":99,"dry_run":true}' >/dev/null
expect "an unknown version is 404" 404 not_found
api POST /v1/instances/migrate hq-admin-token '{"to_hq":"2","dry_run":true}' >/dev/null
expect "a version is an integer" 400 invalid_field
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"dry_run\":true,\"stage\":\"closed\"}" >/dev/null
expect "closed instances are not migrated" 400 invalid_field
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"dry_run\":true,\"stage\":\"contrakt\"}" >/dev/null
expect "an unknown stage is 400" 400 invalid_field
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"dry_run\":true,\"unit\":\"office/atlantis\"}" >/dev/null
expect "an unknown unit is 404" 404 not_found
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"dry_run\":true,\"colour\":1}" >/dev/null
expect "an unknown field is 400" 400

BEFORE=$(snapshot)
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"unit\":\"office/province-a\",\"dry_run\":true}" >"$WORK/dry.json"
expect "the dry run" 200
check "the dry run changes nothing" [ "$(snapshot)" = "$BEFORE" ]
jq -e --argjson a "$L1" --argjson b "$O1" '.dry_run == true and .migrated == 2
    and ([.instances[].instance] | sort) == ([$a, $b] | sort) and all(.instances[]; .from_hq == 1)' "$WORK/dry.json" >/dev/null
ok_if "it lists the open instances of the unit the new version accepts"
jq -e --argjson l "$L2" --argjson o "$O2" '(.refused | length) == 2
    and (.refused[] | select(.instance == $l) | .reason) == "this lead stays on v1"
    and (.refused[] | select(.instance == $o) | .reason | test("ATI was deferred"))' "$WORK/dry.json" >/dev/null
ok_if "and the refused ones with the new version's reasons"

api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"unit\":\"office/province-a\",\"dry_run\":false}" >"$WORK/real.json"
expect "the migration" 200
check "the same instances as the dry run" [ "$(jq -c '[.instances, .refused]' "$WORK/real.json")" = "$(jq -c '[.instances, .refused]' "$WORK/dry.json")" ]
ok=0
for id in $(jq '.instances[].instance' "$WORK/dry.json"); do
    [ "$(pin "$id")" = "$V2" ] || ok=1
    api GET "/v1/instances/$id/events" hq-admin-token | jq -e --argjson v "$V2" \
        '[.events[] | select(.action == "migrate")] | length == 1 and .[0].outcome == {"from_hq": 1, "to_hq": $v}
         and .[0].rules == {"hq": $v}' >/dev/null || ok=1
done
[ $ok = 0 ]; ok_if "every listed instance is pinned to the new version with one migrate event"
for id in "$L2" "$O2" "$X1" "$N1"; do
    [ "$(pin "$id")" = 1 ] && [ "$(api GET "/v1/instances/$id/events" hq-admin-token | jq '[.events[] | select(.action == "migrate")] | length')" = 0 ] || ok=1
done
[ $ok = 0 ]; ok_if "refused, closed and out-of-unit instances are left as they were"
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"unit\":\"office/province-a\",\"dry_run\":false}" | jq -e '.migrated == 0 and (.refused | length) == 2' >/dev/null
ok_if "a second run finds nothing more to move"
act hq-admin-token "$L1" '{"action":"update","expected_close":"2030-01-15","value":1000}'
api GET "/v1/instances/$L1/events" hq-admin-token | jq -e --argjson v "$V2" '.events[-1].action == "update" and .events[-1].rules.hq == $v' >/dev/null
ok_if "a migrated instance acts under its new version"
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"stage\":\"lead\",\"dry_run\":true}" |
    jq -e --argjson n "$N1" '[.instances[].instance] == [$n]' >/dev/null
ok_if "a stage filter over all of HQ"

stop_daemon
check "the daemon stops cleanly" [ $? -eq 0 ]
finish
