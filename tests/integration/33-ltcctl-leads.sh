#!/bin/sh
# 33-ltcctl-leads: ltcctl's verbs of lead management (CONTRACT 8.3) as a user
# runs them against a real daemon: people and customers, a lead's owner, the
# review queue, a review meeting from a file (one bad decision: every refused
# one printed, exit 1, nothing recorded), activities and the weekly
# scorecard. Readable tables, --json for scripts, strict values refused
# before anything is sent (exit 2), the daemon's refusals exit 1.
. "$(dirname "$0")/lib.sh"
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
start_daemon || exit 1
TODAY=$(date -u +%F)
days() { date -u -d "$TODAY + $1 days" +%F; }
# run TOKEN ARGS...: ltcctl's stdout in $WORK/out, stderr in $WORK/err, exit code in $RC.
run() {
    _tok=$1; shift
    LTC_URL=$URL LTC_TOKEN=$_tok "$LTCCTL" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
}
out_has() { grep -q -- "$1" "$WORK/out"; }
err_has() { grep -q -- "$1" "$WORK/err"; }
rows() { sql "SELECT count(*) FROM $1"; }

# --- help lists every new verb and every option of one -------------------------
run hq-admin help
for verb in "people list" "people show" "people put" "people deactivate" "customers list" \
    "customers show" "customers put" "queue" "review-meeting FILE" "review-meeting show" \
    "activity add" "activities" "scorecard" "assign-owner ID PERSON"; do
    out_has "^  $verb"; ok_if "ltcctl help lists '$verb'"
done
run hq-admin people put --help
[ $RC = 0 ] && out_has "usage: ltcctl people put ID --name TEXT --office ID" && out_has "--name TEXT" &&
    out_has "--office ID" && out_has "--role ROLE .*(repeatable)" && out_has "--inactive" && out_has "--json"
ok_if "people put --help lists every option"
run hq-admin activity add --help
[ $RC = 0 ] && out_has "--kind K  *visit|call|workshop|budget_table" && out_has "--budget-year Y" &&
    out_has "--budget-amount FEN" && out_has "--budget-yuan YUAN" && out_has "--instance ID" && out_has "--note TEXT"
ok_if "activity add --help lists every option"

# --- people ---------------------------------------------------------------------
run province-a-admin people put amy --name Amy --office province-a --role ar
[ $RC = 0 ] && out_has "^created person amy: Amy, office province-a (region south), active" && out_has "roles    ar"
ok_if "people put registers a person and says so"
run province-a-admin people put amy --name "Amy Wang" --office province-a --role ar --role reviewer
[ $RC = 0 ] && out_has "^updated person amy: Amy Wang" && out_has "roles    ar, reviewer"; ok_if "a second put updates it"
run province-a-admin people put bob --name Bob --office province-a --role sr
run hq-admin people put cc1 --name Chen --office city-c --role ar
run hq-admin people put gone --name Gone --office province-a --role ar --inactive
[ $RC = 0 ] && out_has "), inactive"; ok_if "--inactive stores the person inactive"
check "the API holds what was typed" [ "$(api GET /v1/people/amy hq-admin | jq -c '[.name, .office, .roles, .active]')" = '["Amy Wang","province-a",["ar","reviewer"],true]' ]
PEOPLE=$(rows people)
run province-a-admin people put Amy --name A --office province-a
[ $RC = 2 ] && err_has "ID: 'Amy' is not an id: expected 1 to 63 of a-z, 0-9"; ok_if "an id with capitals is refused (exit 2)"
run province-a-admin people put zed --name Zed --office province-a --role boss
[ $RC = 2 ] && err_has "--role: 'boss' is not accepted: expected one of admin, reviewer, lead_manager, ar, sr, fr, finance, viewer"
ok_if "an unknown role is refused listing the roles"
run province-a-admin people put zed --name Zed --office province-a --role ar --role ar
[ $RC = 2 ] && err_has "--role ar given twice"; ok_if "a role given twice is refused"
run province-a-admin people put zed --office province-a
[ $RC = 2 ] && err_has "missing --name TEXT"; ok_if "a put without --name is refused"
run province-a-admin people put zed --name "$(printf 'x%.0s' $(seq 201))" --office province-a
[ $RC = 2 ] && err_has "--name: 201 characters, at most 200"; ok_if "a name of 201 characters is refused"
run province-a-admin people put zed --name Zed --office Province_A
[ $RC = 2 ] && err_has "--office: 'Province_A' is not an id"; ok_if "a malformed office is refused"
check "none of the refused people was sent" [ "$(rows people)" = "$PEOPLE" ]
run cc-admin people put zed --name Zed --office province-a
[ $RC = 1 ] && err_has "403 forbidden: office/city-c may not manage office province-a"; ok_if "another office's admin is refused by the daemon (exit 1)"
run province-a-ar people put zed --name Zed --office province-a
[ $RC = 1 ] && err_has "403 forbidden: role ar may not change people"; ok_if "an ar may not register people"

