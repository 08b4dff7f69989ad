#!/bin/sh
# The scope of an allocation run follows each line's own place in the tree:
# a team member's name used in two regions (and on two projects of one
# region) never brings the other region's person lines into a region's or an
# office's view, and every view's sums still balance.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve || exit 1

act() { api POST "/v1/instances/$2/actions" "$1" "$3" >/dev/null; }
# flow OFFICE TOKEN VALUE MARGIN AR SR FR: a contract paid in full in 2026.
flow() {
    _id=$(api POST /v1/leads "$2" "$(echo "$LEAD" | jq -c --arg o "$1" '.office = $o')" | jq -r .id)
    act hq-admin-token "$_id" '{"action":"review","decision":"convert"}'
    act hq-admin-token "$_id" "{\"action\":\"assign\",\"ar\":\"$5\",\"sr\":\"$6\",\"fr\":\"$7\"}"
    for k in ATI ATB ATC; do act hq-admin-token "$_id" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":$3,\"discount\":5,\"margin\":$4}"; done
    act hq-admin-token "$_id" "{\"action\":\"sign\",\"value\":$3,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"2026-02-01\"}"
    for m in delivery acceptance invoice payment; do act hq-admin-token "$_id" "{\"action\":\"milestone\",\"kind\":\"$m\",\"amount\":$3,\"at\":\"2026-03-01\"}"; done
    echo "$_id"
}
# Li and Wang work in the south (Li on two projects) and, other people of the
# same names, in the north; the north project is the last, so a lookup of
# person/Li by name finds it.
A=$(flow province-a pa-ar-token 700000000 25 Li Wang Zhao)
B=$(flow province-b pb-ar-token 300000000 40 Zhou Li Qian)
C=$(flow city-c cc-admin-token 500000000 10 Li Wang Sun)
check "three paid contracts" [ "$(sql "SELECT count(*) FROM ledger WHERE kind='cash'")" = 3 ]
run=$(api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}'); expect "a run" 201
ID=$(echo "$run" | jq .id)
echo "$run" >"$WORK/run"

# expected UNIT: the lines of the HQ run in UNIT's subtree, each placed by its
# own parent (the person lines through their project, never by name).
expected() {
    jq -c --arg u "$1" '
        (.lines | map(select(.level != "person") | {key: .unit, value: .parent}) | from_entries) as $up
        | def reaches($p): if $p == null then false elif $p == $u then true else reaches($up[$p]) end;
        [.lines[] | select(.unit == $u or reaches(.parent))] | sort_by(.unit, .parent)' "$WORK/run"
}
# balanced VIEW-JSON: under every parent present in the view, the lines sum to its amount
balanced() {
    echo "$1" | jq -e '
        (.lines | map({key: .unit, value: .amount}) | from_entries) as $amt
        | [.lines | group_by(.parent)[] | select($amt[.[0].parent] != null)
           | (map(.amount) | add) == $amt[.[0].parent]] | all' >/dev/null
}
people() { echo "$1" | jq -c '[.lines[] | select(.level == "person") | .unit + "@" + .parent] | sort'; }

for who in south-admin-token:region/south north-admin-token:region/north pa-admin-token:office/province-a pb-ar-token:office/province-b cc-admin-token:office/city-c; do
    tok=${who%%:*} unit=${who#*:}
    view=$(api GET "/v1/shares/runs/$ID" "$tok"); expect "$unit reads the run" 200
    check "$unit: exactly its own lines" [ "$(echo "$view" | jq -c '.lines | sort_by(.unit, .parent)')" = "$(expected "$unit")" ]
    check "$unit: its sums balance" balanced "$view"
    check "$unit: its own line is there" [ "$(echo "$view" | jq --arg u "$unit" '[.lines[] | select(.unit == $u)] | length')" = 1 ]
    echo "$view" >"$WORK/view-${unit#*/}"
done
south=$(cat "$WORK/view-south") north=$(cat "$WORK/view-north")
check "south: Li's two south lines, no north one" [ "$(people "$south" | jq -c 'map(select(startswith("person/Li@")))')" = "[\"person/Li@project/$A\",\"person/Li@project/$B\"]" ]
check "north: Li's north line only" [ "$(people "$north" | jq -c 'map(select(startswith("person/Li@")))')" = "[\"person/Li@project/$C\"]" ]
check "north: Wang's north line only" [ "$(people "$north" | jq -c 'map(select(startswith("person/Wang@")))')" = "[\"person/Wang@project/$C\"]" ]
check "no view shares a person line with another region's" [ "$(people "$south" | jq -c --argjson n "$(people "$north")" '. - (. - $n)')" = '[]' ]
amount_of() { echo "$1" | jq --arg p "project/$2" '[.lines[] | select(.unit == "person/Li" and .parent == $p) | .amount, .contribution]'; }
check "Li's south amounts and contributions are the HQ run's" [ "$(amount_of "$south" "$A" | jq -c .)" = "$(amount_of "$run" "$A" | jq -c .)" ]
check "... and the north's are the north's" [ "$(amount_of "$north" "$C" | jq -c .)" = "$(amount_of "$run" "$C" | jq -c .)" ]
check "the person lines of both regions are all the run's" [ "$(people "$run")" = "$(jq -nc --argjson a "$(people "$south")" --argjson b "$(people "$north")" '$a + $b | sort')" ]

# A person's unit is the whole name: two long names (27 CJK characters, 81
# bytes, then one different) stay two people, and no name is cut inside a
# character, so every view still parses.
L27=$(printf '\346\235\216%.0s' $(seq 27))
D=$(flow province-b pb-ar-token 100000000 30 "${L27}甲" "${L27}乙" Feng)
run=$(api POST /v1/shares/runs hq-admin-token '{"period":"2026","pool":1000003}'); expect "a run with long names" 201
[ "$(echo "$run" | jq --arg p "project/$D" '[.lines[] | select(.parent == $p) | .unit] | unique | length')" = 3 ] && [ "$(echo "$run" | jq -r --arg p "project/$D" '.lines[] | select(.parent == $p and .inputs.role == "sr") | .unit')" = "person/${L27}乙" ]; ok_if "two long names are two units, whole"
view=$(api GET "/v1/shares/runs/$(echo "$run" | jq .id)" pb-ar-token); expect "the office reads it" 200
check "the office's view parses and balances" balanced "$view"
check "and holds the long names" [ "$(echo "$view" | jq -r --arg u "person/${L27}甲" '[.lines[] | select(.unit == $u)] | length')" = 1 ]
stop_daemon
finish
