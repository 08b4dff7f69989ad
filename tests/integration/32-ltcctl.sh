#!/bin/sh
# ltcctl as a user runs it, against a real daemon: strict numbers and money
# (fen, or --yuan), readable output for every verb and --json for scripts,
# errors that name what to fix, help that lists every option, exit codes
# (0 done, 1 refused by the daemon, 2 bad usage with nothing sent, 3
# unreachable). Issue 15's misleading cases each have a check here.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1
# run TOKEN ARGS...: ltcctl's stdout in $WORK/out, stderr in $WORK/err, exit code in $RC.
run() {
    _tok=$1; shift
    LTC_URL=$URL LTC_TOKEN=$_tok "$LTCCTL" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
}
out_has() { grep -q -- "$1" "$WORK/out"; }
err_has() { grep -q -- "$1" "$WORK/err"; }
LEAD_OPTS="--office province-a --customer ACME --title Core"

# --- numbers: nothing ambiguous is sent --------------------------------------
before=$(instance_count)
for amount in 12.5 1,200,000 1e6 0x10 99999999999999999999 '' +5 ' 7' 007; do
    run pa-ar-token lead create $LEAD_OPTS --amount "$amount"
    [ $RC = 2 ] && err_has "--amount: '$amount' is not an amount in fen" &&
        err_has "digits only, e.g. 120000000 for 1,200,000.00 CNY" && err_has "or yuan with --yuan"
    ok_if "--amount '$amount' is refused (exit 2) naming --amount and the accepted forms"
done
for y in 12.505 1,200.00 1e3 .5 12. ''; do
    run pa-ar-token lead create $LEAD_OPTS --yuan "$y"
    [ $RC = 2 ] && err_has "--yuan: '$y' is not an amount in yuan" && err_has "at most two decimals"
    ok_if "--yuan '$y' is refused naming --yuan"
done
run pa-ar-token lead create $LEAD_OPTS --amount 100 --yuan 1
[ $RC = 2 ] && err_has "give the amount once"; ok_if "--amount and --yuan together are refused"
run pa-ar-token lead create $LEAD_OPTS
[ $RC = 2 ] && err_has "missing the budget: --amount FEN"; ok_if "a lead without a budget is refused naming --amount and --yuan"
run pa-ar-token lead create $LEAD_OPTS --amount 100 --signal urgency
[ $RC = 2 ] && err_has "--signal: 'urgency' is not NAME=VALUE" && err_has "e.g. --signal urgency=4" &&
    ! err_has "unknown option"
ok_if "--signal urgency says the form it expects, not 'unknown option'"
for s in urgency=high urgency=6 urgency=-1 urgency=4.5 urgency= =3; do
    run pa-ar-token lead create $LEAD_OPTS --amount 100 --signal "$s"
    [ $RC = 2 ] && err_has "\-\-signal"; ok_if "--signal $s is refused"
done
run pa-ar-token lead create $LEAD_OPTS --amount 100 --horizon 6.5
[ $RC = 2 ] && err_has "--horizon: '6.5' is not accepted: expected a whole number from 0 to 120"
ok_if "--horizon 6.5 is refused with its range"
run pa-ar-token lead create $LEAD_OPTS --amount 100 --colour blue
[ $RC = 2 ] && err_has "unknown option --colour; its options: --office ID" && err_has "--signal NAME=0..5"
ok_if "an unknown option lists the verb's options"
check "none of the refused leads was stored" [ "$(instance_count)" = "$before" ]

# --- money in, money out --------------------------------------------------------
run pa-ar-token lead create $LEAD_OPTS --yuan 1200000.50 --budget approved --signal strategic_fit=4 --signal urgency=5
[ $RC = 0 ] && out_has "budget     1,200,000.50 CNY (approved)"; ok_if "--yuan 1200000.50 prints 1,200,000.50 CNY"
ID=$(sed -n 's/^instance \([0-9]*\) .*/\1/p' "$WORK/out")
check "--yuan 1200000.50 is stored as exactly 120000050 fen" \
    [ "$(api GET "/v1/instances/$ID" pa-ar-token | jq .budget.amount)" = 120000050 ]