run province-a-viewer people list
[ $RC = 0 ] && out_has "^ID  *NAME  *OFFICE  *ACTIVE  *ROLES" && out_has "^amy  *Amy Wang  *province-a  *yes  *ar, reviewer" &&
    out_has "^gone .* no " && out_has "(3 people)" && ! out_has "cc1"
ok_if "people list is a table of the principal's scope"
run hq-admin people list --office city-c
[ $RC = 0 ] && out_has "^cc1 " && out_has "(1 person)"; ok_if "people list --office filters"
run hq-admin people list --limit 2
[ $RC = 0 ] && out_has "(2 shown; more: --after bob)"; ok_if "a page says how to get the next one"
run hq-admin people list --after bob --limit 2
[ $RC = 0 ] && out_has "^cc1 " && out_has "^gone "; ok_if "--after gives the next page"
run hq-admin people list --limit 0
[ $RC = 2 ] && err_has "--limit: '0' is not accepted: expected a whole number from 1 to 500"; ok_if "--limit 0 is refused"
run province-a-viewer people list --office city-c
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "another office's list is the daemon's 403 (exit 1)"
run hq-admin --json people list
[ $RC = 0 ] && jq -e '.people | length == 4' "$WORK/out" >/dev/null; ok_if "--json people list prints the API's JSON"
run province-a-viewer people show amy
[ $RC = 0 ] && out_has "^person amy: Amy Wang, office province-a (region south), active" && out_has "updated  .* by office/province-a:admin"
ok_if "people show prints the person"
run province-a-viewer people show cc1
[ $RC = 1 ] && err_has "404 not_found"; ok_if "a person out of scope is not found (exit 1)"

run province-a-admin people deactivate bob
[ $RC = 0 ] && out_has "^person bob (Bob, office province-a): deactivated"; ok_if "people deactivate says what it did"
check "deactivate keeps name, office and roles" [ "$(api GET /v1/people/bob hq-admin | jq -c '[.name, .office, .roles, .active]')" = '["Bob","province-a",["sr"],false]' ]
run province-a-admin people deactivate nobody
[ $RC = 1 ] && err_has "404 not_found: person nobody not found"; ok_if "deactivating an unknown person is 404 (exit 1)"
run province-a-admin people put bob --name Bob --office province-a --role sr
[ $RC = 0 ] && out_has "), active"; ok_if "a put without --inactive reactivates"

# --- customers --------------------------------------------------------------------
run province-a-admin customers put acme --name "ACME Telecom" --office province-a --segment carrier --yuan 5000000.50
[ $RC = 0 ] && out_has "^created customer acme: ACME Telecom, office province-a" && out_has "credit limit  5,000,000.50 CNY" &&
    out_has "segment       carrier"
ok_if "customers put with --yuan prints the limit as CNY"
check "--yuan 5000000.50 is stored as exactly 500000050 fen" [ "$(api GET /v1/customers/acme hq-admin | jq .credit_limit)" = 500000050 ]
run province-a-admin customers put grid --name Grid --office province-a --credit-limit 120000000
[ $RC = 0 ] && out_has "credit limit  1,200,000.00 CNY"; ok_if "--credit-limit in fen"
run province-a-admin customers put tiny --name Tiny --office province-a
[ $RC = 0 ] && out_has "credit limit  HQ's default"; ok_if "a customer without a limit uses HQ's default"
CUSTOMERS=$(rows customers)
for bad in 12.5 1,200 1e6 -5 1000000000000001; do
    run province-a-admin customers put zed --name Zed --office province-a --credit-limit "$bad"
    [ $RC = 2 ] && err_has "--credit-limit: '$bad' is not an amount in fen" && err_has "or yuan with --yuan"
    ok_if "--credit-limit '$bad' is refused naming the forms"
