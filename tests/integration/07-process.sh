#!/bin/sh
# The LTC process over HTTP: the whole flow, every KCP refusing, every KDP at
# each authority level, pinning across an HQ change, the audit trail.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

act() { api POST "/v1/instances/$2/actions" "$1" "$3"; }
events() { api GET "/v1/instances/$1/events" hq-admin-token | jq '.events | length'; }
# new_opp OFFICE TOKEN: an opportunity with a complete iron triangle; prints its id.
new_opp() {
    _id=$(api POST /v1/leads "$2" "$(echo "$LEAD" | jq -c --arg o "$1" '.office = $o')" | jq -r .id)
    act hq-admin-token "$_id" '{"action":"review","decision":"convert"}' >/dev/null
    act hq-admin-token "$_id" '{"action":"assign","ar":"Li","sr":"Wang","fr":"Zhao"}' >/dev/null
    echo "$_id"
}
decide() { # TOKEN ID KDP VALUE DISCOUNT MARGIN [OUTCOME]
    act "$1" "$2" "{\"action\":\"decide\",\"kdp\":\"$3\",\"outcome\":\"${7:-approve}\",\"value\":$4,\"discount\":$5,\"margin\":$6}" >/dev/null
}
TERMS='[{"milestone":"advance","percent":10},{"milestone":"delivery","percent":80},{"milestone":"acceptance","percent":10}]'

# --- the whole flow: examples/demo.sh against this daemon ---------------------
LTCCTL="$LTCCTL" sh "$ROOT/examples/demo.sh" "$URL" >"$WORK/demo" 2>&1
check "examples/demo.sh takes a lead to cash" grep -q 'won: Contract fulfilled and paid (DSO 80 days)' "$WORK/demo"
DEMO=1
check "the demo instance is closed and won" [ "$(api GET /v1/instances/$DEMO hq-admin-token | jq -r '.stage + "/" + .closure.outcome')" = closed/won ]
check "its trail has one event per accepted action (17)" [ "$(events $DEMO)" = 17 ]
check "every event carries actor, action and rule versions" [ "$(api GET /v1/instances/$DEMO/events hq-admin-token | jq '[.events[] | select(.actor and .action and .rules.hq)] | length')" = 17 ]
check "the escalation was 30+ days to the AR" grep -q 'days late -> ar' "$WORK/demo"
code=$(curl -s -o "$WORK/doc" -w '%{http_code}' -H 'Authorization: Bearer pa-ar-token' "$URL/v1/instances/$DEMO/documents/quote")
[ "$code" = 200 ] && grep -q 'Quotation for Sample Telecom' "$WORK/doc"; ok_if "documents render from the office's L5 template"
api GET /v1/instances/$DEMO/documents/invoice hq-admin-token >/dev/null; expect "a template the office lacks: 404" 404 not_found

# --- stage rules: a wrong action for the stage is 409 and records nothing ------
ID=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -r .id)
n=$(events "$ID")
act pa-ar-token "$ID" '{"action":"sign","value":1,"net_days":30,"terms":[]}' >/dev/null; expect "sign at stage lead: 409" 409 conflict
act pa-admin-token "$ID" '{"action":"decide","kdp":"ATI","outcome":"approve","value":1,"margin":30}' >/dev/null; expect "decide at stage lead: 409" 409 conflict
act pa-ar-token "$ID" '{"action":"milestone","kind":"delivery","amount":1}' >/dev/null; expect "milestone at stage lead: 409" 409 conflict
act pa-ar-token "$ID" '{"action":"fly"}' >/dev/null; expect "unknown action: 400" 400 invalid_field
act hq-viewer-token "$ID" '{"action":"review","decision":"convert"}' >/dev/null; expect "a viewer may not act: 403" 403 forbidden
act pa-ar-token "$ID" '{"action":"review","decision":"maybe"}' >/dev/null; expect "bad review decision: 400" 400 invalid_field
check "refused actions recorded nothing" [ "$(events "$ID")" = "$n" ]
act pa-ar-token "$ID" '{"action":"review","decision":"nurture","note":"no budget yet"}' >/dev/null; expect "nurture keeps the lead" 200
check "... at stage lead" [ "$(jq -r .stage <"$WORK/body")" = lead ]
act pa-ar-token "$ID" '{"action":"review","decision":"close","note":"no fit"}' >/dev/null
check "close at review drops the lead" [ "$(jq -r '.stage + "/" + .closure.outcome' <"$WORK/body")" = closed/dropped ]
act pa-ar-token "$ID" '{"action":"review","decision":"convert"}' >/dev/null; expect "nothing happens after closed: 409" 409 conflict

