#!/bin/sh
# 42-ltcctl-pipeline: ltcctl's verbs of strategy to numbers (CONTRACT 8.4) as
# a user runs them against a real daemon seeded through the API: `pipeline`
# (the tree as an indented table, every printed figure checked against the
# API's JSON and the customer figures against values computed here from what
# the suite created), `metrics` (process order, each figure with its counts,
# a bounded wait on a daemon that does not answer), `migrate` (a dry run by
# default that changes nothing, --apply that moves exactly what the dry run
# listed, refusals with their reasons, exit codes 0 / 4 / 1), strict options
# refused before anything is sent (exit 2).
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

# run TOKEN ARGS...: ltcctl's stdout in $WORK/out, stderr in $WORK/err, exit code in $RC.
run() {
    _tok=$1; shift
    LTC_URL=${RUN_URL:-$URL} LTC_TOKEN=$_tok "$LTCCTL" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
}
out_has() { grep -q -- "$1" "$WORK/out"; }
err_has() { grep -q -- "$1" "$WORK/err"; }
act() { api POST "/v1/instances/$2/actions" "$1" "$3" >/dev/null; }
lead() { # OFFICE CUSTOMER TITLE [SOURCE]: a new lead's id
    api POST /v1/leads hq-admin-token "$(echo "$LEAD" | jq -c --arg o "$1" --arg c "$2" --arg t "$3" \
        --arg s "${4:-sales}" '.office = $o | .customer = $c | .title = $t | .source = $s')" | jq -r .id
}
gates() { # ID VALUE AT KDP...: assign the team, approve each gate
    _id=$1 _v=$2 _at=$3; shift 3
    act hq-admin-token "$_id" '{"action":"assign","ar":"Li","sr":"Sun","fr":"Qian"}'
    for _k in "$@"; do
        act hq-admin-token "$_id" "{\"action\":\"decide\",\"kdp\":\"$_k\",\"outcome\":\"approve\",\"value\":$_v,\"discount\":5,\"margin\":25,\"at\":\"$_at\"}"
    done
}
signed() { # ID VALUE SIGN INVOICE: from opportunity to an invoiced contract
    gates "$1" "$2" "$3" ATI ATB ATC
    act hq-admin-token "$1" "{\"action\":\"sign\",\"value\":$2,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"$3\"}"
    for _m in delivery acceptance invoice; do
        act hq-admin-token "$1" "{\"action\":\"milestone\",\"kind\":\"$_m\",\"amount\":$2,\"at\":\"$4\"}"
    done
}
# Money as the house prints it, computed here: fen -> "1,234,567.89 CNY".
fmt() {
    awk -v v="$1" 'BEGIN { n = v < 0; if (n) v = -v; y = sprintf("%d", int(v / 100)); f = v % 100; o = "";
        while (length(y) > 3) { o = "," substr(y, length(y) - 2) o; y = substr(y, 1, length(y) - 3) }
        printf "%s%s%s.%02d CNY\n", n ? "-" : "", y, o, f }'
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%\n", a * 100 / b }'; } # NUM DEN
weighted() { echo $(( ($1 * $2 + 50) / 100 )); } # VALUE PERCENT: the documented rounding
days() { echo $(( ($(date -u -d "$2" +%s) - $(date -u -d "$1" +%s)) / 86400 )); }
# The printed table as tab-separated cells (columns are 2+ spaces apart;
# money has one space), indentation dropped.
cells() { sed -E 's/^ +//; s/ {2,}/\t/g' "$WORK/out"; }
row() { cells | awk -F'\t' -v u="$1" '$1 == u'; } # UNIT: its printed row
col() { row "$1" | cut -f"$2"; }                 # UNIT N: its Nth cell

# --- help lists the verbs and every option; bad options are refused unsent ------
run hq-admin-token help
for verb in "pipeline \[--unit U\]" "metrics \[--unit U\]" "migrate --to VERSION"; do
    out_has "^  $verb"; ok_if "ltcctl help lists '$verb'"