done
run province-a-admin customers put zed --name Zed --office province-a --credit-limit 1 --yuan 1
[ $RC = 2 ] && err_has "give the amount once"; ok_if "--credit-limit and --yuan together are refused"
run province-a-admin customers put zed --name Zed --office province-a --segment "$(printf 's%.0s' $(seq 61))"
[ $RC = 2 ] && err_has "--segment: 61 characters, at most 60"; ok_if "a segment over 60 characters is refused"
check "none of the refused customers was sent" [ "$(rows customers)" = "$CUSTOMERS" ]
run province-a-viewer customers list
[ $RC = 0 ] && out_has "^ID  *NAME  *OFFICE  *SEGMENT  *CREDIT LIMIT" && out_has "^acme  *ACME Telecom  *province-a  *carrier  *5,000,000.50 CNY" &&
    out_has "^tiny .*HQ's default" && out_has "(3 customers)"
ok_if "customers list is a table with limits as money"
run province-a-viewer customers show grid
[ $RC = 0 ] && out_has "^customer grid: Grid, office province-a (region south)"; ok_if "customers show"
run province-a-viewer --json customers show grid
[ $RC = 0 ] && [ "$(jq .credit_limit "$WORK/out")" = 120000000 ]; ok_if "--json customers show"

# --- owners ---------------------------------------------------------------------------
mk() { api POST /v1/leads hq-admin "$(echo "$LEAD" | jq -c --arg c "$1" --argjson s "$2" '.customer = $c | .signals = $s')" | jq .id; }
HOT=$(mk acme '{"strategic_fit":5,"urgency":5,"procurement_path":5,"relationship":5,"coach":5,"solution_maturity":5,"differentiation":5,"team_availability":5}')
COLD=$(mk grid '{"strategic_fit":3}')
THIRD=$(mk tiny '{"strategic_fit":3,"urgency":2}')
run province-a-viewer lead show "$HOT"
[ $RC = 0 ] && out_has "owner      amy (assigned by hq)"; ok_if "lead show names the owner and who chose it"
run province-a-viewer lead list --owner amy
[ $RC = 0 ] && out_has "^ID  *STAGE  *OFFICE  *OWNER" && out_has "^$HOT  *lead  *province-a  *amy " && out_has "(3 instances)"
ok_if "lead list --owner lists one owner's leads with an OWNER column"
run province-a-viewer lead list --owner 'Amy!'
[ $RC = 2 ] && err_has "--owner: 'Amy!' is not an ID"; ok_if "a malformed --owner is refused"
EVENTS=$(rows events)
run province-a-reviewer assign-owner "$THIRD" bob
[ $RC = 0 ] && out_has "^instance $THIRD: owner bob (stage lead, office province-a)"; ok_if "assign-owner says who owns the lead now"
check "the API agrees" [ "$(api GET "/v1/instances/$THIRD" hq-admin | jq -r .owner)" = bob ]
run province-a-viewer events "$THIRD"
[ $RC = 0 ] && out_has "assign_owner .*owner bob (was amy)"; ok_if "events shows the change of owner in words"
run province-a-reviewer assign-owner "$THIRD" cc1
[ $RC = 1 ] && err_has "400 invalid_field: owner: no person 'cc1' in your scope"
ok_if "an owner of an office out of scope is the daemon's 400 (exit 1), as unknown: city-c is not disclosed"
run hq-admin assign-owner "$THIRD" cc1
[ $RC = 1 ] && err_has "400 invalid_field: owner: cc1 is a person of office city-c, not of province-a"
ok_if "... to HQ, who sees both offices, it says which office the person is of"
run province-a-reviewer assign-owner "$THIRD" gone
[ $RC = 1 ] && err_has "gone is not active"; ok_if "an inactive owner is refused"
run province-a-reviewer assign-owner abc bob
[ $RC = 2 ] && err_has "ID: 'abc' is not accepted"; ok_if "assign-owner abc is a usage error"
run province-a-reviewer assign-owner "$THIRD" 'B*b'
[ $RC = 2 ] && err_has "PERSON: 'B\*b' is not an id"; ok_if "a malformed person is refused before sending"
check "one event: the one accepted change" [ "$(rows events)" = $((EVENTS + 1)) ]

