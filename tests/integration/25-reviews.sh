#!/bin/sh
# 25-reviews: the review queue and the review meeting (CONTRACT 8.3). The
# queue lists the leads of a unit waiting for review (never reviewed, or
# nurtured and due), by HQ's priority, with age and staleness; a meeting is
# one all-or-nothing batch: one bad decision and nothing is recorded; a
# nurtured lead comes back on its next_review and not before; nurture_days
# from HQ or a region's thresholds within HQ's bounds.
. "$(dirname "$0")/lib.sh"
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
start_daemon --auto-approve || exit 1
TODAY=$(date -u +%F)
days() { date -u -d "$TODAY + $1 days" +%F; }

api PUT /v1/people/amy hq-admin '{"name":"Amy","office":"province-a","roles":["ar"]}' >/dev/null
api PUT /v1/people/cc1 hq-admin '{"name":"Chen","office":"city-c","roles":["ar"]}' >/dev/null
mk() { # OFFICE SIGNALS -> id
    api POST /v1/leads hq-admin "$(echo "$LEAD" | jq -c --arg o "$1" --argjson s "$2" '.office = $o | .signals = $s')" | jq .id
}
HOT=$(mk province-a '{"strategic_fit":5,"urgency":5,"procurement_path":5,"relationship":5,"coach":5,"solution_maturity":5,"differentiation":5,"team_availability":5}')
COLD=$(mk province-a '{"strategic_fit":3}')
NOFIT=$(mk province-a '{"strategic_fit":0,"urgency":5}')
OTHER=$(mk province-b '{"strategic_fit":3}')
NORTH=$(mk city-c '{"strategic_fit":3}')

queue() { api GET "/v1/reviews/queue?unit=$1&as_of=$2" "${3:-hq-viewer}" >/dev/null; }
queue office/province-a "$TODAY"; expect "the office's queue" 200
check "ordered by HQ's priority: hot, cold, then the lead that fails the first question" [ "$(jq -c '[.leads[].instance]' <"$WORK/body")" = "[$HOT,$COLD,$NOFIT]" ]
check "each with evaluation, owner, age and stale" [ "$(jq -c '.leads[0] | [.evaluation.temperature, .owner, .age_days, .stale]' <"$WORK/body")" = '["hot","amy",0,false]' ]
check "and what the evaluation judged: source, budget, horizon and signals" [ "$(jq -c '.leads[1] | [.source, .budget.status, .budget.amount, .horizon_months, .signals]' <"$WORK/body")" = '["sales","approved",60000000,6,{"strategic_fit":3}]' ]
queue office/province-a "$(days 30)"
check "thirty quiet days later: 30 days old and stale (HQ's stale_days 21)" [ "$(jq -c '.leads[0] | [.age_days, .stale]' <"$WORK/body")" = '[30,true]' ]
queue office/province-a "$(days 20)"
check "twenty days: not yet stale" [ "$(jq -c '.leads[0].stale' <"$WORK/body")" = false ]
queue region/south "$TODAY"
check "the region's queue holds both offices" [ "$(jq '.leads | length' <"$WORK/body")" = 4 ]
queue hq "$TODAY"
check "hq's holds all" [ "$(jq '.leads | length' <"$WORK/body")" = 5 ]
queue office/province-a 2026-02-30; expect "a malformed as_of is 400" 400 invalid_field
queue office/nowhere "$TODAY"; expect "an unknown unit is 400" 400 invalid_field

