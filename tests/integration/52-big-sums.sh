#!/bin/sh
# Kept sums past 2^63 (the funnel's, credit exposure's, the ledger's and the
# pipeline's): every amount is at most 2^53 fen, but 1,024 of them in one
# office made one 64-bit sum overflow, and every later create there, and
# GET /v1/funnel, answered 500. Now each sum is kept exactly in two columns;
# what the API reports is held at 2^53 (README "Money").
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
start_daemon || exit 1
MAX=9007199254740992 # 2^53
BIG=$(echo "$LEAD" | jq -c ".budget.amount = $MAX")
N=1030
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null
expect "an ordinary lead first" 201
first=$(jq -r .id <"$WORK/body")
seq 1 $N | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer pa-ar-token' \
    --data-binary "$BIG" "$URL/v1/leads" >"$WORK/codes"
check "$N leads of 2^53 fen in one office: each 201" [ "$(grep -c '^201$' "$WORK/codes")" = $N ]
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null
expect "a lead after them is created" 201
last=$(jq -r .id <"$WORK/body")

api GET /v1/funnel hq-admin-token >/dev/null
expect "the funnel answers" 200
lead=$(jq -c '.stages[] | select(.stage == "lead") | [.count, .value]' <"$WORK/body")
check "its lead stage counts every lead and holds its value at 2^53 ($lead)" [ "$lead" = "[$((N + 2)),$MAX]" ]
api GET /v1/funnel pa-admin-token >/dev/null
expect "the office's funnel answers" 200
check "... held at 2^53 too" [ "$(jq '.stages[] | select(.stage == "lead") | .value' <"$WORK/body")" = $MAX ]

# The kept sum itself is exact: hi * 2^32 + lo, computed without overflow.
got=$(sql "SELECT value_hi, value_lo FROM funnel_sums WHERE office = 'province-a' AND stage = 'lead'")
want=$(python3 -c "print($N * 2**53 + 2 * 60000000)")
check "the kept sum is exact past 2^63 ($got)" [ "$(python3 -c "h, l = '$got'.split('|'); print(int(h) * 2**32 + int(l))")" = "$want" ]

# Closing the big ones brings the figure back to exact.
sql "SELECT id FROM instances WHERE id NOT IN ($first, $last)" | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer pa-ar-token' \
    --data-binary '{"action":"close","reason":"test"}' "$URL/v1/instances/{}/actions" >"$WORK/closed"
check "the big ones closed: each 200" [ "$(grep -c '^200$' "$WORK/closed")" = $N ]
api GET /v1/funnel pa-admin-token >/dev/null
lead=$(jq -c '.stages[] | select(.stage == "lead") | [.count, .value]' <"$WORK/body")
check "the two ordinary leads left sum exactly ($lead)" [ "$lead" = "[2,120000000]" ]
stop_daemon
ok_if "the daemon stops cleanly"
finish