done
out_has "4 done in part"; ok_if "help documents exit code 4"
run hq-admin-token pipeline --help
[ $RC = 0 ] && out_has "--unit U .*customer/ID" && out_has "--period P" && out_has "--metric orders" &&
    out_has "--depth N" && out_has "--json"
ok_if "pipeline --help lists every option"
run hq-admin-token metrics --help
[ $RC = 0 ] && out_has "--wait SECONDS" && out_has "--period P" && out_has "--unit U"; ok_if "metrics --help lists every option"
run hq-admin-token migrate --help
[ $RC = 0 ] && out_has "--to VERSION" && out_has "--dry-run" && out_has "--apply" && out_has "--stage S" &&
    out_has "Exit 0 when every" && out_has "4 when some are refused"
ok_if "migrate --help lists every option and its exit codes"

# Pointed at a port where nothing listens: exit 2, not 3, shows nothing was sent.
RUN_URL=http://127.0.0.1:9
bad() { # WHAT MESSAGE ARGS...
    _what=$1 _msg=$2; shift 2
    run hq-admin-token "$@"
    [ $RC = 2 ] && err_has "$_msg"; ok_if "$_what (exit 2, nothing sent)"
}
bad "a month 13 is refused" "--period: '2026-13' is not a period: expected a year YYYY, a quarter YYYY-Qn" pipeline --period 2026-13
bad "a quarter 5 is refused" "--period: '2026-Q5' is not a period" pipeline --period 2026-Q5
bad "a date is not a period" "--period: '2026-03-01' is not a period" metrics --period 2026-03-01
bad "a year outside 1900..9998 is refused" "--period: '9999' is not a period" pipeline --period 9999
bad "a unit of another kind is refused" "--unit: 'person/x' is not a unit: expected hq, region/ID, office/ID or customer/ID" pipeline --unit person/x
bad "a customer id with capitals is refused" "--unit: 'customer/Acme' is not a unit" pipeline --unit customer/Acme
bad "metrics take no customer" "--unit: 'customer/acme' is not a unit: expected hq, region/ID or office/ID" metrics --unit customer/acme
bad "a depth of 4 is refused" "--depth: '4' is not accepted: expected a whole number from 0 to 3" pipeline --depth 4
bad "a negative depth is refused" "--depth: '-1' is not accepted" pipeline --depth -1
bad "the pipeline has no cash metric" "--metric: 'cash' is not accepted: the pipeline is of orders" pipeline --metric cash
bad "a wait of 0 is refused" "--wait: '0' is not accepted: expected a whole number from 1 to 3600" metrics --wait 0
bad "a wait of 1.5 is refused" "--wait: '1.5' is not accepted" metrics --wait 1.5
bad "a period given twice is refused" "--period given twice" metrics --period 2026 --period 2027
bad "an unknown option is refused, listing the verb's" "unknown option --colour; its options: --unit U, --period P, --metric orders, --depth N" pipeline --colour red
bad "migrate needs --to" "missing --to VERSION" migrate
bad "a version 0 is refused" "--to: '0' is not accepted: expected a whole number from 1 to 1000000000" migrate --to 0
bad "a version 2x is refused" "--to: '2x' is not accepted" migrate --to 2x
bad "--apply with --dry-run is refused" "--apply and --dry-run both given" migrate --to 2 --apply --dry-run
bad "closed instances are not migrated" "--stage: closed instances are not migrated" migrate --to 2 --stage closed
bad "a malformed stage is refused" "--stage: 'Lead' is not an id" migrate --to 2 --stage Lead
bad "a malformed migrate unit is refused" "--unit: 'office/' is not a unit" migrate --to 2 --unit office/
bad "no positional words" "unexpected '2026'" pipeline 2026
run hq-admin-token pipeline --period 2026
[ $RC = 3 ] && err_has "cannot reach ltcd at http://127.0.0.1:9"; ok_if "a good command to nowhere is exit 3"
unset RUN_URL

