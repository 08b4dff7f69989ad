#!/bin/sh
# Process metrics (CONTRACT 8.4): conversion at each step, win rate, median
# days per stage, the lead-to-cash cycle, DSO, overdue ratio and leads by
# source over two months P1 and P2 (after today, since leads are created
# today), each figure against one computed here from the dates the suite sent;
# P1's figures stay what they were once P2's events are recorded.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

act() { api POST "/v1/instances/$2/actions" "$1" "$3" >/dev/null; expect "$4" 200; }
lead() { # OFFICE SOURCE TITLE
    api POST /v1/leads hq-admin-token "$(echo "$LEAD" | jq -c --arg o "$1" --arg s "$2" --arg t "$3" \
        '.office = $o | .source = $s | .title = $t')" | jq -r .id
}
days() { echo $(( ($(date -u -d "$2" +%s) - $(date -u -d "$1" +%s)) / 86400 )); }
m() { jq -r "$2" "$1"; }
T=$(date -u +%Y-%m-%d)
P1=$(date -u -d "$(date -u +%Y-%m-01) +2 months" +%Y-%m)
P2=$(date -u -d "$(date -u +%Y-%m-01) +3 months" +%Y-%m)
PREV=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
# signed ID VALUE SIGN INVOICE: from opportunity to an invoiced contract
signed() {
    _id=$1 _v=$2
    act hq-admin-token "$_id" '{"action":"assign","ar":"Li","sr":"Sun","fr":"Qian"}' "assign $_id"
    for k in ATI ATB ATC; do
        act hq-admin-token "$_id" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":$_v,\"discount\":5,\"margin\":25,\"at\":\"$3\"}" "$k $_id"
    done
    act hq-admin-token "$_id" "{\"action\":\"sign\",\"value\":$_v,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"$3\"}" "sign $_id"
    for k in delivery acceptance invoice; do
        act hq-admin-token "$_id" "{\"action\":\"milestone\",\"kind\":\"$k\",\"amount\":$_v,\"at\":\"$4\"}" "$k $_id"
    done
}
# won ID VALUE PAYMENT CLOSE: paid, ATCC, closed
won() {
    act hq-admin-token "$1" "{\"action\":\"milestone\",\"kind\":\"payment\",\"amount\":$2,\"at\":\"$3\"}" "payment $1"
    act hq-admin-token "$1" "{\"action\":\"decide\",\"kdp\":\"ATCC\",\"outcome\":\"approve\",\"discount\":5,\"margin\":25,\"at\":\"$3\"}" "ATCC $1"
    act hq-admin-token "$1" "{\"action\":\"close\",\"reason\":\"paid\",\"at\":\"$4\"}" "close $1"
}

A=$(lead city-c sales "A"); A2=$(lead city-c technical "A2"); B=$(lead city-c sales "B"); C=$(lead city-c marketing "C")
act hq-admin-token "$A" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$P1-05\"}" "A converts in P1"
act hq-admin-token "$C" "{\"action\":\"review\",\"decision\":\"close\",\"note\":\"no fit\",\"at\":\"$P1-15\"}" "C is dropped in P1"
act hq-admin-token "$A2" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$P1-28\"}" "A2 converts on P1's last days"
act hq-admin-token "$B" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$P2-02\"}" "B converts in P2"
# A signs in P1 and A2 on P1's 29th: both contracts in P1; both are paid and closed in P2.
SA=$P1-20; IA=$P1-21; PA=$P2-10; CA=$P2-12
SA2=$P1-28; IA2=$P1-28; PA2=$P2-05; CA2=$P2-13
signed "$A" 600000000 "$SA" "$IA"
signed "$A2" 200000000 "$SA2" "$IA2"
api GET "/v1/process-metrics?period=$P1&unit=office/city-c" cc-admin-token >"$WORK/p1-before.json"
won "$A" 600000000 "$PA" "$CA"
won "$A2" 200000000 "$PA2" "$CA2"
act hq-admin-token "$B" "{\"action\":\"close\",\"reason\":\"lost\",\"at\":\"$P2-20\"}" "B is lost in P2"

# D, created today, is converted "at" last month: a stay dated back, 0 days.
D=$(lead city-c sales "D")
act hq-admin-token "$D" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$PREV-10\"}" "D converts at a date before it was recorded"
api GET "/v1/process-metrics?period=$PREV&unit=office/city-c" cc-admin-token >"$WORK/prev.json"
[ "$(m "$WORK/prev.json" .median_days.lead.days)" = 0 ] &&
    [ "$(m "$WORK/prev.json" .median_days.lead.count)" = 1 ] &&
    [ "$(m "$WORK/prev.json" .median_days.lead.dated_back)" = 1 ]
