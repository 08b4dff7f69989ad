#!/bin/sh
# 27-lead-scopes: every new endpoint of lead management against every role
# of every unit level (hq, region/south, office/province-a), allowed and
# refused: writes of people and customers (admins of the unit or above),
# review meetings and assign_owner (admin, reviewer), activities (all but
# viewers), and reads scoped like instances (own unit and below: 200 in
# scope; out of scope 404 for one record, 403 for a listing or a unit), and
# what each listing holds (another region's records only for hq).
. "$(dirname "$0")/lib.sh"
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
start_daemon --auto-approve || exit 1
ROLES="admin reviewer ar sr fr finance viewer"
UNITS="hq south province-a"
WEEK=2026-W53

# Fixtures: a person, customer, lead and meeting of province-a, and of city-c.
api PUT /v1/people/pa-p hq-admin '{"name":"P","office":"province-a","roles":["ar"]}' >/dev/null
api PUT /v1/people/cc-p hq-admin '{"name":"C","office":"city-c","roles":["ar"]}' >/dev/null
api PUT /v1/customers/pa-c hq-admin '{"name":"PC","office":"province-a"}' >/dev/null
api PUT /v1/customers/cc-c hq-admin '{"name":"CC","office":"city-c"}' >/dev/null
newlead() { api POST /v1/leads hq-admin "$(echo "$LEAD" | jq -c --arg o "$1" '.office = $o')" | jq .id; }
meet() { api POST /v1/reviews hq-admin "{\"unit\":\"office/$1\",\"held_at\":\"2026-12-02\",\"decisions\":[{\"instance\":$2,\"decision\":\"nurture\"}]}" | jq .id; }
PA_MEET=$(meet province-a "$(newlead province-a)")
CC_MEET=$(meet city-c "$(newlead city-c)")

# want UNIT ROLE RULE OK REFUSED: the status each principal must get under a rule.
want() {
    case "$3" in
    all) echo "$4" ;;
    hq-only) [ "$1" = hq ] && echo "$4" || echo "$5" ;;
    admins) [ "$2" = admin ] && echo "$4" || echo 403 ;;
    meeting) [ "$2" = admin ] || [ "$2" = reviewer ] && echo "$4" || echo 403 ;;
    writers) [ "$2" = viewer ] && echo 403 || echo "$4" ;;
    writers-hq-only) if [ "$2" = viewer ]; then echo 403; elif [ "$1" = hq ]; then echo "$4"; else echo "$5"; fi ;;
    admins-hq-only) [ "$2" = admin ] && [ "$1" = hq ] && echo "$4" || echo 403 ;;
    region-up) [ "$1" != province-a ] && echo "$4" || echo "$5" ;;
    esac
}
# row NAME RULE OK_STATUS REFUSED_STATUS METHOD PATH [BODY]: one line of the table
# (@N@ in PATH or BODY is the principal's name).
row() {
    _name=$1 _rule=$2 _ok=$3 _no=$4 _m=$5 _p=$6; shift 6
    for u in $UNITS; do
        for r in $ROLES; do
            _want=$(want "$u" "$r" "$_rule" "$_ok" "$_no")
            _body=$(echo "${1:-}" | sed "s/@N@/$u-$r/g")
            _path=$(echo "$_p" | sed "s/@N@/$u-$r/g")
            if [ -n "${1:-}" ]; then api "$_m" "$_path" "$u-$r" "$_body" >/dev/null; else api "$_m" "$_path" "$u-$r" >/dev/null; fi
            _got=$(status)
            if [ "$_got" = "$_want" ]; then ok "$_name: $u $r $_got"; else not_ok "$_name: $u $r" "got $_got, want $_want: $(head -c 200 "$WORK/body")"; fi
        done
    done
}

row "PUT a province-a person" admins 200 403 PUT /v1/people/pa-p '{"name":"P","office":"province-a","roles":["ar"]}'
row "PUT a province-a customer" admins 200 403 PUT /v1/customers/pa-c '{"name":"PC","office":"province-a"}'
row "PUT a city-c person" admins-hq-only 200 403 PUT /v1/people/cc-p '{"name":"C","office":"city-c","roles":["ar"]}'
row "PUT a city-c customer" admins-hq-only 200 403 PUT /v1/customers/cc-c '{"name":"CC","office":"city-c"}'
row "PUT a new city-c person" admins-hq-only 201 403 PUT /v1/people/cc-@N@ '{"name":"C","office":"city-c","roles":["fr"]}'
# Moving a person takes scope over the office it leaves: city-c's person, back in city-c each time.
for u in $UNITS; do for r in $ROLES; do
    api PUT /v1/people/cc-p hq-admin '{"name":"C","office":"city-c","roles":["ar"]}' >/dev/null
    api PUT /v1/people/cc-p "$u-$r" '{"name":"C","office":"province-a","roles":["ar"]}' >/dev/null
    w=$(want "$u" "$r" admins-hq-only 200) got=$(status)
    office=$(api GET /v1/people/cc-p hq-admin | jq -r .office)
    [ "$got" = "$w" ] && { [ "$w" = 200 ] || [ "$office" = city-c ]; } && ok "move a city-c person to province-a: $u $r $w" ||
        not_ok "move a city-c person to province-a: $u $r" "got $got, want $w; the person is in $office"