# --- the pipeline: seeded as suite 39 does, figures computed here ------------------
for c in acme:province-a bolt:province-a; do
    api PUT "/v1/customers/${c%%:*}" hq-admin-token \
        "{\"name\":\"${c%%:*}\",\"office\":\"${c#*:}\",\"segment\":\"telco\",\"credit_limit\":100000000000}" >/dev/null
done
api PUT /v1/targets/customer/acme/2026 hq-admin-token '{"metric":"orders","amount":1000000000}' >/dev/null
api PUT /v1/targets/office/province-a/2026 hq-admin-token '{"metric":"orders","amount":3000000000}' >/dev/null
expect "targets set through the API" 200
contract() { # OFFICE CUSTOMER VALUE: signed on 2026-02-01
    _id=$(lead "$1" "$2" "Contract for $2")
    act hq-admin-token "$_id" '{"action":"review","decision":"convert","at":"2026-01-10"}'
    gates "$_id" "$3" 2026-01-20 ATI ATB ATC
    act hq-admin-token "$_id" "{\"action\":\"sign\",\"value\":$3,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"2026-02-01\"}"
}
contract province-a acme 700000000 >/dev/null
contract province-a "Walk-in Port" 300000000 >/dev/null
L1=$(lead province-a acme "Lead with a date")
act pa-ar-token "$L1" '{"action":"update","expected_close":"2026-06-15","value":200000000}'
O1=$(lead province-a bolt "Opportunity, no gate")
act hq-admin-token "$O1" '{"action":"review","decision":"convert","at":"2026-03-01"}'
act pa-ar-token "$O1" '{"action":"update","expected_close":"2026-09-01","value":333333335}'
O2=$(lead province-a acme "Bid approved")
act hq-admin-token "$O2" '{"action":"review","decision":"convert","at":"2026-03-01"}'
gates "$O2" 500000000 2026-03-10 ATI ATB
act pa-ar-token "$O2" '{"action":"update","expected_close":"2026-11-30","value":500000000}'
O4=$(lead province-a "Walk-in Port" "Rejected bid")
act hq-admin-token "$O4" '{"action":"review","decision":"convert","at":"2026-03-01"}'
act hq-admin-token "$O4" '{"action":"decide","kdp":"ATI","outcome":"reject","value":100000000,"discount":0,"margin":30}'
act pa-ar-token "$O4" '{"action":"update","expected_close":"2026-04-01","value":100000000}'
# HQ's defaults: lead 5%, opportunity 10%; South's forecast.lua: ATB 60%.
WL1=$(weighted 200000000 5); WO1=$(weighted 333333335 10); WO2=$(weighted 500000000 60)
AW=$((WL1 + WO2)); AWON=700000000; AT=1000000000

run pa-ar-token pipeline --unit office/province-a --period 2026
[ $RC = 0 ] && out_has "^pipeline of office/province-a for 2026 (orders"; ok_if "pipeline prints the office's tree"
api GET "/v1/pipeline?period=2026&unit=office/province-a" pa-ar-token >"$WORK/p.json"
cells | sed -n 2p | grep -q "^UNIT	TARGET	WON	OPEN	WEIGHTED	COVERAGE	GAP	C/B/P/O$"; ok_if "the columns: unit, target, won, open, weighted, coverage, gap, categories"
[ "$(col customer/acme 2)" = "$(fmt $AT)" ] && [ "$(col customer/acme 2)" = "10,000,000.00 CNY" ] &&
    [ "$(col customer/acme 3)" = "$(fmt $AWON)" ] && [ "$(col customer/acme 4)" = "$(fmt $((200000000 + 500000000)))" ] &&
    [ "$(col customer/acme 5)" = "$(fmt $AW)" ]
ok_if "a customer's target, won, open and weighted as computed here, in the house money form"
[ "$(col customer/acme 6)" = "$(pct $((AWON + AW)) $AT)" ] && [ "$(col customer/acme 7)" = "$(fmt $((AT - AWON - AW)))" ] &&
    [ "$(col customer/acme 7)" = "-100,000.00 CNY" ]
