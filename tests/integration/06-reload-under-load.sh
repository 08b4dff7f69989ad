#!/bin/sh
# 100 reloads of a region's thresholds during sustained load: zero failed requests.
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || { echo "# wrk missing"; exit 1; }
start_daemon --auto-approve --sync normal || exit 1
wrk -t2 -c16 -d8s -s "$ROOT/tests/fixtures/wrk/post-lead.lua" "$URL/v1/leads" >"$WORK/wrk" 2>&1 &
WRK=$!
sleep 0.5
fails=0; i=0
while [ $i -lt 100 ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: Bearer south-admin-token' \
        --data-binary "return { hot = $(( 60 + i % 30 )), warm = 30 } -- reload $i" "$URL/v1/rules/region/south/thresholds.lua")
    [ "$code" = 201 ] || fails=$((fails + 1))
    i=$((i + 1)); sleep 0.04
done
wait $WRK
check "100 reloads were all accepted" [ $fails = 0 ]
reqs=$(awk '/requests in/ { print $1 }' "$WORK/wrk")
check "load ran during the reloads ($reqs requests)" [ "${reqs:-0}" -gt 1000 ]
check "no request failed (no non-2xx, no socket errors)" sh -c "! grep -qE 'Non-2xx|Socket errors' '$WORK/wrk'"
grep -E 'Non-2xx|Socket errors' "$WORK/wrk" | sed 's/^/# /'
v=$(api GET /v1/rules hq-viewer-token | jq -r '.owners[] | select(.owner == "region/south") | .active.version')
check "region/south ends at version 101" [ "$v" = 101 ]
if on_pg; then n=$(sql "SELECT count(DISTINCT rules::json ->> 'region/south') FROM events")
else n=$(sql "SELECT count(DISTINCT json_extract(rules, '\$.\"region/south\"')) FROM events"); fi
check "leads were evaluated under many versions ($n)" [ "$n" -gt 10 ]
stop_daemon
finish