# A meeting with one bad decision records nothing.
EVENTS_BEFORE=$(sql 'SELECT count(*) FROM events')
DOCS_BEFORE=$(sql 'SELECT doc FROM instances ORDER BY id' | sha256sum)
meeting() { api POST /v1/reviews "${2:-province-a-reviewer}" "$1" >/dev/null; }
meeting "{\"unit\":\"office/province-a\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$HOT,\"decision\":\"convert\",\"owner\":\"amy\"},{\"instance\":$COLD,\"decision\":\"nurture\"},{\"instance\":$NOFIT,\"decision\":\"close\",\"owner\":\"cc1\"},{\"instance\":$OTHER,\"decision\":\"close\"},{\"instance\":$COLD,\"decision\":\"close\"},{\"instance\":999,\"decision\":\"drop\"}]}"
expect "a meeting with bad items: 422" 422 items_refused
check "details.items lists every refused item (4 of 6)" [ "$(jq -c '[.error.details.items[] | [.index, .field]]' <"$WORK/body")" = '[[2,"owner"],[3,""],[4,"instance"],[5,"decision"]]' ]
check "no event was recorded" [ "$(sql 'SELECT count(*) FROM events')" = "$EVENTS_BEFORE" ]
check "no instance changed" [ "$(sql 'SELECT doc FROM instances ORDER BY id' | sha256sum)" = "$DOCS_BEFORE" ]
check "no meeting was stored" [ "$(sql 'SELECT count(*) FROM reviews')" = 0 ]
meeting "{\"unit\":\"office/province-a\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$HOT,\"decision\":\"convert\"}]}" province-a-ar
expect "an ar may not record a meeting" 403 forbidden
meeting "{\"unit\":\"office/province-b\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$OTHER,\"decision\":\"close\"}]}"
expect "an office reviewer may not hold another office's meeting" 403 forbidden
meeting "{\"unit\":\"office/province-a\",\"held_at\":\"$TODAY\",\"decisions\":[]}"
expect "a meeting without decisions is 400" 400 invalid_field

# The same meeting without the bad items.
NEXT=$(days 10)
meeting "{\"unit\":\"office/province-a\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$HOT,\"decision\":\"convert\",\"note\":\"budget confirmed\"},{\"instance\":$COLD,\"decision\":\"nurture\",\"next_review\":\"$NEXT\",\"owner\":\"amy\"},{\"instance\":$NOFIT,\"decision\":\"close\"}]}"
expect "the meeting is recorded" 201
MID=$(jq .id <"$WORK/body")
check "its record lists each decision's result" [ "$(jq -c '[.decisions[] | [.instance, .stage, .next_review]]' <"$WORK/body")" = "[[$HOT,\"opportunity\",null],[$COLD,\"lead\",\"$NEXT\"],[$NOFIT,\"closed\",null]]" ]
api GET "/v1/instances/$HOT/events" hq-admin >/dev/null
check "each instance's event is the process's review, citing the meeting" [ "$(jq -c ".events[-1] | [.action, .payload.meeting, .payload.decision, .person]" <"$WORK/body")" = "[\"review\",$MID,\"convert\",\"pa-reviewer\"]" ]
api GET "/v1/reviews/$MID" province-a-viewer >/dev/null; expect "the office reads its meeting" 200
api GET "/v1/reviews/$MID" south-viewer >/dev/null; expect "its region too" 200
api GET "/v1/reviews/$MID" cc-admin >/dev/null; expect "another office: 404" 404 not_found
api GET "/v1/reviews/$MID" north-admin >/dev/null; expect "another region: 404" 404 not_found
api GET /v1/reviews/abc hq-admin >/dev/null; expect "a malformed id: 400" 400 invalid_field

# The nurtured lead returns on its date and not before.
queue office/province-a "$(days 9)"
check "the day before next_review: not in the queue" [ "$(jq -c '[.leads[].instance]' <"$WORK/body")" = '[]' ]
queue office/province-a "$NEXT"
check "on next_review: back in the queue" [ "$(jq -c '[.leads[].instance]' <"$WORK/body")" = "[$COLD]" ]
check "... with its review date" [ "$(jq -r '.leads[0].next_review' <"$WORK/body")" = "$NEXT" ]