check "the signals are stored as typed" \
    [ "$(api GET "/v1/instances/$ID" pa-ar-token | jq -c .signals)" = '{"strategic_fit":4,"urgency":5}' ]
run pa-ar-token lead create $LEAD_OPTS --amount 60000000 --budget approved
[ $RC = 0 ] && out_has "budget     600,000.00 CNY"; ok_if "--amount 60000000 (fen) prints 600,000.00 CNY"
ID2=$(sed -n 's/^instance \([0-9]*\) .*/\1/p' "$WORK/out")
run pa-ar-token lead list
[ $RC = 0 ] && out_has "^ID  *STAGE  *OFFICE" && out_has "1,200,000.50 CNY" && out_has "(2 instances)"
ok_if "lead list is a table with budgets as money"
run pa-ar-token --json lead list
[ $RC = 0 ] && jq -e '.instances | length == 2' "$WORK/out" >/dev/null; ok_if "--json lead list prints the API's JSON"
run pa-ar-token lead list --json --limit 1
[ $RC = 0 ] && jq -e '.instances | length == 1' "$WORK/out" >/dev/null; ok_if "--json is taken after the verb too"
run pa-ar-token lead show abc
[ $RC = 2 ] && err_has "ID: 'abc' is not accepted"; ok_if "lead show abc is a usage error"

# --- lead list filters: a typo is refused naming the valid values ----------------
run pa-ar-token lead list --stage contrakt
[ $RC = 1 ] && err_has "400 invalid_field: stage: unknown stage 'contrakt'; the stages are lead, opportunity, contract, closed" &&
    ! out_has "^ID"
ok_if "lead list --stage contrakt is refused naming the known stages"
run pa-ar-token lead list --temperature tepid
[ $RC = 1 ] && err_has "expected hot, warm or cold"; ok_if "an unknown temperature names the valid ones"
run pa-ar-token lead list --office nowhere
[ $RC = 1 ] && err_has "no office 'nowhere' in the org tree"; ok_if "an unknown office is 400 naming it"
run pa-ar-token lead list --office city-c
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "an office outside the scope stays 403"
run pa-ar-token lead list --limit 1,000
[ $RC = 2 ] && err_has "--limit: '1,000' is not accepted"; ok_if "--limit 1,000 is refused before sending"

# --- actions: keys typed per action ---------------------------------------------
run pa-ar-token act "$ID" frobnicate
[ $RC = 1 ] && err_has "unknown action 'frobnicate'; at stage lead the actions are assign, close, reevaluate, review"
ok_if "an unknown action lists the actions of the instance's stage"
run pa-admin-token decide "$ID" kdp=ATI outcome=approve value=60000000
[ $RC = 1 ] && err_has "decide is not allowed at stage lead; the actions there are assign, close, reevaluate, review"
ok_if "an action at the wrong stage lists the stage's actions"
run south-reviewer-token review "$ID" decision=convert note="Budget confirmed" at=2026-11-20
[ $RC = 0 ] && out_has "instance $ID: review -> stage opportunity"; ok_if "review converts, in a sentence"
run pa-admin-token decide "$ID" kdp=ATI outcome=approve value=12.5 discount=5 margin=25
[ $RC = 2 ] && err_has "value: '12.5' is not an amount in fen" && err_has "value_yuan=1200000.00"
ok_if "decide value=12.5 is refused naming value and value_yuan"
run pa-admin-token decide "$ID" kdp=ATI outcome=approve value=60000000 discount=5% margin=25
[ $RC = 2 ] && err_has "discount: '5%' is not a percentage"; ok_if "discount=5% is refused"
run pa-admin-token decide "$ID" kdp=ATI outcome=approve valeu=60000000
[ $RC = 2 ] && err_has "decide takes no key 'valeu'; its keys: kdp, outcome, value (or value_yuan)"
ok_if "a misspelt key is refused listing the action's keys"
run pa-admin-token decide "$ID" kdp=ATI outcome=approve value 60000000
[ $RC = 2 ] && err_has "'value' is not KEY=VALUE"; ok_if "a word without = is refused"
run pa-admin-token decide "$ID" kdp=ATI outcome=approve value_yuan=600000.00 discount=5 margin=25 at=2026-11-21
[ $RC = 0 ] && out_has "ATI approve at office level by office/province-a:admin (600,000.00 CNY, discount 5%, margin 25%)"
ok_if "decide with value_yuan prints the gate with money and percentages"
check "value_yuan=600000.00 was sent as 60000000 fen" \
    [ "$(api GET "/v1/instances/$ID" pa-ar-token | jq .gates.ATI.value)" = 60000000 ]