ok_if "a stay whose end is dated before its start counts 0 days, and is counted as dated back"

api GET "/v1/process-metrics?period=$P1&unit=office/city-c" cc-admin-token >"$WORK/p1.json"
expect "P1's metrics" 200
api GET "/v1/process-metrics?period=$P2&unit=office/city-c" cc-admin-token >"$WORK/p2.json"
[ "$(m "$WORK/p1.json" .conversion.lead_to_opportunity.converted)" = 2 ] &&
    [ "$(m "$WORK/p1.json" .conversion.lead_to_opportunity.decided)" = 3 ] &&
    [ "$(m "$WORK/p2.json" .conversion.lead_to_opportunity.converted)" = 1 ] &&
    [ "$(m "$WORK/p2.json" .conversion.lead_to_opportunity.decided)" = 1 ] &&
    [ "$(m "$WORK/p2.json" .conversion.lead_to_opportunity.rate)" = 1 ]
ok_if "lead to opportunity: two converted and one dropped in P1, one converted in P2"
[ "$(m "$WORK/p1.json" .conversion.opportunity_to_contract.converted)" = 2 ] &&
    [ "$(m "$WORK/p1.json" .conversion.opportunity_to_contract.decided)" = 2 ] &&
    [ "$(m "$WORK/p2.json" .conversion.opportunity_to_contract.converted)" = 0 ] &&
    [ "$(m "$WORK/p2.json" .conversion.opportunity_to_contract.decided)" = 1 ] &&
    [ "$(m "$WORK/p2.json" .conversion.contract_to_won.converted)" = 2 ] &&
    [ "$(m "$WORK/p1.json" .conversion.contract_to_won.decided)" = 0 ]
ok_if "opportunity to contract and contract to won, each in the period it happened"
[ "$(m "$WORK/p2.json" .win_rate.won)" = 2 ] && [ "$(m "$WORK/p2.json" .win_rate.decided)" = 3 ] &&
    [ "$(m "$WORK/p2.json" '.win_rate.rate * 1000 | floor')" = 666 ] && [ "$(m "$WORK/p1.json" .win_rate.rate)" = null ]
ok_if "win rate: two won and one lost in P2, none closed in P1"
LD_C=$(days "$T" "$P1-15"); LD_A=$(days "$T" "$P1-05"); LD_A2=$(days "$T" "$P1-28")
MED=$(printf '%s\n' "$LD_A" "$LD_C" "$LD_A2" | sort -n | sed -n 2p)
[ "$(m "$WORK/p1.json" .median_days.lead.days)" = "$MED" ] && [ "$(m "$WORK/p1.json" .median_days.lead.count)" = 3 ]
ok_if "median days at stage lead (three leads leaving it in P1)"
OA=$(days "$P1-05" "$SA"); OA2=$(days "$P1-28" "$SA2")
[ "$(m "$WORK/p1.json" .median_days.opportunity.days)" = "$(echo "($OA + $OA2) / 2" | bc -l | sed 's/\.0*$//; s/\(\.[0-9]*[1-9]\)0*$/\1/')" ] &&
    [ "$(m "$WORK/p1.json" .median_days.opportunity.count)" = 2 ]
ok_if "median days at stage opportunity: the mean of the two middle values"
CYA=$(days "$T" "$CA"); CYA2=$(days "$T" "$CA2")
[ "$(m "$WORK/p2.json" .median_cycle_days.count)" = 2 ] &&
    [ "$(m "$WORK/p2.json" .median_cycle_days.days)" = "$(echo "($CYA + $CYA2) / 2" | bc -l | sed 's/\.0*$//; s/\(\.[0-9]*[1-9]\)0*$/\1/')" ]
ok_if "median lead-to-cash cycle of the two won in P2"
DA=$(api GET "/v1/instances/$A" hq-admin-token | jq .closure.dso); DA2=$(api GET "/v1/instances/$A2" hq-admin-token | jq .closure.dso)
[ "$DA" = "$(days "$IA" "$PA")" ] && [ "$DA2" = "$(days "$IA2" "$PA2")" ]
ok_if "each closure's DSO is its days from invoice to payment"
W=$((DA * 600000000 + DA2 * 200000000))
[ "$(m "$WORK/p2.json" .dso.days)" = $(( (2 * W + 800000000) / (2 * 800000000) )) ] &&
    [ "$(m "$WORK/p2.json" .dso.instances)" = 2 ] && [ "$(m "$WORK/p2.json" .dso.paid)" = 800000000 ]
ok_if "the period's DSO is the paid-weighted mean of the closures' DSO"
[ "$(m "$WORK/p1.json" .leads_by_source.total)" = 0 ] &&
    api GET "/v1/process-metrics?period=$(date -u +%Y-%m)&unit=office/city-c" cc-admin-token |
    jq -e '.leads_by_source == {"sales": 3, "technical": 1, "marketing": 1, "total": 5}' >/dev/null