# --- the review queue -------------------------------------------------------------------
run province-a-viewer queue --unit office/province-a
[ $RC = 0 ] && out_has "^review queue of office/province-a as of $TODAY: 3 leads waiting, highest priority first" &&
    out_has "^PRIORITY  *LEAD  *CUSTOMER  *TITLE  *OWNER  *EVALUATION  *AGE  *STALE" &&
    [ "$(awk 'NR > 2 { print $2 }' "$WORK/out" | head -1)" = "$HOT" ] &&
    grep -q "^ *[0-9.]*  *$HOT  *acme .* amy  *[0-9.]* hot, " "$WORK/out" && out_has " 0d  *- "
ok_if "queue is a table: the hottest lead first, with owner, evaluation, age, stale"
run province-a-viewer queue --unit office/province-a --as-of "$(days 30)"
[ $RC = 0 ] && out_has " 30d  *stale "; ok_if "thirty quiet days later the leads are 30 days old and stale"
run province-a-viewer queue
[ $RC = 0 ] && out_has "^review queue of office/province-a"; ok_if "queue defaults to the principal's unit"
run province-a-viewer queue --unit province-a
[ $RC = 2 ] && err_has "--unit: 'province-a' is not a unit: expected hq, region/ID or office/ID"; ok_if "a unit without its level is refused"
run province-a-viewer queue --unit office/province-a --as-of 2026-02-30
[ $RC = 2 ] && err_has "--as-of: '2026-02-30' is not a date"; ok_if "a day that does not exist is refused"
run province-a-viewer queue --unit office/city-c
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "another office's queue is the daemon's 403"
run province-a-viewer --json queue --unit office/province-a
[ $RC = 0 ] && [ "$(jq '.leads | length' "$WORK/out")" = 3 ]; ok_if "--json queue"

# --- the review meeting ------------------------------------------------------------------
EVENTS=$(rows events)
DOCS=$(sql 'SELECT doc FROM instances ORDER BY id' | sha256sum)
cat >"$WORK/bad.json" <<EOF
{"unit":"office/province-a","held_at":"$TODAY","decisions":[
 {"instance":$HOT,"decision":"convert","note":"budget confirmed"},
 {"instance":$COLD,"decision":"nurture","owner":"cc1"},
 {"instance":$THIRD,"decision":"drop"},
 {"instance":99999,"decision":"close"}]}
EOF
run province-a-reviewer review-meeting "$WORK/bad.json"
[ $RC = 1 ] && err_has "422 items_refused: 3 of 4 decisions refused; nothing was recorded" &&
    err_has "ITEM  *LEAD  *FIELD  *CODE  *MESSAGE" &&
    err_has "^  1  *$COLD  *owner  *invalid_field  *owner: no person 'cc1' in your scope" &&
    err_has "^  2  *$THIRD  *decision  *invalid_field" && err_has "^  3  *99999 .*not_found  *instance 99999 not found" &&
    ! err_has "^  0 " && [ ! -s "$WORK/out" ]
ok_if "a meeting with bad decisions prints every refused one as a table, exit 1"
check "... and records nothing: no event" [ "$(rows events)" = "$EVENTS" ]
check "... no instance changed" [ "$(sql 'SELECT doc FROM instances ORDER BY id' | sha256sum)" = "$DOCS" ]
check "... no meeting stored" [ "$(rows reviews)" = 0 ]
run province-a-reviewer --json review-meeting "$WORK/bad.json"
[ $RC = 1 ] && [ "$(jq -c '[.error.details.items[].index]' "$WORK/out")" = '[1,2,3]' ]; ok_if "--json prints the 422 as it came"
printf '{"unit":"office/province-a",\n "held_at": 2026-01-05}' >"$WORK/broken.json"
run province-a-reviewer review-meeting "$WORK/broken.json"
[ $RC = 2 ] && err_has "broken.json: not JSON: line 2, column" ; ok_if "a file that is not JSON is refused naming line and column"
echo '[1,2]' >"$WORK/list.json"
run province-a-reviewer review-meeting "$WORK/list.json"
[ $RC = 2 ] && err_has "expected a JSON object"; ok_if "a JSON list is refused"
run province-a-reviewer review-meeting "$WORK/missing.json"
[ $RC = 2 ] && err_has "cannot read .*missing.json"; ok_if "a missing file is refused"
head -c 1048577 /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
run province-a-reviewer review-meeting "$WORK/huge.json"
[ $RC = 2 ] && err_has "more than 1048576 bytes"; ok_if "a file over 1 MiB is refused before sending"
check "nothing refused here reached the daemon" [ "$(rows events)" = "$EVENTS" ]