run pa-ar-token act "$ID" assign ar=Li sr=Wang fr=Zhao at=2026-02-30
[ $RC = 2 ] && err_has "at: '2026-02-30' is not a date"; ok_if "at=2026-02-30 is refused"
# KCP dates_in_order: the daemon's refusal says to send correction; ltcctl takes it.
run pa-ar-token assign "$ID" ar=Li sr=Wang fr=Zhao at=2026-11-01
[ $RC = 1 ] && err_has "kcp_failed: at 2026-11-01 is before the instance's last business date 2026-11-21"
ok_if "an action dated before the last business date is refused (exit 1) saying to mark a correction"
run pa-ar-token assign "$ID" ar=Li sr=Wang fr=Zhao at=2026-11-01 correction=yes
[ $RC = 2 ] && err_has "correction: 'yes' is not true or false"; ok_if "correction=yes is refused (exit 2)"
run pa-ar-token reevaluate "$ID" correction=true
[ $RC = 2 ] && err_has "reevaluate takes no key 'correction'; its keys: at"; ok_if "reevaluate (the engine's own action) takes no correction"
run pa-ar-token assign "$ID" --help
[ $RC = 0 ] && out_has "correction  *true or false"; ok_if "assign --help lists the correction key"
run pa-ar-token assign "$ID" ar=Li sr=Wang fr=Zhao at=2026-11-01 correction=true
[ $RC = 0 ] && out_has "team: AR Li, SR Wang, FR Zhao"; ok_if "correction=true records the dated-back action"
check "... sent as the boolean correction: true" \
    [ "$(api GET "/v1/instances/$ID/events" pa-ar-token | jq -c '.events[-1] | [.payload.correction, .outcome.correction]')" = '[true,true]' ]

# --- the event trail: business date and outcome ----------------------------------
run pa-ar-token events "$ID"
[ $RC = 0 ] && out_has "^SEQ  *DATE  *ACTION  *ACTOR  *OUTCOME  *RECORDED"; ok_if "events is a table with the business date and the outcome"
grep -q "^2  *2026-11-20  *review  *region/south:reviewer  *convert: Budget confirmed" "$WORK/out"
ok_if "the review shows its business date (at=) and its outcome"
grep -q "^3  *2026-11-21  *decide .*ATI approve at office level (600,000.00 CNY, discount 5%, margin 25%)" "$WORK/out"
ok_if "the decision shows its date and its outcome with money"
grep -q "^1  *[0-9-]*  *create .*score [0-9.]*, [a-z]*, [a-z]* -> [a-z]*" "$WORK/out"; ok_if "the creation shows the evaluation"
grep -q "^4  *2026-11-01  *assign .*AR Li, SR Wang, FR Zhao (correction)" "$WORK/out"; ok_if "a correction shows its own date and says it is one"
awk '/^SEQ/ { c = index($0, "RECORDED") } /^[0-9]/ { if (substr($0, c, 4) != "2026") bad = 1 } END { exit bad || !c }' "$WORK/out"
ok_if "the recording time stands in one column however long the outcome"

