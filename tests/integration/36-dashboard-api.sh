#!/bin/sh
# 36-dashboard-api: what the dashboard reads besides the work lists. The
# funnel lists HQ's stages in process order, empty ones too, and the closed
# instances by outcome (won, lost, dropped apart); events carry their
# business date (`date`) beside the recording time; instances keep the day
# they entered each stage (`entered`).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worklist-seed.sh"
start_daemon --auto-approve || exit 1

api GET /v1/funnel hq-admin-token >/dev/null
expect "an empty funnel answers" 200
[ "$(jq -c '[.stages[] | [.stage, .count, .value]]' "$WORK/body")" = \
  '[["lead",0,0],["opportunity",0,0],["contract",0,0],["closed",0,0]]' ]
ok_if "every stage of process.lua, in its order, empty ones too"
[ "$(jq -c '[.stages[-1].outcomes[] | [.outcome, .count]]' "$WORK/body")" = '[["won",0],["lost",0],["dropped",0]]' ]
ok_if "closed lists each outcome process.lua declares"

seed_worklists
OPEN=$(seed_lead province-b 7000000 "Still a lead")
api GET /v1/funnel hq-admin-token >/dev/null
[ "$(jq -c '[.stages[] | [.stage, .count, .value]]' "$WORK/body")" = \
  '[["lead",1,7000000],["opportunity",5,5240000000],["contract",2,150000000],["closed",3,51000000]]' ]
ok_if "counts and values (contract value, else budget) by stage, in process order"
[ "$(jq -c '[.stages[-1].outcomes[] | [.outcome, .count, .value]]' "$WORK/body")" = \
  '[["won",1,20000000],["lost",1,30000000],["dropped",1,1000000]]' ]
ok_if "won, lost and dropped apart, each with its value"
# The same figures as the instance list.
for st in lead opportunity contract closed; do
    api GET "/v1/instances?stage=$st&limit=500" hq-admin-token >/dev/null
    n=$(jq '.instances | length' "$WORK/body")
    api GET /v1/funnel hq-admin-token >/dev/null
    [ "$(jq --arg s "$st" '.stages[] | select(.stage == $s) | .count' "$WORK/body")" = "$n" ]
    ok_if "funnel $st counts the instances the list holds ($n)"
done
api GET /v1/funnel pb-ar-token >/dev/null
[ "$(jq -c '[.unit, [.stages[] | .count], [.stages[-1].outcomes[] | .count]]' "$WORK/body")" = \
  '["office/province-b",[1,1,0,1],[0,1,0]]' ]
ok_if "an office's funnel counts its own instances, every stage and outcome still listed"
api GET /v1/funnel north-admin-token >/dev/null
[ "$(jq -c '[.stages[] | .count]' "$WORK/body")" = '[0,1,0,0]' ]
ok_if "North's funnel: its one opportunity"

# Business dates on events.
api GET "/v1/instances/$W_ATB/events" hq-admin-token >/dev/null
[ "$(jq -c '[.events[] | [.action, .date]]' "$WORK/body")" = \
  "[[\"create\",\"$(d 0)\"],[\"review\",\"$(d 14)\"],[\"assign\",\"$(d 14)\"],[\"decide\",\"$(d 19)\"],[\"decide\",\"$(d 31)\"]]" ]
ok_if "each event's date is the business date its action was given, else the day it was recorded"
jq -e '[.events[] | .at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")] | all' "$WORK/body" >/dev/null
ok_if "at stays the recording time"
jq -e '.events[3].outcome.level == "office" and .events[3].outcome.decided_by == "hq:admin"
    and .events[4].outcome.outcome == "defer"' "$WORK/body" >/dev/null
ok_if "decisions carry their level, decider and outcome"
api GET "/v1/events?limit=200" hq-admin-token >/dev/null
jq -e --argjson i "$W_ATB" --arg d "$(d 31)" '[.events[] | select(.instance == $i and .seq == 5)][0].date == $d' \
    "$WORK/body" >/dev/null
ok_if "recent events carry the business date too"

# Stage entry dates.
api GET "/v1/instances/$W_WON" hq-admin-token >/dev/null
[ "$(jq -c .entered "$WORK/body")" = "{\"lead\":\"$(d 0)\",\"opportunity\":\"$(d 1)\",\"contract\":\"$(d 5)\",\"closed\":\"$(d 56)\"}" ]
ok_if "an instance keeps the business day it entered each stage"
api GET "/v1/instances/$OPEN" hq-admin-token >/dev/null
[ "$(jq -c .entered "$WORK/body")" = "{\"lead\":\"$(d 0)\"}" ]
ok_if "a new lead entered stage lead the day it was created"

stop_daemon
finish