NEXT=$(days 10)
cat >"$WORK/good.json" <<EOF
{"unit":"office/province-a","held_at":"$TODAY","decisions":[
 {"instance":$HOT,"decision":"convert","note":"budget confirmed"},
 {"instance":$COLD,"decision":"nurture","next_review":"$NEXT","owner":"bob"}]}
EOF
run province-a-reviewer review-meeting - <"$WORK/good.json"
# Its id: 1 on SQLite (refused meetings take none); on PostgreSQL the refused
# ones drew theirs from the sequence (ids unique, not gap-free).
M=$(sed -n 's/^review meeting \([0-9]*\) of .*/\1/p' "$WORK/out" | head -1)
[ $RC = 0 ] && { [ "$M" = 1 ] || { on_pg && [ -n "$M" ]; }; } &&
    out_has "^review meeting $M of office/province-a, held $TODAY: 2 decisions" &&
    out_has "recorded .* by office/province-a:reviewer (person pa-reviewer)" &&
    out_has "^LEAD  *DECISION  *STAGE  *OWNER  *NEXT REVIEW  *NOTE" &&
    out_has "^$HOT  *convert  *opportunity  *amy  *-  *budget confirmed" &&
    out_has "^$COLD  *nurture  *lead  *bob  *$NEXT"
ok_if "a good meeting (from stdin) prints its record as a table"
check "two events, one a decision" [ "$(rows events)" = $((EVENTS + 2)) ]
run province-a-viewer review-meeting show "$M"
[ $RC = 0 ] && out_has "^review meeting $M of office/province-a" && out_has "^$COLD  *nurture"; ok_if "review-meeting show ID"
run province-a-viewer review-meeting show x1
[ $RC = 2 ] && err_has "ID: 'x1' is not accepted"; ok_if "review-meeting show x1 is a usage error"
run cc-admin review-meeting show "$M"
[ $RC = 1 ] && err_has "404 not_found"; ok_if "another office's meeting is not found"
run province-a-viewer events "$HOT"
[ $RC = 0 ] && out_has "review .*convert (meeting $M): budget confirmed"; ok_if "events cites the meeting"
run province-a-viewer queue --unit office/province-a --as-of "$(days 9)"
[ $RC = 0 ] && out_has "1 lead waiting" && ! grep -q "^ *[0-9.]*  *$COLD " "$WORK/out"; ok_if "the nurtured lead is off the queue before its date"
run province-a-viewer queue --unit office/province-a --as-of "$NEXT"
[ $RC = 0 ] && out_has "2 leads waiting" && grep -q "^ *[0-9.]*  *$COLD .* $NEXT\$" "$WORK/out"; ok_if "... and back on it on its date, with the date"
# A single review takes the meeting's next_review and owner too.
LATER=$(days 20)
run province-a-reviewer review "$COLD" decision=nurture next_review="$LATER" owner=amy note="call in January"
[ $RC = 0 ] && out_has "owner: amy" && out_has "next review: $LATER"; ok_if "review ... next_review= owner= nurtures with a date and a nurturer"
check "... as the API has it" [ "$(api GET "/v1/instances/$COLD" hq-admin | jq -c '[.owner, .next_review]')" = "[\"amy\",\"$LATER\"]" ]
EVENTS=$(rows events)
run province-a-reviewer review "$COLD" decision=nurture next_review=2026-02-30
[ $RC = 2 ] && err_has "next_review"; ok_if "a review date that does not exist is refused before sending"
run province-a-ar review "$COLD" decision=nurture owner=bob
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "an account manager may not change the owner through a review"
check "... neither was recorded" [ "$(rows events)" = "$EVENTS" ]
run hq-admin review --help
[ $RC = 0 ] && out_has "next_review" && out_has "owner"; ok_if "review --help lists next_review and owner"