# --- rules: readable output of every verb, errors that point somewhere ------------
mkdir -p "$WORK/tmp"
echo 'return { hot = 80 ' >"$WORK/tmp/bad.lua"
run north-admin-token rules put region/north "$WORK/tmp/bad.lua"
[ $RC = 1 ] && ! err_has "404" && ! err_has "//" && err_has "bad.lua: not an extension point of this layer"
ok_if "rules put region/north /tmp/bad.lua names the file, no doubled path"
run north-admin-token rules put region/north "$WORK/tmp/bad.lua" thresholds.lua
[ $RC = 2 ] && err_has "is the name inside the bundle"; ok_if "a path as FILE together with PATH is explained"
run south-admin-token rules put region/nowhere thresholds.lua "$WORK/tmp/bad.lua"
[ $RC = 1 ] && err_has "404 not_found: no owner region/nowhere: the org tree has no region 'nowhere'"
ok_if "an owner that does not exist is 404 naming it, not 403"
run south-admin-token rules put region/north thresholds.lua "$WORK/tmp/bad.lua"
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "an existing owner outside the scope stays 403"
run hq-admin-token rules versions office/nowhere
[ $RC = 1 ] && err_has "404 not_found: no owner office/nowhere"; ok_if "rules versions of an unknown office is 404"
run hq-admin-token rules versions region/south
[ $RC = 0 ] && out_has "^VERSION  *STATUS" && out_has "^v1  *pending  *disk"; ok_if "rules versions is a table"
run hq-admin-token rules show region/south 1
[ $RC = 0 ] && out_has "^region/south v1: pending, origin disk" && out_has "==> thresholds.lua <=="
ok_if "rules show prints a header and each file"
run hq-admin-token rules approve region/south 1
[ $RC = 0 ] && out_has "^region/south v1: approved, now active$"; ok_if "rules approve prints a sentence"
run hq-admin-token rules show region/south
[ $RC = 0 ] && out_has "^region/south v1: active"; ok_if "rules show OWNER shows the active version"
cp -r "$WORK/rules/regions/south" "$WORK/tmp/south"
sed -i 's/hot = [0-9]*/hot = 69/' "$WORK/tmp/south/thresholds.lua"
run south-admin-token rules push region/south "$WORK/tmp/south"
[ $RC = 0 ] && out_has "^region/south bundle: version 2 pending (built on v1)$"; ok_if "rules push prints a sentence"
run hq-admin-token rules reject region/south 2 "not this quarter"
[ $RC = 0 ] && out_has "^region/south v2: rejected: not this quarter$"; ok_if "rules reject prints a sentence with the reason"
run hq-admin-token rules approve region/south two
[ $RC = 2 ] && err_has "VERSION: 'two' is not accepted"; ok_if "a version that is not a number is a usage error"
run hq-admin-token rules rollback region/south
[ $RC = 1 ] && err_has "409 conflict"; ok_if "rules rollback without an earlier version says so"
printf 'return { hot = 75, warm = 40 }\n' >"$WORK/tmp/thresholds.lua"
run cc-admin-token --json rules status
[ $RC = 0 ] && jq -e '.owners | length > 0' "$WORK/out" >/dev/null; ok_if "--json rules status is the API's JSON"

# --- targets and shares ----------------------------------------------------------
run hq-admin-token targets set office/province-a 2026 orders --yuan 10000000
[ $RC = 0 ] && out_has "^target office/province-a 2026 orders: 10,000,000.00 CNY$"; ok_if "targets set prints a sentence with money"
run hq-admin-token targets set office/province-a 2026 orders 1e9
[ $RC = 2 ] && err_has "AMOUNT: '1e9' is not an amount in fen"; ok_if "targets set 1e9 is refused"
run hq-admin-token targets show 2026
[ $RC = 0 ] && out_has "office/province-a  *10,000,000.00 CNY"; ok_if "targets show prints money"
run hq-admin-token shares run 2026 100000000
[ $RC = 0 ] && out_has "pool 1,000,000.00 CNY" && out_has "^  region/south"; ok_if "shares run prints the tree"
RUN=$(sed -n 's/^allocation run \([0-9]*\),.*/\1/p' "$WORK/out")
run pa-admin-token shares show "$RUN"
[ $RC = 0 ] && out_has "your part of region/south's share" && out_has "^  office/province-a  *[0-9,.]* CNY"
ok_if "shares show prints the office's part to an office principal"
run south-admin-token shares show "$RUN"
[ $RC = 0 ] && out_has "^  region/south" && out_has "^    office/province-a" && ! out_has "region/north"
ok_if "shares show prints the region's part to a region principal"
run hq-admin-token shares run 2026 12.5
[ $RC = 2 ] && err_has "POOL: '12.5' is not an amount in fen"; ok_if "shares run 12.5 is refused"

