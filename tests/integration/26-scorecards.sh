#!/bin/sh
# 26-scorecards: front-line activities and the weekly scorecard (CONTRACT
# 8.3). Visits are counted per ISO week, here 2026-W53, which runs from
# Monday 2026-12-28 to Sunday 2027-01-03: 5 visits are below HQ's minimum of
# 6, 6 are not; a region's visits_per_week (within HQ's bounds) moves the
# minimum. Budget tables for next year, HQ's deadline (31 January), and the
# points lost by HQ's scorecard.lua (2 a missing visit, 5 an overdue table).
. "$(dirname "$0")/lib.sh"
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
start_daemon --auto-approve || exit 1

api PUT /v1/people/five hq-admin '{"name":"Five","office":"province-a","roles":["ar"]}' >/dev/null
api PUT /v1/people/six hq-admin '{"name":"Six","office":"province-a","roles":["sr"]}' >/dev/null
api PUT /v1/people/gone hq-admin '{"name":"Gone","office":"province-a","roles":["ar"],"active":false}' >/dev/null
api PUT /v1/people/cc1 hq-admin '{"name":"Chen","office":"city-c","roles":["ar"]}' >/dev/null
api PUT /v1/customers/acme hq-admin '{"name":"ACME","office":"province-a"}' >/dev/null
api PUT /v1/customers/grid hq-admin '{"name":"Grid","office":"province-a"}' >/dev/null
api PUT /v1/customers/north hq-admin '{"name":"North Grid","office":"city-c"}' >/dev/null

activity() { api POST /v1/activities "${2:-province-a-ar}" "$1" >/dev/null; }
visit() { activity "{\"person\":\"$1\",\"customer\":\"acme\",\"kind\":\"visit\",\"at\":\"$2\"}"; }
# five: 5 visits in the week (three in 2026, two in 2027), one on each side of it.
for d in 2026-12-27 2026-12-28 2026-12-30 2026-12-31 2027-01-02 2027-01-03 2027-01-04; do visit five "$d"; done
expect "visits are recorded" 201
check "an activity answers with its id" [ "$(jq -c '[.id, .office, .region]' <"$WORK/body")" = '[7,"province-a","south"]' ]
# six: 6 visits in the week, and a call, which is no visit.
for d in 2026-12-28 2026-12-29 2026-12-29 2026-12-31 2027-01-01 2027-01-03; do visit six "$d"; done
activity '{"person":"six","customer":"acme","kind":"call","at":"2026-12-30"}'
# Budget tables: acme's for 2027 collected in the week; none for grid.
activity '{"person":"five","customer":"acme","kind":"budget_table","at":"2026-12-30","budget":{"year":2027,"amount":120000000000}}'
expect "a budget table with year and amount" 201

card() { api GET "/v1/scorecards?unit=$1&week=$2" "${3:-province-a-viewer}" >/dev/null; }
card office/province-a 2026-W53; expect "the scorecard of a week spanning the year end" 200
check "the week runs Monday to Sunday across the year end" [ "$(jq -c '[.from, .to]' <"$WORK/body")" = '["2026-12-28","2027-01-03"]' ]
p() { jq -c --arg p "$1" ".people[] | select(.person == \$p) | $2" <"$WORK/body"; }
check "5 visits in the week: below the minimum of 6" [ "$(p five '[.visits, .visits_min, .below_min]')" = '[5,6,true]' ]
check "6 visits: not below" [ "$(p six '[.visits, .visits_min, .below_min]')" = '[6,6,false]' ]
check "inactive people have no card" [ -z "$(p gone .visits)" ]
check "another office's people are not in it" [ -z "$(p cc1 .visits)" ]
c() { jq -c --arg c "$1" ".customers[] | select(.customer == \$c) | $2" <"$WORK/body"; }
check "acme's 2027 budget table is collected, due 2027-01-31" [ "$(c acme '.budget_table | [.year, .deadline, .collected, .collected_at]')" = '[2027,"2027-01-31",true,"2026-12-30"]' ]
check "grid's is not" [ "$(c grid '.budget_table.collected')" = false ]
check "both missed 2026's (due 2026-01-31)" [ "$(c acme '.previous | [.year, .overdue]')" = '[2026,true]' ] && [ "$(c grid '.previous.overdue')" = true ]
check "points lost: five (ar) 1 visit x 2 + 2 overdue tables x 5 = 12" [ "$(p five '[.budget_tables_overdue, .points_lost]')" = '[2,12]' ]
check "points lost: six (sr) nothing" [ "$(p six '[.budget_tables_overdue, .points_lost]')" = '[0,0]' ]
card office/province-a 2027-W01
check "the next week counts only its own visit" [ "$(p five .visits)" = 1 ]
card office/province-a 2026-W52
check "the week before counts the Sunday before" [ "$(p five .visits)" = 1 ]
card office/province-a 2027-W53; expect "2027 has no week 53" 400 invalid_field
card office/province-a 2026-53; expect "a malformed week is 400" 400 invalid_field
api GET "/v1/scorecards?unit=office/province-a" hq-viewer >/dev/null; expect "week is required" 400 invalid_field