# --- activities -------------------------------------------------------------------------
ACTS=$(rows activities)
run province-a-ar activity add --person amy --customer acme --kind meeting --at 2026-12-28
[ $RC = 2 ] && err_has "--kind: 'meeting' is not accepted: expected one of visit, call, workshop, budget_table"; ok_if "an unknown kind is refused listing the kinds"
run province-a-ar activity add --person amy --customer acme --kind visit --at 2026-12-28 --budget-year 2027
[ $RC = 2 ] && err_has "--budget-year: only with --kind budget_table"; ok_if "a budget on a visit is refused"
run province-a-ar activity add --person amy --customer acme --kind budget_table --at 2026-12-28 --budget-amount 5
[ $RC = 2 ] && err_has "needs --budget-year Y"; ok_if "a budget table without its year is refused"
run province-a-ar activity add --person amy --customer acme --kind budget_table --at 2026-12-28 --budget-year 2027
[ $RC = 2 ] && err_has "needs --budget-amount FEN"; ok_if "a budget table without its amount is refused"
run province-a-ar activity add --person amy --customer acme --kind budget_table --at 2026-12-28 --budget-year 27 --budget-amount 5
[ $RC = 2 ] && err_has "--budget-year: '27' is not accepted: expected a whole number from 1900 to 9998"; ok_if "a two-digit year is refused"
run province-a-ar activity add --person amy --customer acme --kind budget_table --at 2026-12-28 --budget-year 2027 --budget-amount 1.5
[ $RC = 2 ] && err_has "--budget-amount: '1.5' is not an amount in fen" && err_has "or yuan with --budget-yuan"; ok_if "a budget in decimals of fen is refused"
run province-a-ar activity add --person amy --customer acme --kind visit --at 2026-12-32
[ $RC = 2 ] && err_has "--at: '2026-12-32' is not a date"; ok_if "a date that does not exist is refused"
run province-a-ar activity add --person amy --customer acme --kind visit
[ $RC = 2 ] && err_has "missing --at"; ok_if "an activity without --at is refused"
run province-a-ar activity add --person amy --customer acme --kind visit --at 2026-12-28 --instance 0
[ $RC = 2 ] && err_has "--instance: '0' is not accepted"; ok_if "--instance 0 is refused"
check "no refused activity was sent" [ "$(rows activities)" = "$ACTS" ]
run province-a-ar activity add --person cc1 --customer acme --kind visit --at 2026-12-28
[ $RC = 1 ] && err_has "400 invalid_field: person: no person 'cc1'"; ok_if "a person out of scope is the daemon's 400"

visit() { run province-a-ar activity add --person "$1" --customer acme --kind visit --at "$2"; }
# amy: 5 visits in 2026-W53 (Monday 2026-12-28 to Sunday 2027-01-03), one on each side of it.
for d in 2026-12-27 2026-12-28 2026-12-30 2026-12-31 2027-01-02 2027-01-03 2027-01-04; do visit amy "$d"; done
[ $RC = 0 ] && out_has "^activity [0-9]*: visit by amy at customer acme on 2027-01-04 (office province-a, region south)"
ok_if "activity add prints what was recorded"
for d in 2026-12-28 2026-12-29 2026-12-29 2026-12-31 2027-01-01 2027-01-03; do visit bob "$d"; done
run province-a-ar activity add --person amy --customer acme --kind budget_table --at 2026-12-30 --budget-year 2027 --budget-yuan 3000000 --note "from the CTO" --instance "$HOT"
[ $RC = 0 ] && out_has "budget table for 2027: 3,000,000.00 CNY" && out_has "lead     $HOT" && out_has "note     from the CTO"
ok_if "a budget table with --budget-yuan prints the budget as CNY"
check "... stored as exactly 300000000 fen" [ "$(api GET '/v1/activities?customer=acme&from=2026-12-30&to=2026-12-30' hq-admin | jq -c '[.activities[] | select(.kind == "budget_table") | .budget]')" = '[{"year":2027,"amount":300000000}]' ]
run province-a-viewer activities --person amy --from 2026-12-28 --to 2027-01-03
[ $RC = 0 ] && out_has "^ID  *DATE  *KIND  *PERSON  *CUSTOMER  *OFFICE  *LEAD  *DETAIL" && out_has "(6 activities)" &&
    out_has " 2026-12-30 budget_table  *amy  *acme  *province-a  *$HOT  *budget 2027: 3,000,000.00 CNY; from the CTO" &&
    ! out_has "2026-12-27" && ! out_has "2027-01-04"
ok_if "activities --person --from --to is a table of that week"
run province-a-viewer activities --from 2027-01-03 --to 2026-12-28
[ $RC = 2 ] && err_has "--from 2027-01-03 is after --to 2026-12-28"; ok_if "--from after --to is refused"
run province-a-viewer activities --person Amy
[ $RC = 2 ] && err_has "--person: 'Amy' is not an id"; ok_if "a malformed --person is refused"
run province-a-viewer activities --limit 2
[ $RC = 0 ] && out_has "(2 shown; more: --after [0-9]*)"; ok_if "activities pages"