# --- help: every verb and every option ---------------------------------------------
"$LTCCTL" help >"$WORK/help" 2>&1; rc=$?
check "ltcctl help exits 0" [ $rc = 0 ]
missing=""
for verb in health "lead create" "lead show" "lead list" events reevaluate review assign decide sign milestone close act document receivables "rules status" "rules put" "rules rm" "rules push" "rules sign" "rules test" "rules approve" "rules reject" "rules versions" "rules show" "rules diff" "rules simulate" "rules shadow" "rules rollback" "rules events" "rules reload" keygen "shares run" "shares show" "targets set" "targets show"; do
    grep -q "^  $verb " "$WORK/help" || missing="$missing [$verb]"
done
check "ltcctl help lists every verb${missing:+ (missing:$missing)}" [ -z "$missing" ]
grep -q "Money is typed in fen" "$WORK/help"; ok_if "help says money is typed in fen and printed as 1,200,000.00 CNY"
"$LTCCTL" lead create --help >"$WORK/help" 2>&1; rc=$?
missing=""
for opt in --office --customer --title --source --amount --yuan --currency --budget --horizon --signal --json --url --token; do
    grep -q "^  $opt" "$WORK/help" || missing="$missing $opt"
done
[ $rc = 0 ] && [ -z "$missing" ]; ok_if "ltcctl lead create --help lists every option${missing:+ (missing:$missing)}"
"$LTCCTL" help rules put | grep -q -- "--base V"; ok_if "ltcctl help rules put lists --base"
"$LTCCTL" decide --help >"$WORK/help" 2>&1
missing=""
for key in kdp outcome value discount margin conditions change at; do
    grep -q "^  $key " "$WORK/help" || missing="$missing $key"
done
[ -z "$missing" ] && grep -q "KEY_yuan=YUAN" "$WORK/help"; ok_if "ltcctl decide --help lists every key${missing:+ (missing:$missing)}"
"$LTCCTL" lead list --help | grep -q -- "--temperature T"; ok_if "ltcctl lead list --help lists --temperature"

# --- exit codes ---------------------------------------------------------------------
run pa-ar-token frobnicate
[ $RC = 2 ] && err_has "no verb 'frobnicate'"; ok_if "an unknown verb is exit 2"
run pa-ar-token frobnicate 5
[ $RC = 2 ] && grep -q "^ltcctl: no verb 'frobnicate'\$" "$WORK/err"; ok_if "an unknown verb is named alone, not with the word after it"
run pa-ar-token lead frobnicate 5
[ $RC = 2 ] && err_has "no verb 'lead frobnicate'"; ok_if "... but a group's first word is named with the second"
"$LTCCTL" help | grep -q -- "^  lead list .*\[--region ID\]"; ok_if "ltcctl help: lead list's usage names --region"
run pa-ar-token rules frobnicate
[ $RC = 2 ] && err_has "ltcctl rules approve OWNER VERSION"; ok_if "an unknown rules verb lists the rules verbs"
run wrong-token lead list
[ $RC = 1 ] && err_has "401" && err_has "set --token or LTC_TOKEN"; ok_if "a refused token is exit 1 with a hint"
LTC_URL=http://127.0.0.1:1 LTC_TOKEN=pa-ar-token "$LTCCTL" health >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 3 ] && err_has "cannot reach ltcd at http://127.0.0.1:1"; ok_if "an unreachable daemon is exit 3"
run pa-ar-token health
[ $RC = 0 ] && out_has "^ltcd .*: ok"; ok_if "health is a sentence"
LTC_URL="$URL/" LTC_TOKEN=pa-ar-token "$LTCCTL" lead list >"$WORK/out" 2>"$WORK/err"; rc=$?
[ $rc = 0 ] && ! err_has "//"; ok_if "LTC_URL with a trailing slash names the same daemon (no doubled path)"
LTC_URL=${URL#http://} LTC_TOKEN=pa-ar-token "$LTCCTL" health >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && err_has "is not an http:// or https:// URL, e.g. http://127.0.0.1:8080"
ok_if "LTC_URL without its scheme is refused (exit 2) saying the form"
stop_daemon
finish