# A region's visits_per_week within HQ's bounds.
SOUTH_T=$(cat "$WORK/rules/regions/south/thresholds.lua")
api PUT /v1/rules/region/south/thresholds.lua south-admin "$(echo "$SOUTH_T" | sed 's/warm = 35,/warm = 35, visits_per_week = 2,/')" >/dev/null
expect "visits_per_week below HQ's bounds is refused" 422 rule_rejected
api PUT /v1/rules/region/south/thresholds.lua south-admin "$(echo "$SOUTH_T" | sed 's/warm = 35,/warm = 35, visits_per_week = 5,/')" >/dev/null
expect "South sets visits_per_week 5" 201
card office/province-a 2026-W53
check "5 visits now meet South's minimum" [ "$(p five '[.visits, .visits_min, .below_min, .points_lost]')" = '[5,5,false,10]' ]
card region/north 2026-W53 north-admin
check "North keeps HQ's 6" [ "$(p cc1 .visits_min)" = 6 ]

# A region's thresholds function that fails for the scorecard's { region, office }
# (it reads a lead's signals) is bounded: its people keep HQ's minimum, each card
# says why, the error is North's runtime error; the other regions' cards are as before.
api PUT /v1/rules/region/north/thresholds.lua north-admin "$(sed 's/^return function(lead)$/&\
    if lead.signals.urgency == 9 then return {} end/' "$WORK/rules/regions/north/thresholds.lua")" >/dev/null
expect "North's thresholds read lead.signals (every lead has them)" 201
ERRS=$(curl -s "$URL/metrics" | sed -n 's/^ltcd_rule_errors_total{owner="region\/north",kind="runtime"} //p')
card hq 2026-W53 hq-viewer
expect "hq's scorecard still answers" 200
check "North's person keeps HQ's minimum, with the rule's error" [ "$(p cc1 '[.visits_min, (.rule_error | test("regions/north/thresholds.lua"))]')" = '[6,true]' ]
check "South's people are as before (South's minimum 5, no error)" [ "$(p five '[.visits_min, .rule_error]')" = '[5,null]' ]
check "the error is North's runtime error, counted once for the request" [ "$(curl -s "$URL/metrics" | sed -n 's/^ltcd_rule_errors_total{owner="region\/north",kind="runtime"} //p')" = $((${ERRS:-0} + 1)) ]
card region/north 2026-W53 north-admin
expect "North's own scorecard answers too" 200
LTC_URL=$URL LTC_TOKEN=hq-viewer "$LTCCTL" scorecard --unit hq --week 2026-W53 >"$WORK/out" 2>&1
grep -q "^(HQ's minimum for cc1 and the others of its region: region/north v[0-9]*: regions/north/thresholds.lua" "$WORK/out"
ok_if "ltcctl scorecard says whose minimum is HQ's, and why"
api PUT /v1/rules/region/north/thresholds.lua north-admin "$(cat "$WORK/rules/regions/north/thresholds.lua")" >/dev/null

