#!/bin/sh
# Rule tests and bound relations (issue 11, items 5 and 8): a version failing
# its own tests.lua is refused naming the test; hostile tests.lua files are
# refused cleanly; a triangle of 110% is refused naming file, fields and sum;
# --check-rules reports every error of a tree and the shipped tree's exact ok
# line; ltcctl rules test runs local bundles offline, with HQ from a directory
# or from the daemon, with and without --leads.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

has() { printf '%s\n' "$1" | grep -q -- "$2"; } # TEXT PATTERN (fixed strings: -F in callers)
hasf() { printf '%s\n' "$1" | grep -qF -- "$2"; }
emsg() { jq -r .error.message <"$WORK/body"; }
active_of() {
    api GET /v1/rules hq-viewer-token | jq -r --arg o "$1" '.owners[] | select(.owner == $o) | .active.version'
}
last_error() {
    api GET /v1/rules hq-viewer-token | jq -r --arg o "$1" '.owners[] | select(.owner == $o) | .last_error.message'
}
# test_lead OFFICE AMOUNT STATUS HORIZON SIGNALS: a lead body as Lua.
test_lead() {
    printf "{ office = '%s', customer = 'Test', title = 'T', source = 'sales', horizon_months = %s, budget = { amount = %s, status = '%s' }, signals = %s }" "$1" "$4" "$2" "$3" "$5"
}

# --- a version failing its own tests.lua --------------------------------------
SOUTH=$(active_of region/south)
cat >"$WORK/tests.lua" <<EOF
return {
    { name = "big deals are mature in the South",
      lead = $(test_lead province-a 60000000 approved 6 '{ strategic_fit = 4, urgency = 5 }'),
      expect = { maturity = "mature" } },
}
EOF
api PUT /v1/rules/region/south/tests.lua south-admin-token "$(cat "$WORK/tests.lua")" >/dev/null
expect "a tests.lua that passes is accepted" 201
SOUTH=$(jq -r .version <"$WORK/body")
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 65, warm = 35 }' >/dev/null
expect "thresholds that break the region's own test are refused" 422 rule_rejected
check "the refusal names the file, line and test, and what differed" \
    hasf "$(emsg)" 'regions/south/tests.lua:2: test "big deals are mature in the South": maturity: expected mature, got early'
check "the refusal names owner and version" has "$(emsg)" "^region/south v[0-9]*: "
check "the active version stays" [ "$(active_of region/south)" = "$SOUTH" ]
check "last_error names the test" hasf "$(last_error region/south)" 'test "big deals are mature in the South"'
# Thresholds and the test changed together (one bundle) go through.
jq -n --arg t "return { hot = 65, warm = 35 }" --arg x "$(sed 's/"mature" }/"early" }/' "$WORK/tests.lua")" \
    --arg a "$(cat "$WORK/rules/regions/south/actions.lua")" \
    '{files: {"thresholds.lua": $t, "tests.lua": $x, "actions.lua": $a}}' >"$WORK/bundle.json"
api POST /v1/rules/region/south/bundle south-admin-token "$(cat "$WORK/bundle.json")" >/dev/null
expect "thresholds with their test changed in the same version are accepted" 201
# An HQ change that breaks HQ's own tests (run with each region's rules) is refused.
HQ=$(active_of hq)
api PUT /v1/rules/hq/lead.lua hq-admin-token "$(sed 's/score = score + 10/score = score - 30/' "$WORK/rules/hq/lead.lua")" >/dev/null
expect "an HQ version failing hq/tests.lua is refused" 422 rule_rejected
check "it names HQ's test" hasf "$(emsg)" 'hq/tests.lua:26: test "a strong lead with an approved budget deciding soon converts": '
check "HQ's active version stays" [ "$(active_of hq)" = "$HQ" ]

# --- hostile tests.lua ---------------------------------------------------------
hostile() { # NAME SOURCE PATTERN [CODE]
    api PUT /v1/rules/region/north/tests.lua north-admin-token "$2" >/dev/null
    expect "hostile tests.lua ($1) is refused with 422" 422 "${4:-rule_rejected}"
    check "hostile tests.lua ($1): the message says why" hasf "$(emsg)" "$3"
}
hostile "a huge list" 'local t = {} for i = 1, 200 do t[i] = { name = "t" .. i, lead = {} } end return t' \
    'regions/north/tests.lua: 200 tests, more than the 100 a file may hold'
hostile "a list too big to convert" 'return function() local t = {} for i = 1, 20000 do t[i] = { name = string.rep("n", 60) .. i } end return t end' \
    'regions/north/tests.lua: output over the 65536-byte limit' rule_error
hostile "a lead that is not a lead" "return { { name = 'not a lead', lead = { office = 'city-c', budget = 'lots' } } }" \
    'test "not a lead": lead: budget: expected an object'
hostile "a lead of another region" "return { { name = 'elsewhere', lead = $(test_lead province-a 1 none 3 '{}') } }" \
    "test \"elsewhere\": lead.office: 'province-a' is not an office of region/north"
