#!/bin/sh
# A lead taken to cash against a running ltcd, step by step, with ltcctl.
# Start the daemon first (make run, or with --auto-approve for region rules),
# then: sh examples/demo.sh [URL]. Uses the demo tokens of examples/tokens.conf.
set -eu
cd "$(dirname "$0")/.."
export LTC_URL=${1:-${LTC_URL:-http://127.0.0.1:8080}}
CTL=${LTCCTL:-bin/ltcctl}
step() { printf '\n== %s\n' "$*"; }
as() { tok=$1; shift; LTC_TOKEN=$tok "$CTL" "$@"; }

step "Province A's account manager records a lead (budget approved, six months out)"
out=$(as pa-ar-token --json lead create --office province-a --customer "Sample Telecom" \
    --title "Core network refresh" --amount 800000000 --budget approved --horizon 6 \
    --signal strategic_fit=4 --signal urgency=5 --signal relationship=4 --signal coach=3 \
    --signal solution_maturity=4 --signal differentiation=3)
ID=$(echo "$out" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
as pa-ar-token lead show "$ID"

step "The South region's lead review meeting converts it to an opportunity"
as south-reviewer-token act "$ID" review decision=convert note="Budget confirmed at visit"

step "The iron triangle is named: AR Li, SR Wang, FR Zhao"
as pa-ar-token act "$ID" assign ar=Li sr=Wang fr=Zhao

step "ATI: 8,000,000.00 CNY at 5% discount, 25% margin is within the office's authority"
as pa-admin-token act "$ID" decide kdp=ATI outcome=approve value=800000000 discount=5 margin=25

step "ATB at a 15% discount: beyond the office (10%), so the office admin is refused"
as pa-admin-token act "$ID" decide kdp=ATB outcome=approve value=800000000 discount=15 margin=25 || true

step "... and the region decides it, with a condition"
as south-admin-token act "$ID" decide kdp=ATB outcome=approve_with_conditions value=800000000 \
    discount=15 margin=25 'conditions=[{"text":"Local partner signed","owner":"Li","due":"2026-02-28"}]'

step "ATC at the region, then the contract is signed (10:80:10, net 30)"
as south-admin-token act "$ID" decide kdp=ATC outcome=approve value=800000000 discount=15 margin=25
as pa-ar-token act "$ID" sign value=800000000 net_days=30 at=2026-01-10 \
    'terms=[{"milestone":"advance","percent":10},{"milestone":"delivery","percent":80},{"milestone":"acceptance","percent":10}]'

step "Contract execution: advance invoice, delivery, acceptance, invoices, payments"
as pa-admin-token act "$ID" milestone kind=invoice amount=80000000 ref=INV-ADV at=2026-01-12
as pa-admin-token act "$ID" milestone kind=payment amount=80000000 ref=PAY-1 at=2026-02-05
as pa-ar-token act "$ID" milestone kind=delivery amount=800000000 ref=DN-1 at=2026-03-01
as pa-ar-token act "$ID" milestone kind=acceptance amount=720000000 ref=ACC-1 at=2026-03-20
as pa-admin-token act "$ID" milestone kind=invoice amount=640000000 ref=INV-DEL at=2026-03-21

step "Receivables on 2026-05-30: the delivery invoice is overdue and escalates"
as pa-ar-token receivables "$ID" 2026-05-30

step "The rest is accepted, invoiced and paid"
as pa-ar-token act "$ID" milestone kind=acceptance amount=80000000 ref=ACC-2 at=2026-06-01
as pa-admin-token act "$ID" milestone kind=invoice amount=80000000 ref=INV-ACC at=2026-06-02
as pa-admin-token act "$ID" milestone kind=payment amount=720000000 ref=PAY-2 at=2026-06-15

step "ATCC (final accounting, actual margin 23%) and closure"
as south-admin-token act "$ID" decide kdp=ATCC outcome=approve margin=23 at=2026-06-16
as pa-ar-token act "$ID" close reason="Contract fulfilled and paid" at=2026-06-16

step "The quote document (Province A's L5 template) and the audit trail"
as pa-ar-token document "$ID" quote
as pa-ar-token events "$ID"
