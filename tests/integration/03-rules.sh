#!/bin/sh
# Rules over HTTP and from disk: validation, HQ lock, approval, hot reload.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1   # no --auto-approve: region versions wait for HQ

api GET /v1/rules hq-viewer-token >/dev/null; expect "rules status: 200" 200
check "HQ and office bundles from disk are active" [ "$(jq -c '[.owners[] | select(.active != null) | .owner]' <"$WORK/body")" = '["hq","office/city-c","office/province-a"]' ]
check "region bundles from disk wait for HQ approval" [ "$(jq -c '[.owners[] | select(.pending[0].version == 1) | .owner]' <"$WORK/body")" = '["region/north","region/south"]' ]
api POST /v1/rules/region/south/versions/1/approve hq-admin-token >/dev/null; expect "hq admin approves region/south v1" 200

api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = ' >/dev/null
expect "syntax error: 422" 422 rule_syntax
check "message has file:line" grep -q 'regions/south/thresholds.lua:1:' "$WORK/body"
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 99 }' >/dev/null
expect "out of bounds: 422" 422 rule_rejected
check "the field is named" [ "$(jq -r .error.details.field <"$WORK/body")" = hot ]
api PUT /v1/rules/region/south/org.lua south-admin-token 'return {}' >/dev/null
expect "not an extension point: 422" 422 rule_rejected
api GET /v1/rules hq-viewer-token >/dev/null
check "last_error shows the newest failure" [ "$(jq -r '.owners[] | select(.owner == "region/south") | .last_error.message' <"$WORK/body" | grep -c org.lua)" = 1 ]
check "the active version stays v1" [ "$(jq -r '.owners[] | select(.owner == "region/south") | .active.version' <"$WORK/body")" = 1 ]

api PUT /v1/rules/region/south/thresholds.lua north-admin-token 'return { hot = 60 }' >/dev/null
expect "a region cannot write another region" 403 forbidden
api PUT /v1/rules/region/south/thresholds.lua pa-admin-token 'return { hot = 60 }' >/dev/null
expect "an office cannot write L4" 403 forbidden
api PUT /v1/rules/hq/lead.lua south-admin-token 'return {}' >/dev/null
expect "a region cannot touch HQ" 403 forbidden
api PUT /v1/rules/region/south/thresholds.lua south-reviewer-token 'return { hot = 60 }' >/dev/null
expect "a non-admin cannot write rules" 403 forbidden

api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 60, warm = 30 }' >/dev/null
expect "valid L4 upload: 201" 201
check "it is pending" [ "$(jq -r .status <"$WORK/body")" = pending ]
V=$(jq -r .version <"$WORK/body")
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 60, warm = 30 }' >/dev/null
[ "$(status)" = 200 ] && [ "$(jq -r .status,.version <"$WORK/body" | tr '\n' ,)" = "unchanged,$V," ]; ok_if "identical content is a no-op"
out=$(api POST /v1/leads pa-ar-token "$LEAD")
check "leads still use v1 while v$V is pending" [ "$(echo "$out" | jq -r '.evaluation.rules["region/south"]')" = 1 ]
api POST "/v1/rules/region/south/versions/$V/approve" south-admin-token >/dev/null
expect "a region admin cannot approve its own version" 403 forbidden
api POST "/v1/rules/region/south/versions/$V/approve" hq-admin-token >/dev/null
expect "hq admin approves: 200" 200
out=$(api POST /v1/leads pa-ar-token "$LEAD")
check "new leads use the approved version" [ "$(echo "$out" | jq -r '.evaluation.rules["region/south"]')" = "$V" ]
api POST "/v1/rules/region/south/versions/$V/approve" hq-admin-token >/dev/null
expect "approving again is a conflict" 409 conflict
api GET "/v1/rules/region/south/versions/$V" hq-viewer-token >/dev/null; expect "a version serves its source" 200
check "the source is the uploaded text" [ "$(jq -r '.files["thresholds.lua"]' <"$WORK/body")" = 'return { hot = 60, warm = 30 }' ]