# nurture_days: HQ's 14 by default, a region's thresholds within HQ's bounds.
meeting "{\"unit\":\"region/south\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$OTHER,\"decision\":\"nurture\"}]}" south-reviewer
check "HQ's nurture_days: held_at + 14" [ "$(jq -r '.decisions[0].next_review' <"$WORK/body")" = "$(days 14)" ]
SOUTH_T=$(cat "$WORK/rules/regions/south/thresholds.lua")
api PUT /v1/rules/region/south/thresholds.lua south-admin "$(echo "$SOUTH_T" | sed 's/warm = 35,/warm = 35, nurture_days = 120,/')" >/dev/null
expect "nurture_days beyond HQ's bounds is refused" 422 rule_rejected
api PUT /v1/rules/region/south/thresholds.lua south-admin "$(echo "$SOUTH_T" | sed 's/warm = 35,/warm = 35, nurture_days = 30,/')" >/dev/null
expect "a region sets nurture_days 30" 201
OTHER2=$(mk province-b '{"strategic_fit":3}')
meeting "{\"unit\":\"office/province-b\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$OTHER2,\"decision\":\"nurture\"}]}" south-reviewer
check "the region's nurture_days: held_at + 30" [ "$(jq -r '.decisions[0].next_review' <"$WORK/body")" = "$(days 30)" ]
meeting "{\"unit\":\"office/province-b\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$OTHER2,\"decision\":\"nurture\",\"next_review\":\"$TODAY\"}]}" south-reviewer
expect "a next_review not after the meeting is refused" 422 items_refused

# Exactly one bad item among good ones: the good ones are not recorded either.
G1=$(mk province-b '{"strategic_fit":3}'); G2=$(mk province-b '{"strategic_fit":3}'); G3=$(mk province-b '{"strategic_fit":3}')
unchanged() { echo "$(sqlite3 "$WORK/db" 'SELECT count(*) FROM events; SELECT count(*) FROM reviews; SELECT group_concat(doc) FROM instances' | sha256sum)"; }
BEFORE=$(unchanged)
meeting "{\"unit\":\"office/province-b\",\"held_at\":\"$TODAY\",\"decisions\":[{\"instance\":$G1,\"decision\":\"convert\"},{\"instance\":$G2,\"decision\":\"nurture\"},{\"instance\":$G3,\"decision\":\"close\"},{\"instance\":$G2,\"decision\":\"close\"}]}" south-reviewer
expect "three good decisions and one lead decided twice: 422" 422 items_refused
check "... only the bad one is listed" [ "$(jq -c '[.error.details.items[] | [.index, .instance, .field]]' <"$WORK/body")" = "[[3,$G2,\"instance\"]]" ]
check "... and none of the good ones was recorded (events, meetings, instances)" [ "$(unchanged)" = "$BEFORE" ]
# The review date a nurture computes stays a date: held_at at the calendar's end is refused.
meeting "{\"unit\":\"office/province-b\",\"held_at\":\"9998-12-31\",\"decisions\":[{\"instance\":$G1,\"decision\":\"convert\"},{\"instance\":$G2,\"decision\":\"nurture\"}]}" south-reviewer
expect "a nurture whose review date would fall after 9998-12-31 is refused" 422 items_refused
check "... naming next_review" [ "$(jq -c '[.error.details.items[] | [.index, .field]]' <"$WORK/body")" = '[[1,"next_review"]]' ]
check "... and nothing was recorded" [ "$(unchanged)" = "$BEFORE" ]
meeting "{\"unit\":\"office/province-b\",\"held_at\":\"9998-12-01\",\"decisions\":[{\"instance\":$G2,\"decision\":\"nurture\"}]}" south-reviewer
check "a review date within the calendar is kept (held_at + 30)" [ "$(jq -r '.decisions[0].next_review' <"$WORK/body")" = 9998-12-31 ]
# The single review action takes the same path.
api POST "/v1/instances/$NORTH/actions" hq-admin "{\"action\":\"review\",\"decision\":\"nurture\",\"next_review\":\"$(days 3)\"}" >/dev/null
check "a single nurture review sets next_review too" [ "$(jq -r .next_review <"$WORK/body")" = "$(days 3)" ]
queue office/city-c "$(days 2)"
check "... and leaves the queue until then" [ "$(jq '.leads | length' <"$WORK/body")" = 0 ]
# A single review dated with at: its review date counts from that day, as a meeting's from held_at.
DATED=$(mk city-c '{"strategic_fit":3}')
api POST "/v1/instances/$DATED/actions" hq-admin "{\"action\":\"review\",\"decision\":\"nurture\",\"at\":\"$(days 5)\"}" >/dev/null
check "a review dated at today + 5: next_review today + 5 + 14, reviewed that day" [ "$(jq -c '[.next_review, .reviewed_at]' <"$WORK/body")" = "[\"$(days 19)\",\"$(days 5)\"]" ]
api POST "/v1/instances/$DATED/actions" hq-admin "{\"action\":\"review\",\"decision\":\"nurture\",\"at\":\"$(days 6)\",\"next_review\":\"$(days 6)\"}" >/dev/null
expect "... and its next_review must be after that day, not after today" 400 invalid_field
# A meeting's events are dated the day it was held (their business date).
api POST /v1/reviews hq-admin "{\"unit\":\"office/city-c\",\"held_at\":\"$(days 3)\",\"decisions\":[{\"instance\":$NORTH,\"decision\":\"convert\"}]}" >/dev/null
expect "a meeting held on the lead's review date" 201
api GET "/v1/instances/$NORTH/events" hq-admin >/dev/null
check "its event's business date is held_at, not the day it was recorded" [ "$(jq -c '.events[-1] | [.action, .date, .payload.at]' <"$WORK/body")" = "[\"review\",\"$(days 3)\",\"$(days 3)\"]" ]
api GET "/v1/instances/$NORTH" hq-admin >/dev/null
check "... and the day the lead became an opportunity" [ "$(jq -r '.entered.opportunity' <"$WORK/body")" = "$(days 3)" ]

