#!/bin/sh
# A lead taken to cash against a running ltcd, step by step, with ltcctl.
# Setup (README.md, Quick start): `make run` in another terminal, the shipped
# rules and the demo tokens of examples/tokens.conf; then, from the
# repository's root: sh examples/demo.sh [URL]. Money is typed in fen
# (800000000 fen is 8,000,000.00 CNY) and printed in yuan.
# Dates: the lead is recorded today and every later step is dated (at=) a
# number of days after it, in order, so the receivables below come out the
# same whatever day the demo runs.
set -eu
cd "$(dirname "$0")/.."
export LTC_URL=${1:-${LTC_URL:-http://127.0.0.1:8080}}
CTL=${LTCCTL:-bin/ltcctl}
step() { printf '\n== %s\n' "$*"; }
as() { tok=$1; shift; LTC_TOKEN=$tok "$CTL" "$@"; }
day() { date -u -d "+$1 days" +%F; } # today + N days, YYYY-MM-DD

step "HQ approves the South region's rules as shipped (pending until HQ approves them)"
if as hq-admin-token --json rules versions region/south | grep -q '"version":1,[^}]*"status":"pending"'; then
    as hq-admin-token rules approve region/south 1
else
    echo "region/south v1 is already active"
fi

step "Province A's account manager records a lead (budget 8,000,000.00 CNY approved, six months out)"
out=$(as pa-ar-token --json lead create --office province-a --customer "Sample Telecom" \
    --title "Core network refresh" --amount 800000000 --budget approved --horizon 6 \
    --signal strategic_fit=4 --signal urgency=5 --signal relationship=4 --signal coach=3 \
    --signal solution_maturity=4 --signal differentiation=3)
ID=$(echo "$out" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
as pa-ar-token lead show "$ID"

step "The South region's lead review meeting converts it to an opportunity"
as south-reviewer-token review "$ID" decision=convert note="Budget confirmed at visit"

step "The iron triangle is named: AR Li, SR Wang, FR Zhao"
as pa-ar-token assign "$ID" ar=Li sr=Wang fr=Zhao

step "ATI: 8,000,000.00 CNY at 5% discount, 25% margin is within the office's authority"
as pa-admin-token decide "$ID" kdp=ATI outcome=approve value=800000000 discount=5 margin=25

step "ATB at a 15% discount: beyond the office (10%), so the office admin is refused"
as pa-admin-token decide "$ID" kdp=ATB outcome=approve value=800000000 discount=15 margin=25 || true

step "... and the region decides it, with a condition"
as south-admin-token decide "$ID" kdp=ATB outcome=approve_with_conditions value=800000000 \
    discount=15 margin=25 'conditions=[{"text":"Local partner signed","owner":"Li","due":"'"$(day 60)"'"}]'

step "ATC at the region, then the contract is signed (10:80:10, net 30) ten days later"
as south-admin-token decide "$ID" kdp=ATC outcome=approve value=800000000 discount=15 margin=25
as pa-ar-token sign "$ID" value=800000000 net_days=30 at="$(day 10)" \
    'terms=[{"milestone":"advance","percent":10},{"milestone":"delivery","percent":80},{"milestone":"acceptance","percent":10}]'

step "Contract execution: advance invoice and payment, delivery, acceptance, delivery invoice"
as pa-admin-token milestone "$ID" kind=invoice amount=80000000 ref=INV-ADV at="$(day 12)"
as pa-admin-token milestone "$ID" kind=payment amount=80000000 ref=PAY-1 at="$(day 36)"
as pa-ar-token milestone "$ID" kind=delivery amount=800000000 ref=DN-1 at="$(day 50)"
as pa-ar-token milestone "$ID" kind=acceptance amount=720000000 ref=ACC-1 at="$(day 69)"
as pa-admin-token milestone "$ID" kind=invoice amount=640000000 ref=INV-DEL at="$(day 70)"

step "Receivables 80 days after the delivery invoice: it is 50 days overdue and escalates"
as pa-ar-token receivables "$ID" "$(day 150)"

step "The rest is accepted, invoiced and paid"
as pa-ar-token milestone "$ID" kind=acceptance amount=80000000 ref=ACC-2 at="$(day 151)"
as pa-admin-token milestone "$ID" kind=invoice amount=80000000 ref=INV-ACC at="$(day 152)"
as pa-admin-token milestone "$ID" kind=payment amount=720000000 ref=PAY-2 at="$(day 165)"

step "ATCC (final accounting, actual margin 23%) and closure"
as south-admin-token decide "$ID" kdp=ATCC outcome=approve margin=23 at="$(day 166)"
as pa-ar-token close "$ID" reason="Contract fulfilled and paid" at="$(day 166)"

step "The quote document (Province A's L5 template) and the audit trail"
as pa-ar-token document "$ID" quote
as pa-ar-token events "$ID"