# Activities: checked, scoped, listed.
activity '{"person":"five","customer":"acme","kind":"lunch","at":"2026-12-30"}'; expect "an unknown kind is 400" 400 invalid_field
activity '{"person":"five","customer":"acme","kind":"visit","at":"2026-12-32"}'; expect "an impossible date is 400" 400 invalid_field
activity '{"person":"five","customer":"acme","kind":"visit","at":"2026-12-30","budget":{"year":2027,"amount":1}}'; expect "a budget on a visit is 400" 400 invalid_field
activity '{"person":"five","customer":"acme","kind":"budget_table","at":"2026-12-30"}'; expect "a budget table without budget is 400" 400 invalid_field
activity '{"person":"five","customer":"acme","kind":"visit","at":"2026-12-30","mood":"good"}'; expect "an unknown field is 400" 400 invalid_field
activity '{"person":"gone","customer":"acme","kind":"visit","at":"2026-12-30"}'; expect "an inactive person is 400" 400 invalid_field
activity '{"person":"cc1","customer":"north","kind":"visit","at":"2026-12-30"}'; expect "a person out of scope reads as unknown" 400 invalid_field
activity '{"person":"five","customer":"north","kind":"visit","at":"2026-12-30"}'; expect "a customer out of scope reads as unknown" 400 invalid_field
activity '{"person":"five","customer":"acme","kind":"visit","at":"2026-12-30","instance":99}'; expect "an unknown instance is 400" 400 invalid_field
activity '{"person":"five","customer":"acme","kind":"visit","at":"2026-12-30"}' province-a-viewer; expect "a viewer may not record activities" 403 forbidden
activity '{"person":"cc1","customer":"north","kind":"visit","at":"2026-12-30"}' cc-ar; expect "North's ar records its own" 201
api GET "/v1/activities?person=five&from=2026-12-28&to=2027-01-03" province-a-viewer >/dev/null
check "activities of a person in a date range" [ "$(jq '[.activities[] | select(.kind == "visit")] | length' <"$WORK/body")" = 5 ]
api GET "/v1/activities?customer=acme&limit=2" province-a-viewer >/dev/null
check "pages by limit, next the last id" [ "$(jq -c '[(.activities | length), .next]' <"$WORK/body")" = '[2,2]' ]
api GET "/v1/activities?person=cc1" province-a-viewer >/dev/null
check "another office's activities are not listed" [ "$(jq '.activities | length' <"$WORK/body")" = 0 ]
api GET "/v1/activities?person=cc1" hq-viewer >/dev/null
check "hq lists them" [ "$(jq '.activities | length' <"$WORK/body")" = 1 ]
api GET "/v1/activities?from=2026-13-01" hq-viewer >/dev/null; expect "a malformed from is 400" 400 invalid_field

# A unit past the scorecard's cap (2,000 people, 2,000 customers): the first
# 2,000 of each by id are carded, and the answer says it is cut.
api PUT /v1/people/tmpl hq-admin '{"name":"T","office":"province-b","roles":["ar"]}' >/dev/null
sql "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000)
    INSERT INTO people(id, region, office, active, doc, updated_at, updated_by)
    SELECT 'bulk-' || x, region, office, active, replace(doc, '\"tmpl\"', '\"bulk-' || x || '\"'),
           updated_at, updated_by FROM people, n WHERE id = 'tmpl'"
card office/province-b 2026-W53 hq-viewer
check "2,001 people: 2,000 carded and truncated" [ "$(jq -c '[.truncated, (.people | length), .people[0].person]' <"$WORK/body")" = '[true,2000,"bulk-1"]' ]
card office/province-a 2026-W53
check "a unit within the cap is not truncated" [ "$(jq .truncated <"$WORK/body")" = false ]

stop_daemon
finish