api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'return { defaults = { horizon_months = 3 } }' >/dev/null
expect "office versions activate at once" 201
check "status active" [ "$(jq -r .status <"$WORK/body")" = active ]

# A hostile upload is rejected within its budget; other owners keep being served.
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'while true do end' >/dev/null
expect "an endless loop is killed by the load budget" 422 rule_budget
api POST /v1/leads cc-admin-token '{"office":"city-c","customer":"x","title":"y","budget":{"amount":1,"status":"none"}}' >/dev/null
expect "other owners are served after it" 201

# Disk: editing a file is picked up by the watcher (through the same pipeline).
sleep 0.3
printf '%s\n' 'return { defaults = { source = "technical" } }' >"$WORK/rules/offices/city-c/tools.lua.tmp"
mv "$WORK/rules/offices/city-c/tools.lua.tmp" "$WORK/rules/offices/city-c/tools.lua"
i=0; v=1
while [ $i -lt 40 ]; do
    v=$(api GET /v1/rules hq-viewer-token | jq -r '.owners[] | select(.owner == "office/city-c") | .active.version')
    [ "$v" = 2 ] && break; sleep 0.1; i=$((i + 1))
done
check "an edit saved by rename is reloaded by the watcher" [ "$v" = 2 ]
printf 'return { defaults = { source = \n' >"$WORK/rules/offices/city-c/tools.lua"
kill -HUP "$PID"; sleep 0.5
api GET /v1/rules hq-viewer-token >/dev/null
check "a broken file on disk keeps the version and reports it" [ "$(jq -r '.owners[] | select(.owner == "office/city-c") | [.active.version, (.last_error.message | test("tools.lua:2"))] | map(tostring) | join(",")' <"$WORK/body")" = "2,true" ]
echo 'not lua' >"$WORK/rules/offices/city-c/notes.txt"
sleep 0.5
check "non-Lua files are ignored" [ "$(api GET /v1/rules hq-viewer-token | jq -r '.owners[] | select(.owner == "office/city-c") | .active.version')" = 2 ]
printf '%s\n' 'return { defaults = { source = "marketing", horizon_months = 4 } }' >"$WORK/rules/offices/city-c/tools.lua"
kill -HUP "$PID"; sleep 0.5
out=$(api POST /v1/leads cc-admin-token '{"office":"city-c","customer":"x","title":"y","budget":{"amount":1,"status":"none"}}')
check "SIGHUP reload applies the fixed file" [ "$(echo "$out" | jq -r .source)" = marketing ]

# The tutorial's adaptation (examples/adaptation) goes through as one version.
LTC_URL=$URL LTC_TOKEN=south-admin-token "$LTCCTL" --json rules push region/south "$ROOT/examples/adaptation/regions/south" >"$WORK/out" 2>&1
check "the example adaptation validates and waits for HQ" [ "$(jq -r .status "$WORK/out")" = pending ]
V=$(jq -r .version "$WORK/out")
LTC_URL=$URL LTC_TOKEN=hq-admin-token "$LTCCTL" rules approve region/south "$V" >/dev/null
out=$(api POST /v1/leads pa-ar-token "$LEAD")
[ "$(echo "$out" | jq -r '.evaluation.rules["region/south"]')" = "$V" ] && [ "$(echo "$out" | jq -r .evaluation.thresholds.hot)" = 60 ]; ok_if "after approval leads use it"
"$LTCD" --check-rules --rules "$ROOT/rules" >/dev/null 2>&1; check "--check-rules on the shipped tree exits 0" [ $? = 0 ]
"$LTCD" --check-rules --rules "$WORK/rules" 2>"$WORK/err" >/dev/null; rc=$?
printf 'return { defaults = { source = \n' >"$WORK/rules/offices/city-c/tools.lua"
"$LTCD" --check-rules --rules "$WORK/rules" 2>"$WORK/err" >/dev/null; rc=$?
[ $rc = 1 ] && grep -q '^offices/city-c/tools.lua:2:' "$WORK/err"; ok_if "--check-rules on a broken tree exits 1 with file:line"
stop_daemon
finish
