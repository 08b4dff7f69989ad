# tests/integration/worklist-seed.sh: instances in every state the dashboard's
# work lists tell apart (sourced after lib.sh and start_daemon; suite 37 and
# the browser test use it). Sets W_* ids. Business dates count from today
# (day N is `d N`), never before an instance's creation, and the lists are
# read as of day 150 (W_AS_OF), so ages and overdue days are fixed.
# Office province-a (South, HQ's default matrix: office up to 10,000,000 CNY,
# discount 10%, margin 20%); a deal of 50,000,000 CNY goes to the region.
d() { date -u -d "today + $1 days" +%F; }
W_AS_OF=$(d 150)
seed_lead() { # OFFICE AMOUNT TITLE: prints the new id
    api POST /v1/leads hq-admin-token "$(echo "$LEAD" | jq -c --arg o "$1" --argjson a "$2" \
        --arg t "$3" '.office = $o | .budget.amount = $a | .title = $t')" | jq -r .id
}
seed_act() { # ID TOKEN BODY: fails the seeding loudly
    api POST "/v1/instances/$1/actions" "$2" "$3" >/dev/null
    [ "$(status)" = 200 ] || echo "# seeding: instance $1 $3: $(status) $(cat "$WORK/body")" >&2
}
seed_contract() { # ID VALUE: through ATI, ATB, ATC at office level, signed on day 5, net 30
    seed_act "$1" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 1)\"}"
    seed_act "$1" pa-admin-token "{\"action\":\"assign\",\"ar\":\"li\",\"sr\":\"wang\",\"fr\":\"zhao\",\"at\":\"$(d 1)\"}"
    n=2
    for k in ATI ATB ATC; do
        n=$((n + 1))
        seed_act "$1" pa-admin-token "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":$2,\"discount\":5,\"margin\":25,\"at\":\"$(d $n)\"}"
    done
    seed_act "$1" pa-admin-token "{\"action\":\"sign\",\"value\":$2,\"currency\":\"CNY\",\"terms\":[{\"milestone\":\"advance\",\"percent\":10},{\"milestone\":\"delivery\",\"percent\":80},{\"milestone\":\"acceptance\",\"percent\":10}],\"net_days\":30,\"at\":\"$(d 5)\"}"
}
seed_ms() { # ID KIND AMOUNT REF AT
    seed_act "$1" hq-admin-token "{\"action\":\"milestone\",\"kind\":\"$2\",\"amount\":$3,\"ref\":\"$4\",\"at\":\"$5\"}"
}
seed_worklists() {
    # ATI waiting at office level since the conversion (day 4).
    W_ATI=$(seed_lead province-a 60000000 "ATI at office")
    seed_act "$W_ATI" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 4)\"}"
    # ATI of a 50,000,000 CNY deal: region level, since day 9.
    W_BIG=$(seed_lead province-a 5000000000 "ATI at region")
    seed_act "$W_BIG" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 9)\"}"
    # ATB waiting since ATI was approved (day 19); ATB deferred on day 31.
    W_ATB=$(seed_lead province-b 60000000 "ATB deferred")
    seed_act "$W_ATB" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 14)\"}"
    seed_act "$W_ATB" hq-admin-token "{\"action\":\"assign\",\"ar\":\"chen\",\"sr\":\"sun\",\"fr\":\"zhou\",\"at\":\"$(d 14)\"}"
    seed_act "$W_ATB" hq-admin-token "{\"action\":\"decide\",\"kdp\":\"ATI\",\"outcome\":\"approve\",\"value\":60000000,\"discount\":5,\"margin\":25,\"at\":\"$(d 19)\"}"
    seed_act "$W_ATB" hq-admin-token "{\"action\":\"decide\",\"kdp\":\"ATB\",\"outcome\":\"defer\",\"value\":60000000,\"discount\":12,\"margin\":25,\"at\":\"$(d 31)\"}"
    # A rejected ATB waits for its closure, not for a decision.
    W_REJ=$(seed_lead province-a 60000000 "ATB rejected")
    seed_act "$W_REJ" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 14)\"}"
    seed_act "$W_REJ" hq-admin-token "{\"action\":\"decide\",\"kdp\":\"ATI\",\"outcome\":\"reject\",\"value\":60000000,\"discount\":0,\"margin\":25,\"at\":\"$(d 15)\"}"
    # A contract of 1,000,000 CNY: the advance invoiced day 9 (due day 39),
    # unpaid; a delivery invoice of day 59 (due day 89) unpaid.
    W_LATE=$(seed_lead province-a 100000000 "Late payer")
    seed_contract "$W_LATE" 100000000
    seed_ms "$W_LATE" invoice 10000000 INV-ADV $(d 9)
    seed_ms "$W_LATE" delivery 80000000 DLV-1 $(d 50)
    seed_ms "$W_LATE" acceptance 80000000 ACC-1 $(d 55)
    seed_ms "$W_LATE" invoice 80000000 INV-DLV $(d 59)
    # A contract paid in full on day 99: ATCC waits since then.
    W_PAID=$(seed_lead province-a 50000000 "Paid in full")
    seed_contract "$W_PAID" 50000000
    seed_ms "$W_PAID" delivery 50000000 D $(d 31)
    seed_ms "$W_PAID" acceptance 50000000 A $(d 32)
    seed_ms "$W_PAID" invoice 50000000 I $(d 33)
    seed_ms "$W_PAID" payment 50000000 P $(d 99)
    # Closed three ways: won (after ATCC), lost (an opportunity), dropped (a lead).
    W_WON=$(seed_lead province-a 20000000 "Won")
    seed_contract "$W_WON" 20000000
    seed_ms "$W_WON" delivery 20000000 D $(d 31)
    seed_ms "$W_WON" acceptance 20000000 A $(d 32)
    seed_ms "$W_WON" invoice 20000000 I $(d 33)
    seed_ms "$W_WON" payment 20000000 P $(d 50)
    seed_act "$W_WON" pa-admin-token "{\"action\":\"decide\",\"kdp\":\"ATCC\",\"outcome\":\"approve\",\"margin\":24,\"at\":\"$(d 55)\"}"
    seed_act "$W_WON" hq-admin-token "{\"action\":\"close\",\"reason\":\"delivered and paid\",\"at\":\"$(d 56)\"}"
    W_LOST=$(seed_lead province-b 30000000 "Lost")
    seed_act "$W_LOST" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 2)\"}"
    seed_act "$W_LOST" hq-admin-token "{\"action\":\"close\",\"reason\":\"competitor won\",\"at\":\"$(d 29)\"}"
    W_DROP=$(seed_lead province-a 1000000 "Dropped")
    seed_act "$W_DROP" hq-admin-token "{\"action\":\"review\",\"decision\":\"close\",\"note\":\"no budget\",\"at\":\"$(d 3)\"}"
    # North (city-c): an ATI under North's own matrix once it is approved.
    W_NORTH=$(seed_lead city-c 60000000 "North ATI")
    seed_act "$W_NORTH" hq-admin-token "{\"action\":\"review\",\"decision\":\"convert\",\"at\":\"$(d 7)\"}"
}
