#!/bin/sh
# Acquire-and-share runs and targets: exact sums, hostile formulas rejected by
# name with nothing stored, reproducibility, scopes, roll-up consistency.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

act() { api POST "/v1/instances/$2/actions" "$1" "$3" >/dev/null; }
# flow OFFICE TOKEN VALUE MARGIN AR: a contract paid in full in 2026.
flow() {
    _id=$(api POST /v1/leads "$2" "$(echo "$LEAD" | jq -c --arg o "$1" '.office = $o')" | jq -r .id)
    act hq-admin-token "$_id" '{"action":"review","decision":"convert"}'
    act hq-admin-token "$_id" "{\"action\":\"assign\",\"ar\":\"$5\",\"sr\":\"Sun-$1\",\"fr\":\"Qian-$1\"}"
    for k in ATI ATB ATC; do act hq-admin-token "$_id" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":$3,\"discount\":5,\"margin\":$4}"; done
    act hq-admin-token "$_id" "{\"action\":\"sign\",\"value\":$3,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"2026-02-01\"}"
    for m in delivery acceptance invoice payment; do act hq-admin-token "$_id" "{\"action\":\"milestone\",\"kind\":\"$m\",\"amount\":$3,\"at\":\"2026-03-01\"}"; done
    echo "$_id"
}
A=$(flow province-a pa-ar-token 700000000 25 Li)
B=$(flow province-b pb-ar-token 300000000 40 Zhou)
C=$(flow city-c cc-admin-token 500000000 10 Wu)
check "three paid contracts" [ "$(sql "SELECT count(*) FROM ledger WHERE kind='cash'")" = 3 ]