# --- the scorecard -----------------------------------------------------------------------
run province-a-viewer scorecard --unit office/province-a --week 2026-W53
[ $RC = 0 ] && out_has "^scorecard of office/province-a, week 2026-W53 (2026-12-28 to 2027-01-03)" &&
    out_has "^PERSON  *NAME  *OFFICE  *VISITS  *MIN  *BELOW  *TABLES OVERDUE  *POINTS LOST" &&
    out_has "^amy  *Amy Wang  *province-a  *5  *6  *below " && out_has "^bob  *Bob  *province-a  *6  *6  *- " &&
    ! out_has "^gone " && out_has "(1 of 2 people below the visit minimum;" &&
    out_has "^CUSTOMER  *NAME  *OFFICE  *TABLE 2027 (DUE 2027-01-31)  *TABLE 2026 (DUE 2026-01-31)" &&
    out_has "^acme  *ACME Telecom  *province-a  *collected 2026-12-30" && out_has "^grid  *Grid  *province-a  *missing" &&
    out_has "(2 of 3 budget tables for 2027 missing;"
ok_if "scorecard of a week across the year end: 5 visits below, 6 not; tables collected or missing"
card_points=$(api GET '/v1/scorecards?unit=office/province-a&week=2026-W53' hq-admin | jq '.people[] | select(.person == "amy") | .points_lost')
grep -q "^amy .* $card_points\$" "$WORK/out"; ok_if "the points lost are the API's ($card_points)"
run province-a-viewer scorecard --unit office/province-a --week 2025-W53
[ $RC = 2 ] && err_has "--week: '2025-W53' is not accepted: 2025 has 52 ISO weeks"; ok_if "a week the year does not have is refused"
run province-a-viewer scorecard --unit office/province-a --week 2026-53
[ $RC = 2 ] && err_has "an ISO week YYYY-Www"; ok_if "a week without its W is refused"
run province-a-viewer scorecard --unit office/province-a
[ $RC = 2 ] && err_has "missing --week YYYY-Www"; ok_if "scorecard without --week is refused"
run province-a-viewer --json scorecard --unit office/province-a --week 2026-W53
[ $RC = 0 ] && [ "$(jq -c '[.people[] | .visits]' "$WORK/out")" = '[5,6]' ]; ok_if "--json scorecard"

# --- names in Chinese: cut on a character, wide characters two columns --------------
run hq-admin people put wang --name "王小明市场部经理助理" --office province-b --role ar
run hq-admin customers put hw --name "华为技术有限公司深圳总部分公司" --office province-b --segment "运营商"
run hq-admin --json lead create --office province-b --customer "华为技术有限公司深圳总部分公司" --title "五号核心网扩容工程第二期项目" --source sales --amount 100 --budget approved --horizon 6
utf8() { iconv -f UTF-8 -t UTF-8 "$WORK/out" >/dev/null 2>&1; }
run hq-admin people list --office province-b
utf8 && out_has "^wang                 王小明市场部经理助理     province-b "; ok_if "people list: a 20-column Chinese name padded to 24 columns, valid UTF-8"
run hq-admin customers list --office province-b
utf8 && out_has "^hw                   华为技术有限公司深圳总部分公 province-b       运营商           "
ok_if "customers list: a 30-column name cut to 28 on a character, the segment padded"
run hq-admin lead list --office province-b
utf8 && out_has " 华为技术有限公司深圳总 五号核心网扩容工程第二期项 "; ok_if "lead list: customer and title cut on characters"
run hq-admin queue --unit office/province-b
utf8 && out_has " 华为技术有限公司深圳总 五号核心网扩容工程第二期 "; ok_if "queue: customer and title cut on characters"
run hq-admin scorecard --unit office/province-b --week 2026-W53
utf8 && out_has "^wang             王小明市场部经理助理   province-b " && out_has "^hw               华为技术有限公司深圳总 province-b "
ok_if "scorecard: names of people and customers fit their columns"

# --- unreachable ---------------------------------------------------------------------------
LTC_TOKEN=hq-admin "$LTCCTL" --url http://127.0.0.1:1 people list >/dev/null 2>"$WORK/err"
[ $? = 3 ] && err_has "cannot reach ltcd"; ok_if "an unreachable daemon is exit 3"

stop_daemon
finish
