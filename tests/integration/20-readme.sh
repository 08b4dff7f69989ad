#!/bin/sh
# README.md's quick start, demo, tutorial and rule author's workflow, run exactly
# as printed and in the README's order (only the daemon's address differs) under
# the setup the README states: a fresh database, the shipped rules without
# --auto-approve and the demo tokens, as make run starts it.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1
# block TEXT: the first ```sh block after the first line holding TEXT.
block() {
    awk -v h="$1" 'index($0, h) { f = 1; next } f && /^```sh$/ { p = 1; next } p && /^```$/ { exit } p' \
        "$ROOT/README.md" | sed "s|http://127.0.0.1:8080|$URL|"
}
run_block() { # NAME HEADING
    block "$2" >"$WORK/$1.sh"
    check "README: the $1 block is there" [ -s "$WORK/$1.sh" ]
    (cd "$ROOT" && LTC_URL=$URL LTC_BIN="$BIN" sh -e -x "$WORK/$1.sh") >"$WORK/$1.out" 2>&1
    rc=$?
    [ $rc = 0 ] || tail -15 "$WORK/$1.out" | sed 's/^/#   /'
    check "README: the $1 runs as printed (exit 0)" [ $rc = 0 ]
}
run_block "quick start" 'In another terminal:'
check "the quick start's lead is lead 1" [ "$(api GET /v1/instances/1 pa-ar-token | jq -r .office)" = province-a ]
# The demo block names no address: it takes LTC_URL, as the README's terminal has it.
run_block "demo" "## Demo: a lead taken to cash"
out() { grep -q -- "$2" "$WORK/$1.out"; }
out demo "region/south v1: approved, now active"; ok_if "the demo has HQ approve region/south v1"
out demo "403 insufficient_authority"; ok_if "the demo's ATB at 15% is refused to the office"
out demo "INV-DEL  *6,400,000.00 CNY due .*, 50 days late -> ar"; ok_if "the demo's receivables: 50 days late, escalated to the AR"
out demo "won: Contract fulfilled and paid (DSO"; ok_if "the demo's lead is won"
out demo "^17 .* close  *office/province-a:ar  *won"; ok_if "the demo's audit trail ends with the closure"
run_block "tutorial" "## Tutorial: one lead by hand"
out tutorial "budget     2,500,000.00 CNY (approved)"; ok_if "the tutorial's --yuan 2500000.00 prints 2,500,000.00 CNY"
out tutorial "'1,200,000' is not an amount in fen"; ok_if "the tutorial's 1,200,000 is refused as the README says"
out tutorial "unknown stage 'contrakt'; the stages are lead, opportunity, contract, closed"; ok_if "the tutorial's --stage contrakt is refused as the README says"
out tutorial "^refused, exit 2$"; ok_if "the tutorial's 1,200,000 exits 2 (nothing sent), as the README says"
out tutorial "^refused, exit 1$"; ok_if "the tutorial's contrakt exits 1 (the daemon's 400), as the README says"
out tutorial "^250000000$"; ok_if "the tutorial's ATI value is 250000000 fen"
check "the tutorial's lead is stored with 250000000 fen" \
    [ "$(api GET /v1/instances/3 pa-ar-token | jq -c '[.budget.amount, .stage, .gates.ATI.value]')" = '[250000000,"opportunity",250000000]' ]
run_block "workflow" "## The rule author's workflow"
grep -q 'version 2 pending (built on v1)' "$WORK/workflow.out"; ok_if "the put says what the README says"
rules() { api GET /v1/rules hq-admin-token | jq -c --arg o "$1" '.owners[] | select(.owner == $o)'; }
check "after the roll back region/south v1 is active again" [ "$(rules region/south | jq .active.version)" = 1 ]
check "lead 1 was re-evaluated under region/south v2" \
    [ "$(api GET /v1/instances/1/events hq-admin-token | jq -r '[.events[] | select(.action == "reevaluate")][0].rules["region/south"]')" = 2 ]
stop_daemon
finish