hostile "unknown expect keys" "return { { name = 'typo', lead = $(test_lead city-c 1 none 3 '{}'), expect = { temprature = 'hot' } } }" \
    "test \"typo\": expect: unknown key 'temprature'"
hostile "a test that loops" 'return function() while true do end end' 'budget' rule_budget
hostile "not a list" 'return { name = "one test" }' 'regions/north/tests.lua: must return a list of tests'
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null
expect "the daemon serves leads after the hostile tests" 201

# --- relations: the triangle must sum to 100 ------------------------------------
api PUT /v1/rules/region/south/share.lua south-admin-token 'return { platform = 15, triangle = { ar = 50, sr = 30, fr = 30 } }' >/dev/null
expect "a triangle of 50/30/30 is refused" 422 rule_rejected
check "the message names the file, the fields and their sum" \
    [ "$(emsg)" = 'regions/south/share.lua: triangle.ar + triangle.sr + triangle.fr = 110, must be 100' ]
check "details.field names the first field" [ "$(jq -r .error.details.field <"$WORK/body")" = triangle.ar ]
api PUT /v1/rules/region/south/share.lua south-admin-token 'return { triangle = { ar = 60 } }' >/dev/null
expect "a triangle completed by HQ's defaults is checked too" 422 rule_rejected
check "the message says which fields were HQ's" \
    hasf "$(emsg)" 'triangle.ar + triangle.sr (HQ default 30) + triangle.fr (HQ default 30) = 120, must be 100'
api PUT /v1/rules/region/south/share.lua south-admin-token 'return { platform = 15, triangle = { ar = 50, sr = 30, fr = 20 } }' >/dev/null
expect "a triangle of 50/30/20 is accepted" 201
bounds=$(sed 's/total = 100 }/total = 100, kind = "sum" }/' "$WORK/rules/hq/bounds.lua")
api PUT /v1/rules/hq/bounds.lua hq-admin-token "$bounds" >/dev/null
expect "a malformed relation rejects the HQ version" 422 rule_rejected
check "it says what is malformed" hasf "$(emsg)" "hq/bounds.lua: relations[1]: unknown key 'kind'"
bounds=$(sed 's/"share.triangle.fr" }/"share.triangle.rf" }/' "$WORK/rules/hq/bounds.lua")
api PUT /v1/rules/hq/bounds.lua hq-admin-token "$bounds" >/dev/null
expect "a relation naming no bounded value rejects the HQ version" 422 rule_rejected
check "it names the field" hasf "$(emsg)" "relations[1].sum[3]: 'share.triangle.rf' names no bounded value"