# --- KDPs at each authority level (South: HQ default matrix) -----------------
ID=$(new_opp province-a pa-ar-token)
act pa-admin-token "$ID" '{"action":"decide","kdp":"ATB","outcome":"approve","value":1,"margin":30}' >/dev/null; expect "ATB before ATI: 409" 409 conflict
decide pa-admin-token "$ID" ATI 900000000 5 25; expect "office-level ATI by an office admin" 200
check "the decision records level, inputs and matrix" [ "$(jq -c '.gates.ATI | [.level, .value, .discount, .margin, .decided_by]' <"$WORK/body")" = '["office",900000000,5,25,"office/province-a:admin"]' ]
decide pa-admin-token "$ID" ATB 900000000 15 25; expect "region-level ATB refused to an office" 403 insufficient_authority
check "details.required names the level" [ "$(jq -r .error.details.required <"$WORK/body")" = region ]
decide south-reviewer-token "$ID" ATB 900000000 15 25; expect "region-level ATB by a region reviewer" 200
decide south-admin-token "$ID" ATC 20000000000 5 25; expect "hq-level ATC refused to a region" 403 insufficient_authority
check "required is hq" [ "$(jq -r .error.details.required <"$WORK/body")" = hq ]
decide hq-admin-token "$ID" ATC 20000000000 5 25; expect "hq-level ATC by HQ" 200
decide pa-ar-token "$ID" ATC 1 5 25; expect "an AR may not decide" 403 forbidden
decide south-admin-token "$ID" ATI 1 5 25 defer; expect "deciding an approved KDP again: 409" 409 conflict

ID2=$(new_opp province-a pa-ar-token)
decide pa-admin-token "$ID2" ATI 1 5 25 defer; expect "defer is recorded" 200
decide pa-admin-token "$ID2" ATB 1 5 25; expect "a deferred ATI does not open ATB" 409 conflict
decide pa-admin-token "$ID2" ATI 1 5 25 reject; expect "reject is recorded" 200
check "the gate shows the last outcome" [ "$(jq -r .gates.ATI.outcome <"$WORK/body")" = reject ]
act pa-admin-token "$ID2" '{"action":"decide","kdp":"ATI","outcome":"approve_with_conditions","value":1,"margin":30}' >/dev/null
expect "approve_with_conditions without conditions: 400" 400 invalid_field
act pa-admin-token "$ID2" '{"action":"decide","kdp":"ATI","outcome":"approve_with_conditions","value":1,"margin":30,"conditions":[{"text":"x","owner":"Li"}]}' >/dev/null
expect "a condition without a due date: 400" 400 invalid_field
act pa-admin-token "$ID2" '{"action":"decide","kdp":"ATI","outcome":"approve_with_conditions","value":1,"margin":30,"conditions":[{"text":"Partner","owner":"Li","due":"2026-12-31"}]}' >/dev/null
expect "approve_with_conditions with owner and due date" 200
act pa-admin-token "$ID2" '{"action":"decide","kdp":"XYZ","outcome":"approve","value":1,"margin":30}' >/dev/null; expect "unknown KDP: 400" 400 invalid_field
act pa-admin-token "$ID2" '{"action":"decide","kdp":"ATB","outcome":"approve","value":"lots","margin":30}' >/dev/null; expect "non-integer value: 400" 400 invalid_field

# North has its own authority.lua: its offices approve up to 20,000,000.00 at 10%.
IDN=$(new_opp city-c cc-admin-token)
decide cc-admin-token "$IDN" ATI 1500000000 8 25; expect "north office approves 15,000,000.00 (its matrix)" 200
check "the event cites the region's matrix version" [ "$(api GET /v1/instances/$IDN/events hq-admin-token | jq -r '.events[-1].rules["region/north"]')" = 1 ]
decide pa-admin-token "$ID2" ATB 1500000000 8 25; expect "the same deal in South needs the region" 403 insufficient_authority

