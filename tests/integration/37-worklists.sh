#!/bin/sh
# 37-worklists: the dashboard's work lists. GET /v1/decisions/waiting: the key
# decisions open instances wait for, routed by the authority matrix, those
# the principal's level may take, oldest first, in its scope only.
# GET /v1/receivables/overdue: overdue invoices with days and escalation.
# Bad parameters are 400 and change nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worklist-seed.sh"
start_daemon --auto-approve || exit 1
seed_worklists
Q="as_of=$W_AS_OF"

# --- decisions waiting ------------------------------------------------------
api GET "/v1/decisions/waiting?$Q" hq-admin-token >/dev/null
expect "HQ reads the decisions waiting" 200
[ "$(jq -c '[.items[] | .instance]' "$WORK/body")" = "[$W_ATI,$W_NORTH,$W_BIG,$W_ATB,$W_PAID]" ]
ok_if "oldest first: ATI since day 4, North's since day 7, the big ATI, ATB, ATCC"
[ "$(jq -r '.total, .level, .exact, .errors' "$WORK/body" | tr '\n' ' ')" = "5 hq false 0 " ]
ok_if "total, level and no rule errors"
jq -e --argjson i "$W_ATI" --arg s "$(d 4)" '.items[] | select(.instance == $i) |
    .kdp == "ATI" and .since == $s and .days == 146 and .level == "office" and .value == 60000000
    and .discount == 0 and (.margin == null) and .deferred == false and .stage == "opportunity"
    and .office == "province-a" and .title == "ATI at office" and .matrix == "hq/process.lua"' \
    "$WORK/body" >/dev/null
ok_if "an ATI waits since the day of the conversion, routed on the lead's budget"
jq -e --argjson i "$W_BIG" '.items[] | select(.instance == $i) | .level == "region" and .days == 141' \
    "$WORK/body" >/dev/null
ok_if "a deal beyond the office's value limit waits at region level"
jq -e --argjson i "$W_ATB" --arg s "$(d 19)" '.items[] | select(.instance == $i) |
    .kdp == "ATB" and .since == $s and .deferred == true and .discount == 12 and .level == "region"' \
    "$WORK/body" >/dev/null
ok_if "a deferred ATB still waits since ATI's approval, on the deferred terms (12% discount: region)"
jq -e --argjson i "$W_PAID" --arg s "$(d 99)" '.items[] | select(.instance == $i) |
    .kdp == "ATCC" and .since == $s and .days == 51 and .value == 50000000 and .margin == 25' \
    "$WORK/body" >/dev/null
ok_if "ATCC waits once the contract is paid in full, since the last payment"
jq -e --argjson i "$W_NORTH" '.items[] | select(.instance == $i) | .matrix == "region/north@1"' \
    "$WORK/body" >/dev/null
ok_if "North's deal is routed by North's matrix (named with its version)"
jq -e --argjson r "$W_REJ" --argjson l "$W_LATE" --argjson w "$W_WON" \
    '[.items[] | select(.instance == $r or .instance == $l or .instance == $w)] | length == 0' \
    "$WORK/body" >/dev/null
ok_if "a rejected ATI, a contract still owed and a closed deal wait for no decision"

api GET "/v1/decisions/waiting?$Q" pa-admin-token >/dev/null
[ "$(jq -c '[.items[] | .instance]' "$WORK/body")" = "[$W_ATI,$W_PAID]" ] && [ "$(jq -r .level "$WORK/body")" = office ]
ok_if "an office admin: its own office's decisions at office level, not the region's"
api GET "/v1/decisions/waiting?$Q" south-reviewer-token >/dev/null
[ "$(jq -c '[.items[] | .instance]' "$WORK/body")" = "[$W_ATI,$W_BIG,$W_ATB,$W_PAID]" ]
ok_if "a region: both its offices, office and region level, not North's"
api GET "/v1/decisions/waiting?$Q&level=region" south-reviewer-token >/dev/null
[ "$(jq -c '[.items[] | .instance]' "$WORK/body"),$(jq .exact "$WORK/body")" = "[$W_BIG,$W_ATB],true" ]
ok_if "?level=region: exactly the region's own decisions"
api GET "/v1/decisions/waiting?$Q" north-admin-token >/dev/null
[ "$(jq -c '[.items[] | .instance]' "$WORK/body")" = "[$W_NORTH]" ]
ok_if "North sees North's only"
api GET "/v1/decisions/waiting?$Q&limit=2" hq-admin-token >/dev/null
[ "$(jq -c '[.items[] | .instance], .total' "$WORK/body" | tr '\n' ' ')" = "[$W_ATI,$W_NORTH] 5 " ]
ok_if "limit keeps the oldest and the total counts them all"
api GET "/v1/decisions/waiting?$Q" hq-viewer-token >/dev/null
expect "a viewer reads the queue too (reading is every role's)" 200

