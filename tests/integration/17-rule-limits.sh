#!/bin/sh
# A rule call ends within its budget whatever it asks of Lua's C library
# (string.rep("", math.maxinteger) used to hang the daemon for good), its
# output is capped at 64 KiB, and its loaded state is read-only to calls
# (CONTRACT 4 "Sandbox promises", 8.2). Every step that could hang is bounded
# by curl --max-time or timeout, so a regression fails instead of stalling.
. "$(dirname "$0")/lib.sh"

ms() { echo $(($(date +%s%N) / 1000000)); }
HANG='return #string.rep("", math.maxinteger)'

# --check-rules and start-up on a tree holding such a rule: they end.
cp -r "$ROOT/rules" "$WORK/hostile"
printf '%s\n' "$HANG" >"$WORK/hostile/offices/city-c/tools.lua"
timeout 20 "$LTCD" --check-rules --rules "$WORK/hostile" >/dev/null 2>"$WORK/err"; rc=$?
check "--check-rules on a tree with a hanging rule ends with exit 1" [ $rc = 1 ]
check "... naming the file and the budget" grep -q '^offices/city-c/tools.lua:.*budget exhausted: string.rep' "$WORK/err"
mkdir -p "$WORK/badhq/hq"; cp "$ROOT"/rules/hq/*.lua "$WORK/badhq/hq/"
printf '%s\n' "$HANG" >"$WORK/badhq/hq/lead.lua"
timeout 20 "$LTCD" --db "$WORK/h.db" --rules "$WORK/badhq" --tokens "$TOKENS" --listen 127.0.0.1:0 >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && tail -1 "$WORK/err" | grep -q '^ltcd: .*hq/lead.lua.*budget'; ok_if "start-up with a hanging HQ rule exits 1 with one line"

rm -rf "$WORK/rules"; cp -r "$WORK/hostile" "$WORK/rules"
start_daemon || exit 1
api GET /v1/rules hq-viewer-token >/dev/null
check "a hanging office rule on disk leaves the daemon serving, with its error" [ "$(jq -r '.owners[] | select(.owner == "office/city-c") | .last_error.message' <"$WORK/body" | grep -c 'budget')" = 1 ]

# Uploads: the top-level chunk is stopped by the load budget.
t0=$(ms)
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token "$HANG" >/dev/null
expect "a hanging top-level chunk: 422 rule_budget" 422 rule_budget
check "... within twice the load budget ($(($(ms) - t0)) ms)" [ $(($(ms) - t0)) -lt 2000 ]

# Calls: the checklist hangs only for one customer, so the upload validates.
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'return { checklist = function(stage, instance)
    if instance.customer == "Spin" then return { #string.rep("", math.maxinteger) } end
    if instance.customer == "Huge" then
        local t = {} for i = 1, 20000 do t[i] = "checklist item " .. i end return t
    end
    return { "Customer visit report attached" }
end }' >/dev/null
expect "a checklist that hangs for one customer validates" 201
SPIN=$(echo "$LEAD" | jq -c '.customer = "Spin"')
before=$(instance_count)
: >"$WORK/spins"; jobs=""
for i in 1 2 3 4; do
    curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer pa-ar-token' \
        --data-binary "$SPIN" "$URL/v1/leads" >>"$WORK/spins" &
    jobs="$jobs $!"
done
healthy=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] && healthy=$((healthy + 1))
done
api POST /v1/leads cc-admin-token '{"office":"city-c","customer":"x","title":"y","source":"sales","horizon_months":6,"budget":{"amount":1,"status":"none"}}' >/dev/null
expect "another owner is served meanwhile" 201
# shellcheck disable=SC2086 # one word a job
wait $jobs
check "/health kept answering while hanging calls came in ($healthy/10)" [ $healthy = 10 ]
check "each hanging call got 422 ($(tr '\n' ' ' <"$WORK/spins"))" [ "$(grep -c '^422$' "$WORK/spins")" = 4 ]
t0=$(ms)
api POST /v1/leads pa-ar-token "$SPIN" >/dev/null
expect "a hanging call: 422 rule_budget" 422 rule_budget
check "... within twice the call budget ($(($(ms) - t0)) ms)" [ $(($(ms) - t0)) -lt 2000 ]
check "... naming owner, file and line" grep -q 'office/province-a v[0-9]*: offices/province-a/tools.lua:2:' "$WORK/body"
check "nothing was stored for them" [ "$(instance_count)" = $((before + 1)) ]

# Output: 20000 checklist items are refused, not copied into the instance.
api POST /v1/leads pa-ar-token "$(echo "$LEAD" | jq -c '.customer = "Huge"')" >/dev/null
expect "a checklist over 64 KiB: 422 rule_error" 422 rule_error
check "... naming owner, file and the limit" grep -q 'office/province-a v[0-9]*: offices/province-a/tools.lua: checklist: output over the 65536-byte limit' "$WORK/body"
check "nothing was stored" [ "$(instance_count)" = $((before + 1)) ]

# State: a checklist counting its calls counts one each time.
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'local calls = 0
return { checklist = function() calls = calls + 1 return { "call " .. calls } end }' >/dev/null
expect "a counting checklist validates" 201
a=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -c '.checklist.lead')
b=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -c '.checklist.lead')
[ "$a" = '["call 1"]' ] && [ "$b" = "$a" ]; ok_if "two leads get the same checklist ($a, $b)"
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'local seen = {}
return { checklist = function(stage) seen[#seen + 1] = stage return { "seen " .. #seen } end }' >/dev/null
expect "a checklist writing its module table is refused at upload" 422 rule_error
check "... saying the loaded state is read-only" grep -q 'tools.lua:2: attempt to change the rule.s loaded state' "$WORK/body"

# SIGTERM while hanging calls are in flight: the daemon stops, exit 0.
jobs=""
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'return { checklist = function(stage, instance)
    if instance.customer == "Spin" then return { #string.rep("", math.maxinteger) } end return {} end }' >/dev/null
for i in 1 2 3 4 5 6; do
    curl -s --max-time 10 -o /dev/null -H 'Authorization: Bearer pa-ar-token' --data-binary "$SPIN" "$URL/v1/leads" &
    jobs="$jobs $!"
done
sleep 0.05
kill -TERM "$PID"
i=0; while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$PID" 2>/dev/null; then
    not_ok "SIGTERM stops the daemon within 10 s" "still running"; kill -9 "$PID"
else
    wait "$PID"; rc=$?
    check "SIGTERM stops the daemon with exit 0 ($((i * 100)) ms)" [ $rc = 0 ]
fi
PID=""
# shellcheck disable=SC2086 # one word a job
wait $jobs
finish