# --- KCPs ---------------------------------------------------------------------
kcp() { # NAME: the last call was refused by that KCP with 422
    if [ "$(status)" = 422 ] && [ "$(jq -r .error.details.kcp <"$WORK/body")" = "$1" ]; then ok "KCP $1 refuses"
    else not_ok "KCP $1 refuses" "$(status) $(head -c 300 "$WORK/body")"; fi
}
ID=$(api POST /v1/leads pa-ar-token "$LEAD" | jq -r .id)
act hq-admin-token "$ID" '{"action":"review","decision":"convert"}' >/dev/null
act pa-ar-token "$ID" '{"action":"assign","ar":"Li","sr":"Wang","fr":"Li"}' >/dev/null; expect "before ATB the AR may hold FR" 200
decide pa-admin-token "$ID" ATI 500000000 5 25
n=$(events "$ID")
decide pa-admin-token "$ID" ATB 500000000 5 25; kcp triangle_complete
check "a KCP refusal records nothing" [ "$(events "$ID")" = "$n" ]
act pa-ar-token "$ID" '{"action":"assign","fr":"Zhao"}' >/dev/null
decide hq-admin-token "$ID" ATB 500000000 45 25; kcp authority_limits
decide hq-admin-token "$ID" ATB 500000000 5 -5; kcp authority_limits
decide pa-admin-token "$ID" ATB 500000000 5 25; expect "ATB with a complete triangle" 200
act pa-ar-token "$ID" '{"action":"assign","fr":"Li"}' >/dev/null; kcp triangle_complete
decide hq-admin-token "$ID" ATC 25000000000 5 25; kcp credit_limit
decide pa-admin-token "$ID" ATC 500000000 5 25; expect "ATC" 200
act pa-ar-token "$ID" "{\"action\":\"sign\",\"value\":499000000,\"net_days\":30,\"terms\":$TERMS}" >/dev/null; kcp terms_match_bid
act pa-ar-token "$ID" "{\"action\":\"sign\",\"value\":500000000,\"net_days\":30,\"terms\":[{\"milestone\":\"advance\",\"percent\":50}]}" >/dev/null; expect "terms not adding up to 100: 400" 400 invalid_field
act pa-ar-token "$ID" "{\"action\":\"sign\",\"value\":500000000,\"net_days\":30,\"terms\":[{\"milestone\":\"bonus\",\"percent\":100}]}" >/dev/null; expect "unknown term milestone: 400" 400 invalid_field
act pa-ar-token "$ID" "{\"action\":\"sign\",\"value\":500000000,\"net_days\":-1,\"terms\":$TERMS}" >/dev/null; expect "negative net days: 400" 400 invalid_field
act pa-ar-token "$ID" "{\"action\":\"sign\",\"value\":500000000,\"net_days\":30,\"terms\":$TERMS,\"at\":\"2026-02-30\"}" >/dev/null; expect "an impossible date: 400" 400 invalid_field
act pa-ar-token "$ID" "{\"action\":\"sign\",\"value\":500000000,\"net_days\":30,\"terms\":$TERMS,\"at\":\"2026-01-01\"}" >/dev/null; expect "sign" 200
# The credit KCP weighs the customer's other open contracts (a per-customer sum
# kept as instances change): 500,000,000 signed above leaves 19,500,000,000.
ID2=$(new_opp province-a pa-ar-token)
decide hq-admin-token "$ID2" ATI 500000000 5 25; decide hq-admin-token "$ID2" ATB 500000000 5 25
decide hq-admin-token "$ID2" ATC 19500000001 5 25; kcp credit_limit
decide hq-admin-token "$ID2" ATC 19500000000 5 25; expect "ATC up to the limit the customer's other contract leaves" 200
ms() { act "$1" "$ID" "{\"action\":\"milestone\",\"kind\":\"$2\",\"amount\":$3,\"ref\":\"$2-$3\",\"at\":\"${4:-2026-02-01}\"}" >/dev/null; }
ms pa-ar-token acceptance 1000; kcp acceptance_after_delivery
ms pa-ar-token delivery 600000000; kcp amounts_reconcile
ms pa-admin-token invoice 60000000; kcp invoice_after_acceptance
ms pa-admin-token invoice 50000000; expect "the advance (10%) may be invoiced before acceptance" 200
ms pa-admin-token payment 50000001; kcp payment_within_invoiced
ms pa-ar-token payment 100; expect "payments are recorded by finance" 403 forbidden
ms pa-admin-token payment 50000000; expect "payment within invoiced" 200
act pa-ar-token "$ID" '{"action":"milestone","kind":"refund","amount":1}' >/dev/null; expect "unknown milestone kind: 400" 400 invalid_field
act pa-ar-token "$ID" '{"action":"milestone","kind":"delivery","amount":0}' >/dev/null; expect "zero amount: 400" 400 invalid_field
ms pa-ar-token delivery 500000000
ms pa-ar-token acceptance 500000000
ms pa-admin-token invoice 450000000 2026-02-10
decide pa-admin-token "$ID" ATCC 500000000 0 20; kcp amounts_reconcile
act pa-ar-token "$ID" '{"action":"close","reason":"done"}' >/dev/null; expect "closing a contract needs ATCC: 409" 409 conflict
# ATAC: an approved change raises what may be delivered and invoiced.
ms pa-ar-token delivery 100000000 2026-02-10; kcp amounts_reconcile
act pa-admin-token "$ID" '{"action":"decide","kdp":"ATAC","outcome":"approve","value":600000000,"discount":0,"margin":22,"change":{"amount":100000000}}' >/dev/null
expect "ATAC approves a change of 1,000,000.00" 200
ms pa-ar-token delivery 100000000 2026-02-10; expect "the change may now be delivered" 200
r=$(api GET "/v1/instances/$ID/receivables?as_of=2026-06-01" pa-ar-token)
check "receivables: 450,000,000 fen outstanding, 81 days late -> office head" [ "$(echo "$r" | jq -c '[.outstanding, .overdue[0].days, .overdue[0].escalate_to]')" = '[450000000,81,"office head"]' ]
r=$(api GET "/v1/instances/$ID/receivables?as_of=2026-07-15" pa-ar-token)
check "... 125 days late -> region finance" [ "$(echo "$r" | jq -r .overdue[0].escalate_to)" = "region finance" ]
api GET "/v1/instances/$ID/receivables?as_of=tomorrow" pa-ar-token >/dev/null; expect "bad as_of: 400" 400 invalid_field