# A decision taken leaves the queue.
api POST "/v1/instances/$W_ATI/actions" pa-admin-token "{\"action\":\"decide\",\"kdp\":\"ATI\",\"outcome\":\"approve\",\"value\":60000000,\"discount\":0,\"margin\":30,\"at\":\"$(d 120)\"}" >/dev/null
expect "the office approves its ATI" 200
api GET "/v1/decisions/waiting?$Q" pa-admin-token >/dev/null
jq -e --argjson i "$W_ATI" --arg s "$(d 120)" '.items[] | select(.instance == $i) |
    .kdp == "ATB" and .since == $s and .margin == 30 and .days == 30' "$WORK/body" >/dev/null
ok_if "then the same deal waits for ATB, since that approval, on its terms"

# A new matrix routes again what waits (the lists are kept per instance until
# the instance, the date or the region's matrix changes).
api GET "/v1/decisions/waiting?$Q" north-admin-token >/dev/null
api PUT /v1/rules/region/north/authority.lua north-admin-token 'return {
    office = { max_value = 50000000, max_discount = 10, min_margin = 20 },
    region = { max_value = 20000000000, max_discount = 25, min_margin = 12 },
}' >/dev/null
expect "North lowers its offices' value limit to 500,000 CNY" 201
nv=$(jq .version "$WORK/body")
api GET "/v1/decisions/waiting?$Q" north-admin-token >/dev/null
[ "$(jq -c '[.items[] | [.instance, .level, .matrix]]' "$WORK/body")" = "[[$W_NORTH,\"region\",\"region/north@$nv\"]]" ]
ok_if "North's 600,000 CNY ATI now waits at region level, under the new matrix"
api GET "/v1/decisions/waiting?$Q&limit=500" hq-admin-token >/dev/null
jq -e --argjson i "$W_NORTH" '[.items[] | select(.instance == $i)][0].level == "region"' "$WORK/body" >/dev/null
ok_if "HQ's list says the same"

# Every role x unit: both lists answer every principal (reading is every
# role's, within its scope); a level above the principal's is 403.
for tok in hq-admin hq-viewer south-admin south-reviewer north-admin pa-admin pa-ar pb-ar cc-admin; do
    case $tok in hq-*) lv=hq ;; south-*|north-*) lv=region ;; *) lv=office ;; esac
    for want in office region hq; do
        exp=200
        case $lv:$want in office:region|office:hq|region:hq) exp=403 ;; esac
        api GET "/v1/decisions/waiting?level=$want" "$tok-token" >/dev/null
        [ "$(status)" = "$exp" ] || { not_ok "$tok waiting?level=$want: $(status), want $exp"; continue; }
    done
    api GET /v1/decisions/waiting "$tok-token" >/dev/null
    [ "$(status):$(jq -r .level "$WORK/body")" = "200:$lv" ] || not_ok "$tok waiting: $(status) $(jq -r .level "$WORK/body")"
    api GET /v1/receivables/overdue "$tok-token" >/dev/null
    [ "$(status)" = 200 ] || not_ok "$tok overdue: $(status)"
done
ok "every principal reads both lists at its own level; a higher level is 403 (9 tokens x 5 requests)"

# Bad parameters.
for bad in "level=board" "level=" "as_of=2026-02-30" "as_of=26-01-01" "as_of=2026-1-01" \
    "limit=0" "limit=501" "limit=ten" "limit=-1"; do
    api GET "/v1/decisions/waiting?$bad" hq-admin-token >/dev/null
    expect "waiting?$bad is refused" 400 invalid_field
done
api GET "/v1/decisions/waiting?level=hq" south-admin-token >/dev/null
expect "a region may not list HQ's decisions" 403 forbidden
api GET "/v1/decisions/waiting" no-such-token >/dev/null
expect "an unknown token: 401" 401 unauthenticated
api POST "/v1/decisions/waiting" hq-admin-token '{}' >/dev/null
expect "POST is not allowed" 405

# --- overdue receivables -------------------------------------------------------
api GET "/v1/receivables/overdue?$Q" hq-admin-token >/dev/null
expect "HQ reads the overdue receivables" 200
[ "$(jq -c '[.items[] | [.instance, .ref, .days, .amount, .escalate_to]]' "$WORK/body")" = \
  "[[$W_LATE,\"INV-ADV\",111,10000000,\"region finance\"],[$W_LATE,\"INV-DLV\",61,80000000,\"office head\"]]" ]
