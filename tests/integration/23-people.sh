#!/bin/sh
# 23-people: people and customers as data (CONTRACT 8.3): registry, listing
# with ?office=, deactivation, moving between offices, the tokens file's
# person column and the person in instance events, and a registered
# customer's credit_limit in the credit KCP.
. "$(dirname "$0")/lib.sh"
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
start_daemon --auto-approve || exit 1

person() { printf '{"name":"%s","office":"%s","roles":%s}' "$2" "$3" "$4" | { read -r b; api PUT "/v1/people/$1" "$5" "$b"; }; }

person ann "Ann Li" province-a '["ar"]' province-a-admin >/dev/null; expect "an office admin registers a person of its office" 201
check "the person reads back with its region" [ "$(jq -c '[.id,.office,.region,.active,.roles]' <"$WORK/body")" = '["ann","province-a","south",true,["ar"]]' ]
person ann "Ann Li" province-a '["ar","lead_manager"]' province-a-admin >/dev/null; expect "a second PUT replaces it (200)" 200
person bob "Bob" province-b '["ar"]' province-a-admin >/dev/null; expect "an office admin may not register people of another office" 403 forbidden
person bob "Bob" province-b '["ar"]' south-admin >/dev/null; expect "a region admin registers people of its offices" 201
person cc1 "Chen" city-c '["ar"]' south-admin >/dev/null; expect "a region admin may not register another region's people" 403 forbidden
person cc1 "Chen" city-c '["ar"]' hq-admin >/dev/null; expect "an hq admin registers anyone" 201
person zed "Zed" province-a '["ar"]' province-a-ar >/dev/null; expect "an ar may not register people" 403 forbidden
person zed "Zed" nowhere '["ar"]' hq-admin >/dev/null; expect "an unknown office is 400" 400 invalid_field
person zed "Zed" province-a '["boss"]' hq-admin >/dev/null; expect "an unknown role is 400" 400 invalid_field
api PUT /v1/people/Bad%20Id province-a-admin '{"name":"x","office":"province-a","roles":[]}' >/dev/null; expect "a malformed id is 400" 400 invalid_field
api PUT /v1/people/zed province-a-admin '{"name":"x","office":"province-a","roles":[],"salary":1}' >/dev/null; expect "an unknown field is 400" 400 invalid_field
api PUT /v1/people/zed province-a-admin '{"name":"x"' >/dev/null; expect "malformed JSON is 400" 400 invalid_json
check "refused PUTs stored nothing" [ "$(sql 'SELECT count(*) FROM people')" = 3 ]

api GET /v1/people province-a-viewer >/dev/null; expect "an office viewer lists its office" 200
check "... and sees only its office" [ "$(jq -c '[.people[].id]' <"$WORK/body")" = '["ann"]' ]
api GET /v1/people south-viewer >/dev/null
check "a region sees its offices' people" [ "$(jq -c '[.people[].id]' <"$WORK/body")" = '["ann","bob"]' ]
api GET "/v1/people?office=province-b" south-viewer >/dev/null
check "?office= filters" [ "$(jq -c '[.people[].id]' <"$WORK/body")" = '["bob"]' ]
api GET "/v1/people?office=province-b" province-a-admin >/dev/null; expect "?office= of another office is 403" 403 forbidden
api GET "/v1/people?office=city-c" south-admin >/dev/null; expect "?office= of another region is 403" 403 forbidden
api GET /v1/people hq-viewer >/dev/null
check "hq sees everyone" [ "$(jq '.people | length' <"$WORK/body")" = 3 ]
api GET /v1/people/cc1 south-admin >/dev/null; expect "a person out of scope is 404" 404 not_found
api GET /v1/people/cc1 north-admin >/dev/null; expect "... and visible to its region" 200