# --- pinning: an HQ process change mid-flow ---------------------------------
OLD=$(new_opp province-a pa-ar-token)
sed 's/office = { max_value = 1000000000, max_discount = 10, min_margin = 20 }/office = { max_value = 1000000000, max_discount = 2, min_margin = 20 }/' \
    "$WORK/rules/hq/process.lua" >"$WORK/process.lua"
check "the HQ change is real" sh -c "! cmp -s $WORK/process.lua $WORK/rules/hq/process.lua"
api PUT /v1/rules/hq/process.lua south-admin-token "$(cat "$WORK/process.lua")" >/dev/null; expect "a region cannot change HQ's process" 403 forbidden
api PUT /v1/rules/hq/process.lua hq-admin-token "$(cat "$WORK/process.lua")" >/dev/null; expect "HQ activates process v2" 201
NEW=$(new_opp province-a pa-ar-token)
check "a new instance pins the new HQ version" [ "$(api GET /v1/instances/$NEW hq-admin-token | jq -r .rules.hq)" -gt "$(api GET /v1/instances/$OLD hq-admin-token | jq -r .rules.hq)" ]
decide pa-admin-token "$OLD" ATI 100000000 5 25; expect "the old instance still follows its pinned process (5% at office)" 200
decide pa-admin-token "$NEW" ATI 100000000 5 25; expect "the new instance follows v2 (5% needs the region)" 403 insufficient_authority
check "old instance's events cite the old HQ version" [ "$(api GET /v1/instances/$OLD/events hq-admin-token | jq '[.events[].rules.hq] | unique | length')" = 1 ]
stop_daemon
start_daemon --auto-approve || exit 1
decide pa-admin-token "$OLD" ATB 100000000 5 25; expect "after a restart the pinned version still applies" 200
finish