ok_if "each overdue invoice with its days and escalation level, most overdue first"
[ "$(jq -c '[.count, .amount, [.by_escalation[] | [.escalate_to, .count, .amount]]]' "$WORK/body")" = \
  '[2,90000000,[["region finance",1,10000000],["office head",1,80000000]]]' ]
ok_if "totals per escalation level, most severe first"
# The same as the instance's own receivables.
api GET "/v1/instances/$W_LATE/receivables?$Q" hq-admin-token >/dev/null
jq -e '.overdue_amount == 90000000 and ([.overdue[].days] == [111, 61])' "$WORK/body" >/dev/null
ok_if "the figures are the instance's receivables"
api GET "/v1/receivables/overdue?as_of=$(d 70)" hq-admin-token >/dev/null
[ "$(jq -c '[.items[] | [.ref, .days, .escalate_to]]' "$WORK/body")" = '[["INV-ADV",31,"ar"]]' ]
ok_if "as of day 70 only the advance is overdue, 31 days: the account manager's"
api GET "/v1/receivables/overdue?$Q" north-admin-token >/dev/null
[ "$(jq -c '[.count, .amount, .items]' "$WORK/body")" = '[0,0,[]]' ]
ok_if "North owes nothing and sees none of South's"
api GET "/v1/receivables/overdue?$Q" pb-ar-token >/dev/null
[ "$(jq .count "$WORK/body")" = 0 ]
ok_if "province-b sees none of province-a's"
api GET "/v1/receivables/overdue?$Q&limit=1" pa-ar-token >/dev/null
[ "$(jq -c '[.count, .amount, (.items | length), .items[0].ref]' "$WORK/body")" = '[2,90000000,1,"INV-ADV"]' ]
ok_if "limit keeps the most overdue; count and amount cover all"
# A payment settles the oldest invoice first.
api POST "/v1/instances/$W_LATE/actions" hq-admin-token "{\"action\":\"milestone\",\"kind\":\"payment\",\"amount\":10000000,\"ref\":\"P1\",\"at\":\"$(d 140)\"}" >/dev/null
expect "finance records a payment" 200
api GET "/v1/receivables/overdue?$Q" hq-admin-token >/dev/null
[ "$(jq -c '[.count, .amount, .items[0].ref]' "$WORK/body")" = '[1,80000000,"INV-DLV"]' ]
ok_if "after the payment only the delivery invoice is overdue"
for bad in "as_of=2026-13-01" "as_of=today" "limit=0" "limit=x"; do
    api GET "/v1/receivables/overdue?$bad" hq-admin-token >/dev/null
    expect "overdue?$bad is refused" 400 invalid_field
done
api GET "/v1/receivables/overdue" no-such-token >/dev/null
expect "overdue with an unknown token: 401" 401 unauthenticated

# An HQ version whose waiting returns a wrong shape: the instances pinned to it
# are left out and counted, everyone else's decisions still come.
sed 's/^    waiting = waiting,$/    waiting = function() return { kdp = 1 } end,/' "$WORK/rules/hq/process.lua" >"$WORK/bad.lua"
grep -q 'kdp = 1' "$WORK/bad.lua"; ok_if "a process.lua with a broken waiting is prepared"
api PUT /v1/rules/hq/process.lua hq-admin-token "$(cat "$WORK/bad.lua")" >/dev/null
expect "HQ takes it as a new version" 201
hqv=$(jq .version "$WORK/body")
NEW=$(seed_lead province-a 60000000 "Pinned to the broken HQ version")
seed_act "$NEW" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 2)\"}"
api GET "/v1/decisions/waiting?$Q" hq-admin-token >/dev/null
expect "the queue still answers" 200
jq -e --argjson n "$NEW" --arg v "hq v$hqv: process.lua: waiting must return" '.errors == 1 and
    (.error | startswith("instance \($n): \($v)")) and ([.items[] | select(.instance == $n)] | length == 0)
    and .total == 5' "$WORK/body" >/dev/null
ok_if "the broken one is counted with its message (naming instance and HQ version), the others listed"
api GET /v1/rules hq-admin-token >/dev/null
jq -e --arg v "$hqv" '.owners[] | select(.owner == "hq") | .last_error.kind == "runtime" and
    (.last_error.message | contains("waiting must return"))' "$WORK/body" >/dev/null
ok_if "it is HQ's runtime rule error"

# Nothing was written by reading.
before=$(sql 'SELECT count(*) FROM events')
api GET "/v1/decisions/waiting?$Q" hq-admin-token >/dev/null
api GET "/v1/receivables/overdue?$Q" hq-admin-token >/dev/null
[ "$(sql 'SELECT count(*) FROM events')" = "$before" ]
ok_if "reading the lists writes nothing"

stop_daemon
finish