done; done
api PUT /v1/people/cc-p hq-admin '{"name":"C","office":"city-c","roles":["ar"]}' >/dev/null
row "GET a province-a person" all 200 - GET /v1/people/pa-p
row "GET a city-c person" hq-only 200 404 GET /v1/people/cc-p
row "GET people of province-a" all 200 - GET "/v1/people?office=province-a"
row "GET people of city-c" hq-only 200 403 GET "/v1/people?office=city-c"
row "GET a province-a customer" all 200 - GET /v1/customers/pa-c
row "GET a city-c customer" hq-only 200 404 GET /v1/customers/cc-c
row "GET customers of province-a" all 200 - GET "/v1/customers?office=province-a"
row "GET customers of city-c" hq-only 200 403 GET "/v1/customers?office=city-c"
row "GET south's review queue" region-up 200 403 GET "/v1/reviews/queue?unit=region/south&as_of=2026-12-02"
row "GET hq's review queue" hq-only 200 403 GET "/v1/reviews/queue?unit=hq&as_of=2026-12-02"
row "GET province-a's review queue" all 200 - GET "/v1/reviews/queue?unit=office/province-a&as_of=2026-12-02"
row "GET city-c's review queue" hq-only 200 403 GET "/v1/reviews/queue?unit=office/city-c&as_of=2026-12-02"
row "GET a province-a meeting" all 200 - GET "/v1/reviews/$PA_MEET"
row "GET a city-c meeting" hq-only 200 404 GET "/v1/reviews/$CC_MEET"
row "GET province-a's scorecard" all 200 - GET "/v1/scorecards?unit=office/province-a&week=$WEEK"
row "GET city-c's scorecard" hq-only 200 403 GET "/v1/scorecards?unit=office/city-c&week=$WEEK"
row "GET south's scorecard" region-up 200 403 GET "/v1/scorecards?unit=region/south&week=$WEEK"
row "GET activities" all 200 - GET /v1/activities
row "GET activities of city-c" hq-only 200 403 GET "/v1/activities?office=city-c"
# A person out of the principal's scope is no filter there: 400 naming it.
row "GET instances owned by a city-c person" hq-only 200 400 GET "/v1/instances?owner=cc-p"
row "POST an activity of province-a" writers 201 403 POST /v1/activities '{"person":"pa-p","customer":"pa-c","kind":"visit","at":"2026-12-30","note":"@N@"}'
row "POST an activity of city-c" writers-hq-only 201 400 POST /v1/activities '{"person":"cc-p","customer":"cc-c","kind":"visit","at":"2026-12-30"}'
# What the listings hold: city-c's records only for hq, never for south or province-a.
# sees NAME PATH JQ: JQ counts city-c's records in the answer.
sees() {
    for u in $UNITS; do for r in $ROLES; do
        api GET "$2" "$u-$r" >/dev/null
        n=$(jq "$3" <"$WORK/body")
        if [ "$u" = hq ]; then ok_=$([ "$(status)" = 200 ] && [ "$n" -gt 0 ] && echo y); else ok_=$([ "$(status)" = 200 ] && [ "$n" = 0 ] && echo y); fi
        [ -n "$ok_" ] && ok "$1: $u $r sees $n" || not_ok "$1: $u $r" "status $(status), $n of city-c's"
    done; done
}
sees "people listed" /v1/people '[.people[] | select(.office == "city-c")] | length'
sees "customers listed" /v1/customers '[.customers[] | select(.office == "city-c")] | length'
sees "activities listed" /v1/activities '[.activities[] | select(.office == "city-c")] | length'
sees "activities of a city-c person" "/v1/activities?person=cc-p" '.activities | length'
api GET "/v1/instances?owner=cc-p" hq-viewer >/dev/null
[ "$(status)" = 200 ] && [ "$(jq '.instances | length' <"$WORK/body")" -gt 0 ]
ok_if "hq lists the instances a city-c person owns"
# Another office's lead: not found below hq whatever the role; at hq, reviewers and admins.
CC_LEAD=$(newlead city-c)
for u in $UNITS; do for r in $ROLES; do
    api POST "/v1/instances/$CC_LEAD/actions" "$u-$r" '{"action":"assign_owner","owner":"cc-p"}' >/dev/null
    w=$(if [ "$u" != hq ]; then echo 404; elif [ "$r" = admin ] || [ "$r" = reviewer ]; then echo 200; else echo 403; fi)
    [ "$(status)" = "$w" ] && ok "assign_owner of a city-c lead: $u $r $w" || not_ok "assign_owner of a city-c lead: $u $r" "got $(status), want $w"