# The engine's keys of a review are a review's only, and a meeting's id is
# the meeting's: a client can neither cite a meeting nor slip an owner or a
# review date into another action (refused by name, nothing recorded).
EVENTS_BEFORE=$(sql 'SELECT count(*) FROM events')
api POST "/v1/instances/$NORTH/actions" hq-admin '{"action":"review","decision":"nurture","meeting":1}' >/dev/null
expect "a single review citing a meeting is 400" 400 invalid_field
check "... naming meeting" [ "$(jq -r .error.details.field <"$WORK/body")" = meeting ]
OWNER=$(mk city-c '{"strategic_fit":3}')
api POST "/v1/instances/$OWNER/actions" cc-ar '{"action":"close","reason":"no budget","owner":"cc1"}' >/dev/null
expect "an owner on a close is 400, not ignored" 400 invalid_field
check "... naming owner" [ "$(jq -r .error.details.field <"$WORK/body")" = owner ]
api POST "/v1/instances/$OWNER/actions" cc-ar "{\"action\":\"close\",\"reason\":\"no budget\",\"next_review\":\"$(days 3)\"}" >/dev/null
expect "a next_review on a close is 400" 400 invalid_field
check "nothing was recorded for the three" [ "$(sql 'SELECT count(*) FROM events')" = $((EVENTS_BEFORE + 1)) ]

# A region whose thresholds fail for one of its leads (after it was created)
# does not empty the queues of the units above it: the queue needs HQ's rules only.
BOOM=$(api POST /v1/leads hq-admin "$(echo "$LEAD" | jq -c '.office = "city-c" | .title = "boom"')" | jq .id)
api PUT /v1/rules/region/north/thresholds.lua north-admin "$(sed 's/^return function(lead)$/&\
    if lead.title == "boom" then error("boom") end/' "$WORK/rules/regions/north/thresholds.lua")" >/dev/null
expect "North's thresholds now fail for the lead titled boom" 201
queue hq "$TODAY"
expect "hq's queue still answers" 200
check "... with the lead North's rules fail for" [ "$(jq "[.leads[] | select(.instance == $BOOM)] | length" <"$WORK/body")" = 1 ]
queue region/north "$TODAY"
expect "and so does North's own" 200

stop_daemon
finish