sum_under() { # RUN-JSON PARENT: the sum of the amounts of the lines under PARENT
    echo "$1" | jq --arg p "$2" '[.lines[] | select(.parent == $p) | .amount] | add // 0'
}
exact() { # RUN-JSON: every parent's children sum exactly to the parent's amount
    echo "$1" | jq -e '
        (.lines | map({key: .unit, value: .amount}) | from_entries) as $amt
        | (.lines | group_by(.parent)
           | map({p: .[0].parent, s: (map(.amount) | add)})
           | all(.s == (if .p == "hq" then null else $amt[.p] end) // .s))' >/dev/null
}
for pool in 1000003 1 9007199254740991 0; do
    run=$(api POST /v1/shares/runs hq-admin-token "{\"period\":\"2026\",\"pool\":$pool}")
    expect "allocation of $pool fen: 201" 201
    check "pool $pool: the regions sum exactly to the pool" [ "$(sum_under "$run" hq)" = "$pool" ]
    check "pool $pool: every level sums exactly to its parent" exact "$run"
    check "pool $pool: no negative part" [ "$(echo "$run" | jq '[.lines[].amount | select(. < 0)] | length')" = 0 ]
done
run=$(api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}')
ID=$(echo "$run" | jq .id)
check "more contribution never gets less (regions)" [ "$(echo "$run" | jq '[.lines[] | select(.level == "region")] | sort_by(.contribution) | [.[].amount] | . == sort')" = true ]
check "contribution is cash x margin (province-a: 175,000,000)" [ "$(echo "$run" | jq '.lines[] | select(.unit == "office/province-a") | .contribution')" = 175000000 ]
check "the platform share of South is 15% of its part" [ "$(echo "$run" | jq '(.lines[] | select(.unit == "region/south") | .amount) as $r | (.lines[] | select(.unit == "platform/south") | .amount) == (($r * 15 / 100) | floor)')" = true ]
check "people are lines under their project" [ "$(echo "$run" | jq -r --arg p "project/$A" '[.lines[] | select(.parent == $p) | .unit] | sort | join(",")')" = "person/Li,person/Qian-province-a,person/Sun-province-a" ]
check "a project line traces to its instance and records" [ "$(echo "$run" | jq -c --arg p "project/$C" '.lines[] | select(.unit == $p) | .inputs | [.instance, .records, .cash]')" = "[$C,1,500000000]" ]
check "the run names the rule versions used" [ "$(echo "$run" | jq -c .rules)" = '{"hq":1,"region/north":1,"region/south":1}' ]
again=$(api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}')
check "same inputs and versions: same input hash" [ "$(echo "$again" | jq -r .input_hash)" = "$(echo "$run" | jq -r .input_hash)" ]
check "... and the same lines" [ "$(echo "$again" | jq -c .lines)" = "$(echo "$run" | jq -c .lines)" ]
got=$(api GET "/v1/shares/runs/$ID" hq-viewer-token)
check "GET returns the stored run" [ "$(echo "$got" | jq -c .)" = "$(echo "$run" | jq -c .)" ]
got=$(api GET "/v1/shares/runs/$ID" south-admin-token)
[ "$(echo "$got" | jq -r '[.lines[].unit | select(startswith("region/north") or startswith("office/city"))] | length')" = 0 ] && [ "$(echo "$got" | jq '.lines | length')" -gt 3 ]; ok_if "a region sees only its subtree"
empty=$(api POST /v1/shares/runs hq-admin-token '{"period":"2025","pool":1000}')
check "a period without cash still splits exactly" [ "$(sum_under "$empty" hq)" = 1000 ]

api POST /v1/shares/runs south-admin-token '{"period":"2026","pool":1}' >/dev/null; expect "a region may not run allocations" 403 forbidden
api POST /v1/shares/runs hq-admin-token '{"period":"26","pool":1}' >/dev/null; expect "bad period" 400 invalid_field
api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":-1}' >/dev/null; expect "negative pool" 400 invalid_field
api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1.5}' >/dev/null; expect "non-integer pool" 400 invalid_field
api GET /v1/shares/runs/9999 hq-admin-token >/dev/null; expect "unknown run" 404 not_found

# Hostile or buggy HQ formulas: each run fails naming the invariant; nothing stored.
GOOD=$(cat "$WORK/rules/hq/share.lua")
hostile() { # NAME INVARIANT-OR-CODE LUA
    api PUT /v1/rules/hq/share.lua hq-admin-token "$3" >/dev/null
    if [ "$(status)" != 201 ]; then not_ok "$1: upload" "$(status) $(cat "$WORK/body")"; return; fi
    n=$(sql 'SELECT count(*) FROM share_runs')
    api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}' >/dev/null
    got=$(jq -r '.error.details.invariant // .error.code' <"$WORK/body")
    if [ "$(status)" = 422 ] && [ "$got" = "$2" ] && [ "$(sql 'SELECT count(*) FROM share_runs')" = "$n" ]; then
        ok "$1 is refused ($2) and nothing is stored"
    else
        not_ok "$1 is refused ($2)" "$(status) $(head -c 300 "$WORK/body")"
    fi
}
# A fair base (by contribution) that each case then breaks in one way.
EQUAL='local function split(level, groups) local out = {} for g, grp in ipairs(groups) do local w = {} for i, u in ipairs(grp.units) do w[i] = u.contribution end local a = host.split(grp.total, w) out[g] = {} for i, u in ipairs(grp.units) do out[g][u.key] = a[i] end'
hostile "a negative part" negative "$EQUAL if level == 'region' then local k1, k2 = grp.units[1].key, grp.units[2].key out[g][k1] = out[g][k1] + 5 out[g][k2] = out[g][k2] - 5 - grp.total end end return out end return { split = split }"
hostile "a sum off by one" sum "$EQUAL if level == 'region' then local k = grp.units[1].key out[g][k] = out[g][k] + 1 end end return out end return { split = split }"
hostile "NaN" rule_output "$EQUAL if level == 'project' then out[g][grp.units[1].key] = 0/0 end end return out end return { split = split }"
hostile "an overflowing part" overflow "$EQUAL if level == 'person' then out[g][grp.units[1].key] = math.maxinteger end end return out end return { split = split }"
hostile "a fractional part" integer "$EQUAL if level == 'office' then out[g].platform = out[g].platform + 0.5 end end return out end return { split = split }"
hostile "an unfair ordering" ordering "local function split(level, groups) local out = {} for g, grp in ipairs(groups) do local w = {} for i, u in ipairs(grp.units) do w[i] = 1 / (u.contribution + 1) end local a = host.split(grp.total, w) out[g] = {} for i, u in ipairs(grp.units) do out[g][u.key] = a[i] end end return out end return { split = split }"
hostile "a unit left out" units "$EQUAL out[g][grp.units[1].key] = nil end return out end return { split = split }"
hostile "a formula that never ends" rule_budget "return { split = function() while true do end end }"
api PUT /v1/rules/hq/share.lua hq-admin-token "$GOOD" >/dev/null; expect "the good formula back" 201
api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}' >/dev/null; expect "runs work again" 201