ok_if "its coverage as a percent and its gap (negative: covered beyond the target)"
[ "$(col customer/acme 8)" = "0/1/1/0" ] && [ "$(col customer/bolt 8)" = "0/0/1/0" ] &&
    [ "$(col office/province-a/unregistered 8)" = "0/0/0/1" ]
ok_if "forecast categories: a best case after ATB, a pipeline lead, a rejected bid omitted"
[ "$(col customer/bolt 2)" = - ] && [ "$(col customer/bolt 6)" = - ] && [ "$(col customer/bolt 7)" = - ] &&
    [ "$(col customer/bolt 5)" = "$(fmt "$WO1")" ]
ok_if "no target: target, coverage and gap are '-'"
OW=$((WL1 + WO1 + WO2))
[ "$(col office/province-a 6)" = "$(pct $((1000000000 + OW)) 3000000000)" ] &&
    [ "$(col office/province-a 7)" = "$(fmt $((3000000000 - 1000000000 - OW)))" ]
ok_if "the office's coverage and gap of its own target"
grep -q '^  customer/acme ' "$WORK/out" && grep -q '^  office/province-a/unregistered ' "$WORK/out" &&
    grep -q '^office/province-a ' "$WORK/out"
ok_if "customers and the remainder are indented under their office"
# Every node of the API's tree is one printed row with the API's figures.
jq -r '.. | objects | select(has("unit") and has("by_category"))
    | [.unit, .target, .won, .open, .weighted, .coverage, .gap,
       ([.by_category.commit.count, .by_category.best_case.count, .by_category.pipeline.count,
         .by_category.omitted.count] | map(tostring) | join("/"))]
    | map(if . == null then "null" else tostring end) | join("|")' "$WORK/p.json" |
    while IFS='|' read -r u t w o g c gap cat; do
        m() { if [ "$1" = null ]; then echo -; else fmt "$1"; fi; }
        cv=-; [ "$c" != null ] && cv=$(awk -v c="$c" 'BEGIN { printf "%.1f%%\n", c * 100 }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$u" "$(m "$t")" "$(m "$w")" "$(m "$o")" "$(m "$g")" "$cv" "$(m "$gap")" "$cat"
    done >"$WORK/want.tsv"
cells | tail -n +3 | sed -n '/^coverage = /q;p' >"$WORK/got.tsv"
[ "$(wc -l <"$WORK/want.tsv")" -ge 4 ] && cmp -s "$WORK/want.tsv" "$WORK/got.tsv"
ok_if "every printed row is the API's node, in the API's order"
sed -n '/^forecast categories of office\/province-a:/,$p' "$WORK/out" | sed -E 's/ {2,}/\t/g' >"$WORK/cat.tsv"
ok=0
for k in commit best_case pipeline omitted; do
    want=$(printf '%s\t%s\t%s\t%s' "$k" "$(jq ".by_category.$k.count" "$WORK/p.json")" \
        "$(fmt "$(jq ".by_category.$k.value" "$WORK/p.json")")" "$(fmt "$(jq ".by_category.$k.weighted" "$WORK/p.json")")")
    grep -qx "$want" "$WORK/cat.tsv" || ok=1
done
[ $ok = 0 ] && grep -q "^total	$(fmt $((200000000 + 333333335 + 500000000 + 100000000)))	$(fmt $OW)$" "$WORK/cat.tsv"
ok_if "the unit's categories in full: count, value and weighted of each, and their totals"
run pa-ar-token --json pipeline --unit office/province-a --period 2026
[ $RC = 0 ] && [ "$(jq -S . "$WORK/out")" = "$(jq -S . "$WORK/p.json")" ]; ok_if "--json prints the API's JSON"
run south-admin-token pipeline --unit region/south --period 2026 --depth 1
[ $RC = 0 ] && [ "$(row region/south | cut -f1)" = region/south ] && [ "$(row office/province-a | cut -f1)" = office/province-a ] &&
    [ -z "$(row customer/acme)" ] && [ "$(cells | tail -n +3 | sed -n '/^coverage = /q;p' | wc -l)" = 3 ]
ok_if "--depth 1: the region and its offices only"
run pa-ar-token pipeline --unit customer/acme --period 2026 --depth 0
[ $RC = 0 ] && [ "$(col customer/acme 5)" = "$(fmt $AW)" ]; ok_if "a customer's own node"
run pa-ar-token pipeline --period 2026-Q4
[ $RC = 0 ] && out_has "^pipeline of office/province-a for 2026-Q4" && [ "$(col customer/acme 4)" = "$(fmt 500000000)" ] &&
    [ "$(col customer/acme 3)" = "$(fmt 0)" ]
ok_if "the default unit is the principal's; a quarter holds only its close dates"
run pa-ar-token pipeline
[ $RC = 0 ] && out_has "^pipeline of office/province-a for $(date -u +%Y) "; ok_if "the default period is this year"
run pa-ar-token pipeline --unit region/north --period 2026
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "another unit: the daemon's 403, exit 1"
run hq-admin-token pipeline --unit customer/nobody --period 2026
[ $RC = 1 ] && err_has "404 not_found: no customer 'nobody'"; ok_if "an unknown customer: the daemon's 404, exit 1"

# --- process metrics: two months after this one, as suite 40 -----------------------
T=$(date -u +%Y-%m-%d)
P1=$(date -u -d "$(date -u +%Y-%m-01) +2 months" +%Y-%m)
P2=$(date -u -d "$(date -u +%Y-%m-01) +3 months" +%Y-%m)
A=$(lead city-c x "A" sales); A2=$(lead city-c x "A2" technical); B=$(lead city-c x "B" sales); C=$(lead city-c x "C" marketing)
act hq-admin-token "$A" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$P1-05\"}"
act hq-admin-token "$C" "{\"action\":\"review\",\"decision\":\"close\",\"note\":\"no fit\",\"at\":\"$P1-15\"}"
act hq-admin-token "$A2" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$P1-28\"}"
act hq-admin-token "$B" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$P2-02\"}"
signed "$A" 600000000 "$P1-20" "$P1-21"
act hq-admin-token "$A" "{\"action\":\"milestone\",\"kind\":\"payment\",\"amount\":600000000,\"at\":\"$P2-10\"}"
act hq-admin-token "$A" "{\"action\":\"decide\",\"kdp\":\"ATCC\",\"outcome\":\"approve\",\"discount\":5,\"margin\":25,\"at\":\"$P2-10\"}"
act hq-admin-token "$A" "{\"action\":\"close\",\"reason\":\"paid\",\"at\":\"$P2-12\"}"
act hq-admin-token "$B" "{\"action\":\"close\",\"reason\":\"lost\",\"at\":\"$P2-20\"}"
check "A is won" [ "$(api GET "/v1/instances/$A" hq-admin-token | jq -r .closure.outcome)" = won ]

run cc-admin-token metrics --unit office/city-c --period "$P1"
[ $RC = 0 ] && out_has "^process metrics of office/city-c for $P1 ($P1-01 up to " && cells | sed -n 2p | grep -q "^FIGURE	VALUE	FROM$"
ok_if "metrics prints the office's figures with a header"
mrow() { cells | awk -F'\t' -v f="$1" '$1 == f'; }
MED=$(printf '%s\n' "$(days "$T" "$P1-05")" "$(days "$T" "$P1-15")" "$(days "$T" "$P1-28")" | sort -n | sed -n 2p)
[ "$(mrow "lead -> opportunity")" = "lead -> opportunity	$(pct 2 3)	2 converted of 3 decided (converted or dropped)" ] &&
    [ "$(mrow "median days at lead")" = "median days at lead	$MED days	over 3 stays" ]
ok_if "lead to opportunity: 2 of 3 (66.7%), median days at lead as computed here"
[ "$(mrow "opportunity -> contract")" = "opportunity -> contract	100.0%	1 converted of 1 decided (signed or closed)" ] &&
    [ "$(mrow "median days at opportunity")" = "median days at opportunity	$(days "$P1-05" "$P1-20") days	over 1 stay" ] &&
    [ "$(mrow "win rate")" = "win rate	-	0 won of 0 decided (won or lost)" ]
ok_if "opportunity to contract, days at opportunity; no win rate without a decided deal ('-')"
run cc-admin-token metrics --unit office/city-c --period "$P2"
api GET "/v1/process-metrics?period=$P2&unit=office/city-c" cc-admin-token >"$WORK/m2.json"
DSO=$(days "$P1-21" "$P2-10")
[ "$(mrow "win rate")" = "win rate	$(pct 1 2)	1 won of 2 decided (won or lost)" ] &&
    [ "$(mrow "contract -> won")" = "contract -> won	100.0%	1 converted of 1 decided (contracts closed)" ] &&
    [ "$(mrow "opportunity -> contract")" = "opportunity -> contract	0.0%	0 converted of 1 decided (signed or closed)" ]
ok_if "win rate 1 of 2 (one won, one lost), contract to won, a lost opportunity"
[ "$(mrow DSO)" = "DSO	$DSO days	paid-weighted over 1 won instance, $(fmt 600000000) paid" ] &&
    [ "$(mrow "median lead-to-cash cycle")" = "median lead-to-cash cycle	$(days "$T" "$P2-12") days	over 1 win" ] &&
    [ "$DSO" = "$(api GET "/v1/instances/$A" hq-admin-token | jq .closure.dso)" ]
ok_if "DSO from invoice to payment and the lead-to-cash cycle, as computed here"
OV=$(jq -c .overdue_ratio "$WORK/m2.json")
[ "$(mrow "overdue ratio")" = "overdue ratio	$(echo "$OV" | jq -r 'if .ratio == null then "-" else "x" end' | sed "s/x/$(pct "$(echo "$OV" | jq .overdue)" "$(echo "$OV" | jq .outstanding)")/")	$(fmt "$(echo "$OV" | jq .overdue)") overdue of $(fmt "$(echo "$OV" | jq .outstanding)") outstanding, $(echo "$OV" | jq .contracts) contract$([ "$(echo "$OV" | jq .contracts)" = 1 ] || echo s), as of $(echo "$OV" | jq -r .as_of)" ]
ok_if "the overdue ratio row is the API's figure with its counts"
order=$(for f in "leads by source" "median days at lead" "lead -> opportunity" "median days at opportunity" \
    "opportunity -> contract" "median days at contract" "contract -> won" "win rate" \
    "median lead-to-cash cycle" DSO "overdue ratio"; do cells | awk -F'\t' -v f="$f" '$1 == f { print NR }'; done | tr '\n' ' ')
[ "$(echo "$order" | wc -w)" = 11 ] && [ "$(echo "$order" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')" = "$order" ]
ok_if "the figures in process order, from leads to cash"
run cc-admin-token metrics --unit office/city-c --period "$(date -u +%Y-%m)"
L=$(mrow "leads by source")
[ "$(echo "$L" | cut -f2)" = 4 ] && echo "$L" | grep -q "sales 2" && echo "$L" | grep -q "technical 1" &&
    echo "$L" | grep -q "marketing 1"
ok_if "leads by source in the month they were created, with the total"
run cc-admin-token --json metrics --unit office/city-c --period "$P2"
[ $RC = 0 ] && [ "$(jq -S . "$WORK/out")" = "$(jq -S . "$WORK/m2.json")" ]; ok_if "--json prints the API's JSON"
run cc-admin-token metrics --unit office/province-a --period "$P2"
[ $RC = 1 ] && err_has "403 forbidden"; ok_if "another office: the daemon's 403, exit 1"
# A daemon whose job queue is full answers 503 at once: ltcctl asks again.
# Stopped, the daemon takes 30 requests into its backlog, then ltcctl's; let go,
# it reads them in order, so 18 jobs (2 running, 16 waiting) fill the queue and
# the rest, ltcctl's first ask among them, get 503.
kill -STOP "$PID"
pids=""
for i in $(seq 1 30); do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer hq-admin-token" \
        "$URL/v1/process-metrics?period=$P2" >>"$WORK/codes" &
    pids="$pids $!"
done
sleep 0.3
LTC_URL=$URL LTC_TOKEN=hq-admin-token "$LTCCTL" metrics --period "$P2" --wait 60 >"$WORK/out" 2>"$WORK/err" &
LP=$!
sleep 0.3
kill -CONT "$PID"
wait $LP; RC=$?
for p in $pids; do wait "$p"; done
[ "$(grep -c '^503$' "$WORK/codes")" -ge 1 ] && [ "$(grep -c '^200$' "$WORK/codes")" -ge 18 ]
ok_if "a burst of requests fills the daemon's job queue (some answered 503)"
[ $RC = 0 ] && err_has "the daemon is busy (503); asking again for up to 60 s" && out_has "^process metrics of hq for $P2" &&
    [ "$(mrow "win rate" | cut -f2)" = "$(pct 1 2)" ]
ok_if "metrics asks a busy daemon again and prints its figures"

# A daemon that does not answer (stopped): the wait is bounded and says so.
kill -STOP "$PID"
S=$(date +%s)
run hq-admin-token metrics --period "$P2" --wait 1
E=$(( $(date +%s) - S ))
kill -CONT "$PID"
[ $RC = 3 ] && err_has "no answer within 1 s: the daemon is still computing the process metrics of your unit for $P2" &&
    err_has "wait longer with --wait SECONDS" && [ "$E" -le 4 ]
ok_if "no answer within --wait: a clear message and exit 3, in bounded time"
run hq-admin-token metrics --period "$P2"
[ $RC = 0 ] && out_has "^process metrics of hq for $P2"; ok_if "the daemon answers again once it runs"

# --- migration: a dry run, then --apply, as suite 41 ------------------------------
pin() { api GET "/v1/instances/$1" hq-admin-token | jq '.rules.hq'; }
snapshot() { sql "SELECT id, doc, last_seq FROM instances ORDER BY id; SELECT count(*) FROM events" | sha256sum; }
M1=$(lead province-b x "Plain lead")
M2=$(lead province-b x "Stay put")
M3=$(lead province-b x "Opportunity"); act hq-admin-token "$M3" '{"action":"review","decision":"convert"}'
M4=$(lead province-b x "Deferred"); act hq-admin-token "$M4" '{"action":"review","decision":"convert"}'
act hq-admin-token "$M4" '{"action":"decide","kdp":"ATI","outcome":"defer","value":100000000,"discount":0,"margin":30}'
M5=$(lead province-b x "Closed"); act hq-admin-token "$M5" '{"action":"close","reason":"no budget"}'
V1=$(pin "$M1")
sed 's/^local function migrate(instance, from_version)$/&\n    if instance.title == "Stay put" then return "this lead stays on v" .. from_version end/' \
    "$WORK/rules/hq/process.lua" >"$WORK/process.lua"
V2=$(api PUT /v1/rules/hq/process.lua hq-admin-token "$(cat "$WORK/process.lua")" | jq .version)
expect "HQ's new process version" 201

BEFORE=$(snapshot)
run hq-admin-token migrate --to "$V2" --unit office/province-b
[ $RC = 4 ] && out_has "^migration of the open instances of office/province-b to hq v$V2: dry run, nothing changed" &&
    out_has "^2 would move, 2 refused. Nothing changed: run it again with --apply to move them."
ok_if "a dry run by default: exit 4 since some are refused"
check "the dry run changes nothing" [ "$(snapshot)" = "$BEFORE" ]
api POST /v1/instances/migrate hq-admin-token "{\"to_hq\":$V2,\"unit\":\"office/province-b\",\"dry_run\":true}" >"$WORK/dry.json"
sect() { sed -n "/^$1/,/^\$/p" "$WORK/out" | sed -E 's/^ +//; s/ {2,}/\t/g' | awk -F'\t' '$1 ~ /^[0-9]+$/'; }
[ "$(sect 'would move' | cut -f1 | sort -n | tr '\n' ' ')" = "$(printf '%s\n' "$M1" "$M3" | sort -n | tr '\n' ' ')" ] &&
    [ "$(sect 'would move' | cut -f1 | tr '\n' ' ')" = "$(jq -r '.instances[].instance' "$WORK/dry.json" | tr '\n' ' ')" ] &&
    [ "$(sect 'would move' | cut -f2,3 | sort -u)" = "hq v$V1	hq v$V2" ]
ok_if "the instances that would move: the API's list, from v$V1 to v$V2"
[ "$(sect 'refused' | awk -F'\t' -v i="$M2" '$1 == i' | cut -f2,3)" = "hq v$V1	this lead stays on v$V1" ] &&
    sect 'refused' | awk -F'\t' -v i="$M4" '$1 == i' | grep -q "ATI was deferred" &&
    [ "$(sect 'refused' | wc -l)" = 2 ]
ok_if "the refused ones with the new version's reasons"
run hq-admin-token --json migrate --to "$V2" --unit office/province-b --dry-run
[ $RC = 4 ] && [ "$(jq -S . "$WORK/out")" = "$(jq -S . "$WORK/dry.json")" ]; ok_if "--json --dry-run: the API's JSON, exit 4"
check "and still nothing changed" [ "$(snapshot)" = "$BEFORE" ]
run hq-admin-token migrate --to "$V2" --unit office/province-b --apply
[ $RC = 4 ] && out_has "to hq v$V2: applied" && out_has "^moved (2):" && out_has "^2 moved, 2 refused.$"
ok_if "--apply moves them: exit 4 with the refused ones listed"
ok=0
for id in $(jq '.instances[].instance' "$WORK/dry.json"); do
    [ "$(pin "$id")" = "$V2" ] || ok=1
    [ "$(api GET "/v1/instances/$id/events" hq-admin-token | jq '[.events[] | select(.action == "migrate")] | length')" = 1 ] || ok=1
done
for id in "$M2" "$M4" "$M5"; do [ "$(pin "$id")" = "$V1" ] || ok=1; done
[ $ok = 0 ]; ok_if "exactly the listed instances re-pinned, one migrate event each; refused and closed left"
run hq-admin-token migrate --to "$V2" --unit office/province-b --apply
[ $RC = 4 ] && out_has "^moved (0):" && out_has "^  (none)" && out_has "^0 moved, 2 refused.$"; ok_if "a second run finds nothing more to move"
run hq-admin-token migrate --to "$V2" --unit office/city-c
[ $RC = 0 ] && out_has "^1 would move, 0 refused." && [ "$(sect 'would move' | cut -f1)" = "$A2" ] &&
    sed -n '/^refused/,/^$/p' "$WORK/out" | grep -q '^  (none)'
ok_if "nothing refused: exit 0 (city-c's one open opportunity)"
run hq-admin-token migrate --to "$V2" --unit office/city-c --stage lead
[ $RC = 0 ] && out_has "office/city-c at stage lead to hq" && out_has "^0 would move, 0 refused.$"; ok_if "a stage filter"
run hq-viewer-token migrate --to "$V2"
[ $RC = 1 ] && err_has "403 forbidden: instances are migrated by an hq admin"; ok_if "a viewer: the daemon's 403, exit 1"
run hq-admin-token migrate --to 99
[ $RC = 1 ] && err_has "404 not_found: no hq version 99"; ok_if "an unknown version: the daemon's 404, exit 1"
run hq-admin-token migrate --to "$V2" --stage contrakt
[ $RC = 1 ] && err_has "400 invalid_field: stage: unknown stage 'contrakt'"; ok_if "an unknown stage: the daemon's 400, exit 1"
check "the refused requests changed nothing" [ "$(pin "$A2")" = "$V1" ]

stop_daemon
check "the daemon stops cleanly" [ $? -eq 0 ]
finish