# Moving a person needs scope over the office it leaves.
person bob "Bob" province-a '["ar"]' province-a-admin >/dev/null; expect "an office admin may not take a person from another office" 403 forbidden
person cc1 "Chen" province-a '["ar"]' south-admin >/dev/null; expect "a region admin may not take another region's person" 403 forbidden
api PUT /v1/people/bob province-a-admin '{"name":"Bob","office":"province-b","roles":["ar"],"active":false}' >/dev/null; expect "an office admin may not deactivate another office's person" 403 forbidden
api PUT /v1/people/bob south-admin '{"name":"Bob","office":"province-b","roles":["ar"],"active":false}' >/dev/null; expect "deactivation: active false" 200
api GET /v1/people/bob south-viewer >/dev/null
check "the person stays, inactive" [ "$(jq .active <"$WORK/body")" = false ]

# Customers.
api PUT /v1/customers/acme province-a-admin '{"name":"ACME Telecom","office":"province-a","segment":"carrier","credit_limit":50000000}' >/dev/null; expect "an office admin registers a customer" 201
api PUT /v1/customers/grid south-admin '{"name":"Grid","office":"province-b"}' >/dev/null; expect "a customer without credit_limit" 201
api PUT /v1/customers/acme2 province-a-admin '{"name":"A","office":"province-a","credit_limit":-5}' >/dev/null; expect "a negative credit limit is 400" 400 invalid_field
api PUT /v1/customers/nc province-a-admin '{"name":"N","office":"city-c"}' >/dev/null; expect "customers of another office: 403" 403 forbidden
api PUT /v1/customers/nc province-a-viewer '{"name":"N","office":"province-a"}' >/dev/null; expect "a viewer may not register customers" 403 forbidden
api GET "/v1/customers?office=province-a" province-a-ar >/dev/null
check "customers list by office" [ "$(jq -c '[.customers[] | [.id, .credit_limit]]' <"$WORK/body")" = '[["acme",50000000]]' ]
api GET /v1/customers/grid province-a-ar >/dev/null; expect "another office's customer is 404" 404 not_found

# The person column of the tokens file is recorded beside the actor.
api POST /v1/leads province-a-ar "$(echo "$LEAD" | jq -c '.customer = "acme"')" >/dev/null; expect "a lead naming a registered customer" 201
ID=$(jq .id <"$WORK/body")
api GET "/v1/instances/$ID/events" province-a-ar >/dev/null
check "the event records actor and person" [ "$(jq -c '.events[0] | [.actor, .person]' <"$WORK/body")" = '["office/province-a:ar","pa-ar"]' ]
api POST /v1/leads south-admin "$LEAD" >/dev/null
ID2=$(jq .id <"$WORK/body")
api GET "/v1/instances/$ID2/events" south-admin >/dev/null
check "a principal without a person column: person null" [ "$(jq -c '.events[0] | [.actor, .person]' <"$WORK/body")" = '["region/south:admin",null]' ]

# Credit KCP: the registered customer's 500,000.00 limit, not HQ's 200,000,000.00.
act() { api POST "/v1/instances/$1/actions" hq-admin "$2"; }
for id in $ID $ID2; do
    act "$id" '{"action":"review","decision":"convert"}' >/dev/null
    act "$id" '{"action":"assign","ar":"ann","sr":"s","fr":"f"}' >/dev/null
    act "$id" '{"action":"decide","kdp":"ATI","outcome":"approve","value":60000000,"margin":30}' >/dev/null
    act "$id" '{"action":"decide","kdp":"ATB","outcome":"approve","value":60000000,"margin":30}' >/dev/null
done
act "$ID" '{"action":"decide","kdp":"ATC","outcome":"approve","value":60000000,"margin":30}' >/dev/null
expect "ATC over the registered customer's credit limit: KCP" 422 kcp_failed
check "... naming credit_limit" [ "$(jq -r .error.details.kcp <"$WORK/body")" = credit_limit ]
act "$ID2" '{"action":"decide","kdp":"ATC","outcome":"approve","value":60000000,"margin":30}' >/dev/null
expect "an unregistered customer keeps HQ's default limit" 200
act "$ID" '{"action":"decide","kdp":"ATC","outcome":"approve","value":40000000,"margin":30}' >/dev/null
expect "within the registered limit" 200
api PUT /v1/customers/acme province-a-admin '{"name":"ACME Telecom","office":"province-a","credit_limit":100000000}' >/dev/null
expect "raising the limit" 200

stop_daemon
finish