done; done

# Meetings and assign_owner need a fresh lead for each principal.
for u in $UNITS; do for r in $ROLES; do
    id=$(newlead province-a)
    api POST /v1/reviews "$u-$r" "{\"unit\":\"office/province-a\",\"held_at\":\"2026-12-02\",\"decisions\":[{\"instance\":$id,\"decision\":\"nurture\"}]}" >/dev/null
    w=$(want "$u" "$r" meeting 201)
    [ "$(status)" = "$w" ] && ok "POST a province-a meeting: $u $r $w" || not_ok "POST a province-a meeting: $u $r" "got $(status), want $w"
    api POST "/v1/instances/$id/actions" "$u-$r" '{"action":"assign_owner","owner":"pa-p"}' >/dev/null
    w=$(want "$u" "$r" meeting 200)
    [ "$(status)" = "$w" ] && ok "assign_owner: $u $r $w" || not_ok "assign_owner: $u $r" "got $(status), want $w"
    cid=$(newlead city-c)
    api POST /v1/reviews "$u-$r" "{\"unit\":\"office/city-c\",\"held_at\":\"2026-12-02\",\"decisions\":[{\"instance\":$cid,\"decision\":\"nurture\"}]}" >/dev/null
    w=$(if [ "$r" != admin ] && [ "$r" != reviewer ]; then echo 403; elif [ "$u" = hq ]; then echo 201; else echo 403; fi)
    [ "$(status)" = "$w" ] && ok "POST a city-c meeting: $u $r $w" || not_ok "POST a city-c meeting: $u $r" "got $(status), want $w"
    sid=$(newlead province-b)
    api POST /v1/reviews "$u-$r" "{\"unit\":\"region/south\",\"held_at\":\"2026-12-02\",\"decisions\":[{\"instance\":$sid,\"decision\":\"nurture\"}]}" >/dev/null
    w=$(if [ "$r" != admin ] && [ "$r" != reviewer ]; then echo 403; elif [ "$u" != province-a ]; then echo 201; else echo 403; fi)
    [ "$(status)" = "$w" ] && ok "POST a south meeting: $u $r $w" || not_ok "POST a south meeting: $u $r" "got $(status), want $w"
done; done

# Instance listings and lead creation out of scope, for every role: 403, never
# an empty page (a region filter beside an office principal's own office, an
# office of another region beside a region principal's) nor a field error
# about another office's defaults that the caller could not fix.
for r in $ROLES; do
    api GET "/v1/instances?region=north" "province-a-$r" >/dev/null
    expect "GET /v1/instances?region=north: province-a $r 403" 403 forbidden
    api GET "/v1/instances?region=south" "province-a-$r" >/dev/null
    expect "GET /v1/instances?region=south: province-a $r 200" 200
    api GET "/v1/instances?office=city-c" "south-$r" >/dev/null
    expect "GET /v1/instances?office=city-c: south $r 403" 403 forbidden
    api GET "/v1/instances?office=province-a" "south-$r" >/dev/null
    expect "GET /v1/instances?office=province-a: south $r 200" 200
    api POST /v1/leads "province-a-$r" '{"office":"city-c","customer":"X","title":"Y"}' >/dev/null
    expect "POST /v1/leads for city-c, body incomplete: province-a $r 403" 403 forbidden
    api POST /v1/leads "south-$r" '{"office":"city-c","customer":"X","title":"Y"}' >/dev/null
    expect "POST /v1/leads for city-c, body incomplete: south $r 403" 403 forbidden
done
api POST /v1/leads province-a-admin '{"office":"province-a","customer":"X","title":"Y"}' >/dev/null
expect "POST /v1/leads in scope, body incomplete: 400 naming the field" 400 invalid_field

stop_daemon
finish