ok_if "leads by source in the month they were recorded"
jq -S 'del(.overdue_ratio)' "$WORK/p1-before.json" >"$WORK/a"; jq -S 'del(.overdue_ratio)' "$WORK/p1.json" >"$WORK/b"
jq -e '.conversion.lead_to_opportunity.decided == 3' "$WORK/a" >/dev/null && cmp -s "$WORK/a" "$WORK/b"
ok_if "P1's figures stay what they were after P2's events"

# Overdue as of today: E's invoice is 40 days old with 30 paid of 100; F's is
# 5 days old and not due. Only province-b's contracts are in its figure.
D40=$(date -u -d "$T -40 days" +%Y-%m-%d); D39=$(date -u -d "$T -39 days" +%Y-%m-%d); D5=$(date -u -d "$T -5 days" +%Y-%m-%d)
contract_at() { # ID VALUE DATE INVOICED PAID
    act hq-admin-token "$1" "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$3\"}" "convert $1"
    act hq-admin-token "$1" '{"action":"assign","ar":"Li","sr":"Sun","fr":"Qian"}' "assign $1"
    for k in ATI ATB ATC; do
        act hq-admin-token "$1" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":$2,\"discount\":5,\"margin\":25,\"at\":\"$3\"}" "$k $1"
    done
    act hq-admin-token "$1" "{\"action\":\"sign\",\"value\":$2,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"$3\"}" "sign $1"
    for k in delivery acceptance invoice; do
        act hq-admin-token "$1" "{\"action\":\"milestone\",\"kind\":\"$k\",\"amount\":$4,\"at\":\"$3\"}" "$k $1"
    done
}
E=$(lead province-b sales "E"); F=$(lead province-b sales "F")
contract_at "$E" 100000000 "$D40" 100000000
act hq-admin-token "$E" "{\"action\":\"milestone\",\"kind\":\"payment\",\"amount\":30000000,\"at\":\"$D39\"}" "E pays 30"
contract_at "$F" 50000000 "$D5" 50000000
api GET "/v1/process-metrics?period=$(date -u +%Y-%m)&unit=office/province-b" hq-admin-token >"$WORK/o.json"
[ "$(m "$WORK/o.json" .overdue_ratio.overdue)" = 70000000 ] &&
    [ "$(m "$WORK/o.json" .overdue_ratio.outstanding)" = 120000000 ] &&
    [ "$(m "$WORK/o.json" .overdue_ratio.contracts)" = 2 ] &&
    [ "$(m "$WORK/o.json" '.overdue_ratio.ratio * 120 | round')" = 70 ] &&
    [ "$(m "$WORK/o.json" .overdue_ratio.as_of)" = "$T" ]
ok_if "overdue ratio as of today: overdue over outstanding"
api GET "/v1/process-metrics?period=$PREV&unit=office/province-b" hq-admin-token >"$WORK/o2.json"
L=$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m-%d)   # last month's last day
DUE=$(date -u -d "$T -10 days" +%Y-%m-%d)                     # E's invoice due date
OV=0; [ "$L" \> "$DUE" ] && OV=70000000
OUT=70000000; N=1; if [ ! "$D5" \> "$L" ]; then OUT=120000000; N=2; fi
[ "$(m "$WORK/o2.json" .overdue_ratio.overdue)" = "$OV" ] &&
    [ "$(m "$WORK/o2.json" .overdue_ratio.outstanding)" = "$OUT" ] &&
    [ "$(m "$WORK/o2.json" .overdue_ratio.contracts)" = "$N" ] && [ "$(m "$WORK/o2.json" .overdue_ratio.as_of)" = "$L" ]
ok_if "last month's overdue ratio is taken at its last day, without later milestones"

api GET "/v1/process-metrics?period=$P1&unit=office/city-c" pa-ar-token >/dev/null; expect "another office is 403" 403 forbidden
api GET "/v1/process-metrics?period=$P1&unit=customer/acme" hq-admin-token >/dev/null; expect "a customer is not a metrics unit" 400 invalid_field
api GET "/v1/process-metrics?period=20x6" hq-admin-token >/dev/null; expect "a bad period is 400" 400 invalid_field
api GET "/v1/process-metrics" hq-admin-token >/dev/null; expect "a missing period is 400" 400 invalid_field
api GET "/v1/process-metrics?period=$P2" hq-admin-token | jq -e '.unit == "hq" and .win_rate.won == 2' >/dev/null
ok_if "hq sees every office's figures"

stop_daemon
check "the daemon stops cleanly" [ $? -eq 0 ]
finish