# --- --check-rules --------------------------------------------------------------
out=$("$LTCD" --check-rules --rules "$ROOT/rules" 2>&1); rc=$?
check "--check-rules on the shipped tree: exit 0" [ "$rc" = 0 ]
check "--check-rules on the shipped tree prints exactly the ok line" [ "$out" = "ok: 5 owners, 21 files, 30 tests" ]
cp -r "$ROOT/rules" "$WORK/broken"
printf 'return {\n  hot = \n' >"$WORK/broken/regions/north/thresholds.lua"
echo 'return { platform = 15, triangle = { ar = 50, sr = 30, fr = 30 } }' >"$WORK/broken/regions/south/share.lua"
sed -i 's/maturity = "early", recommendation = "nurture" },/maturity = "mature" },/' "$WORK/broken/regions/south/tests.lua"
echo 'return { defaults = { colour = "red" } }' >"$WORK/broken/offices/city-c/tools.lua"
"$LTCD" --check-rules --rules "$WORK/broken" >"$WORK/out" 2>"$WORK/err"; rc=$?
check "--check-rules on a broken tree: exit 1" [ "$rc" = 1 ]
check "no ok line when something is wrong" [ ! -s "$WORK/out" ]
check "the syntax error of one owner is reported" grep -q '^regions/north/thresholds.lua:3: ' "$WORK/err"
check "the broken relation of another is reported" grep -qF 'regions/south/share.lua: triangle.ar + triangle.sr + triangle.fr = 110, must be 100' "$WORK/err"
check "the office's error is reported" grep -q '^offices/city-c/tools.lua: defaults.colour' "$WORK/err"
cp "$ROOT/rules/regions/south/share.lua" "$WORK/broken/regions/south/share.lua"
"$LTCD" --check-rules --rules "$WORK/broken" >"$WORK/out" 2>"$WORK/err"; rc=$?
check "every failing test is reported, file:line and name" \
    [ "$(grep -c '^regions/south/tests.lua:[0-9]*: test "' "$WORK/err")" = 2 ]
check "each failing test says expected and got" grep -qF 'maturity: expected mature, got early' "$WORK/err"
check "every error, one a line, none dropped" [ "$(wc -l <"$WORK/err")" = 4 ]

# --- ltcctl rules test -----------------------------------------------------------
VERSIONS=$(api GET /v1/rules/region/south/versions hq-viewer-token | jq '.versions | length')
CTL() { LTC_URL=$URL LTC_TOKEN=south-admin-token "$LTCCTL" "$@"; }
CTL rules test "$ROOT/rules/regions/south" --hq "$ROOT/rules/hq" >"$WORK/out" 2>&1; rc=$?
check "rules test: a good bundle with --hq exits 0" [ "$rc" = 0 ]
check "rules test: each test's line, name and evaluation" \
    grep -qF 'ok   regions/south/tests.lua:41: test "a middling lead with a planned budget is warm, not hot" (score 48.2, warm, early, nurture)' "$WORK/out"
check "rules test: the summary" grep -qF 'tests: 9 passed, 0 failed (tests.lua: 8, HQ samples: 1)' "$WORK/out"
CTL rules test "$ROOT/examples/adaptation/regions/south" >"$WORK/out" 2>&1; rc=$?
[ "$rc" = 0 ] && grep -q "^HQ rules: hq v$HQ, active at $URL" "$WORK/out"; ok_if "rules test: HQ fetched from the daemon (no --hq)"
check "rules test: the tutorial's tests pass" grep -qF 'tests: 5 passed, 0 failed (tests.lua: 4, HQ samples: 1)' "$WORK/out"
printf '%s\n' "$LEAD" '' '{"office":"province-a","customer":"x"}' '{"office":"atlantis","customer":"x","title":"y","source":"sales","horizon_months":1,"budget":{"amount":1,"status":"none"}}' >"$WORK/leads.jsonl"
CTL rules test "$ROOT/examples/adaptation/regions/south" --hq "$ROOT/rules" --leads "$WORK/leads.jsonl" >"$WORK/out" 2>&1; rc=$?
check "rules test --leads: a lead that fails makes the exit 1" [ "$rc" = 1 ]
check "rules test --leads: each lead's evaluation" \
    grep -qF "lead $WORK/leads.jsonl:1: score 63.6, temperature hot, maturity mature, recommendation convert" "$WORK/out"
check "rules test --leads: each lead's error, by line" \
    grep -qF "lead $WORK/leads.jsonl:3: error: title: missing" "$WORK/out"
check "rules test --leads: an unknown office" grep -qF "lead $WORK/leads.jsonl:4: error: office: unknown office 'atlantis'" "$WORK/out"
check "rules test --leads: the summary" grep -qF 'leads: 1 evaluated, 2 failed' "$WORK/out"
printf '%s\n' "$LEAD" >"$WORK/good.jsonl"
CTL rules test "$ROOT/rules/regions/south" --leads "$WORK/good.jsonl" >"$WORK/out" 2>&1; rc=$?
[ "$rc" = 0 ] && grep -qF 'leads: 1 evaluated, 0 failed' "$WORK/out"; ok_if "rules test --leads: all good exits 0"
mkdir -p "$WORK/local/regions"; cp -r "$ROOT/rules/regions/south" "$WORK/local/regions/south"
sed -i 's/hot = 65,/hot = 80,/' "$WORK/local/regions/south/thresholds.lua"
cp "$WORK/broken/regions/south/tests.lua" "$WORK/local/regions/south/tests.lua"
CTL rules test "$WORK/local/regions/south" >"$WORK/out" 2>&1; rc=$?
check "rules test: a bundle failing its tests exits 1" [ "$rc" = 1 ]
check "rules test: the failing test, expected and got" \
    grep -qF 'FAIL regions/south/tests.lua:31: test "a 400,000 CNY budget is still early": maturity: expected mature, got early' "$WORK/out"
CTL rules test "$WORK/local/regions/south" --leads "$WORK/good.jsonl" >"$WORK/out" 2>&1; rc=$?
[ "$rc" = 1 ] && \
    grep -qF "lead $WORK/good.jsonl:1: score 63.6, temperature warm" "$WORK/out"; ok_if "rules test --leads on a failing bundle: exit 1, the lead still evaluated"
printf 'return { hot = \n' >"$WORK/local/regions/south/thresholds.lua"
CTL rules test "$WORK/local" --hq "$ROOT/rules/hq" >"$WORK/out" 2>&1; rc=$?
[ "$rc" = 1 ] && \
    grep -q '^error: regions/south/thresholds.lua:2: ' "$WORK/out"; ok_if "rules test: a bundle that does not compile exits 1 with file:line"
CTL --json rules test "$ROOT/rules" >"$WORK/out" 2>/dev/null; rc=$?
[ "$rc" = 0 ] && \
    [ "$(jq '[.tests[] | select(.sample | not)] | length' "$WORK/out")" = 30 ] && [ "$(jq .failed "$WORK/out")" = 0 ]; ok_if "rules test --json on the whole shipped tree"
LTC_URL=http://127.0.0.1:1 "$LTCCTL" rules test "$ROOT/rules/regions/south" >/dev/null 2>&1; rc=$?
check "rules test without --hq and no daemon: exit 3" [ "$rc" = 3 ]
CTL rules test "$WORK/nowhere" >/dev/null 2>&1; rc=$?
check "rules test on a missing directory: exit 2" [ "$rc" = 2 ]
check "rules test submitted nothing" [ "$(api GET /v1/rules/region/south/versions hq-viewer-token | jq '.versions | length')" = "$VERSIONS" ]

stop_daemon
finish