# --- targets ------------------------------------------------------------------------
api PUT /v1/targets/hq/2026 hq-admin-token '{"metric":"cash","amount":2000000000}' >/dev/null; expect "HQ sets its target" 200
api PUT /v1/targets/region/south/2026 hq-admin-token '{"metric":"cash","amount":1200000000}' >/dev/null; expect "HQ sets a region's" 200
api PUT /v1/targets/office/province-a/2026 south-admin-token '{"metric":"cash","amount":800000000}' >/dev/null; expect "a region sets its office's" 200
api PUT /v1/targets/office/city-c/2026 south-admin-token '{"metric":"cash","amount":1}' >/dev/null; expect "but not another region's office" 403 forbidden
api PUT /v1/targets/region/south/2026 south-admin-token '{"metric":"cash","amount":1}' >/dev/null; expect "nor its own target" 403 forbidden
api PUT /v1/targets/office/atlantis/2026 hq-admin-token '{"metric":"cash","amount":1}' >/dev/null; expect "an unknown unit" 404 not_found
api PUT /v1/targets/hq/2026 hq-admin-token '{"metric":"profit","amount":1}' >/dev/null; expect "an unknown metric" 400 invalid_field
api PUT /v1/targets/hq/2026 hq-admin-token '{"metric":"cash","amount":-1}' >/dev/null; expect "a negative target" 400 invalid_field
tree=$(api GET "/v1/targets?period=2026&metric=cash" hq-viewer-token); expect "the roll-up" 200
check "HQ actual is all cash collected" [ "$(echo "$tree" | jq .actual)" = 1500000000 ]
check "completion is actual / target" [ "$(echo "$tree" | jq .completion)" = 0.75 ]
check "province-a: 700,000,000 of 800,000,000" [ "$(echo "$tree" | jq -c '.children[] | .children[] | select(.unit == "office/province-a") | [.target, .actual]')" = "[800000000,700000000]" ]
check "orders count signed value" [ "$(api GET "/v1/targets?period=2026&metric=orders" hq-viewer-token | jq .actual)" = 1500000000 ]
rolls() { jq -e 'def ok: (.children // []) as $c | (($c | length) == 0 or .actual == ([$c[].actual] | add)) and all($c[]; ok); ok' >/dev/null; }
check "every parent's actual is the sum of its children's" sh -c "echo '$tree' | $(command -v jq) -e 'def ok: (.children // []) as \$c | ((\$c | length) == 0 or .actual == ([\$c[].actual] | add)) and all(\$c[]; ok); ok' >/dev/null"
sub=$(api GET "/v1/targets?period=2026&metric=cash" south-reviewer-token)
check "a region sees its own subtree" [ "$(echo "$sub" | jq -r '.unit + "," + (.children | length | tostring)')" = "region/south,2" ]
api GET "/v1/targets?period=soon&metric=cash" hq-viewer-token >/dev/null; expect "a bad period" 400 invalid_field

# Roll-up consistency while instances are written concurrently.
( for i in 1 2 3 4 5 6; do flow city-d hq-admin-token 100000000 20 Ma >/dev/null; done ) &
W=$!
bad=0; n=0
while kill -0 $W 2>/dev/null; do
    curl -s -H 'Authorization: Bearer hq-viewer-token' "$URL/v1/targets?period=2026&metric=cash" | rolls || bad=$((bad + 1))
    n=$((n + 1))
done
wait $W
[ $bad = 0 ] && [ $n -gt 3 ]; ok_if "the roll-up stayed consistent over $n reads during writes"
check "and includes the new cash" [ "$(api GET "/v1/targets?period=2026&metric=cash" hq-viewer-token | jq .actual)" = 2100000000 ]
stop_daemon
finish
