#!/bin/sh
# README.md's quick start and the rule author's workflow, run exactly as printed
# (only the daemon's address differs) under the setup the README states: the
# shipped rules without --auto-approve and the demo tokens, as make run starts it.
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
    (cd "$ROOT" && LTC_BIN="$BIN" sh -e -x "$WORK/$1.sh") >"$WORK/$1.out" 2>&1
    rc=$?
    [ $rc = 0 ] || tail -15 "$WORK/$1.out" | sed 's/^/#   /'
    check "README: the $1 runs as printed (exit 0)" [ $rc = 0 ]
}
run_block "quick start" 'In another terminal:'
check "the quick start's lead is lead 1" [ "$(api GET /v1/instances/1 pa-ar-token | jq -r .office)" = province-a ]
run_block "workflow" "## The rule author's workflow"
grep -q 'version 2 pending (built on v1)' "$WORK/workflow.out"; ok_if "the put says what the README says"
rules() { api GET /v1/rules hq-admin-token | jq -c --arg o "$1" '.owners[] | select(.owner == $o)'; }
check "after the roll back region/south v1 is active again" [ "$(rules region/south | jq .active.version)" = 1 ]
check "lead 1 was re-evaluated under region/south v2" \
    [ "$(api GET /v1/instances/1/events hq-admin-token | jq -r '[.events[] | select(.action == "reevaluate")][0].rules["region/south"]')" = 2 ]
stop_daemon
finish
