#!/bin/sh
# Operating ltcd: /metrics (parsed), logs with request ids, --help, the
# systemd unit, make install into a DESTDIR.
. "$(dirname "$0")/lib.sh"
PROMPARSE="$ROOT/${LTC_BUILD:-build}/promparse"
start_daemon --auto-approve --log-format json || exit 1

curl -s "$URL/metrics" >"$WORK/m0"
check "/metrics answers without a token and parses" sh -c "'$PROMPARSE' <'$WORK/m0'"
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null
api POST /v1/leads pa-ar-token '{' >/dev/null
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'while true do end' >/dev/null
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 66 }' >/dev/null
api PUT /v1/rules/office/city-c/tools.lua cc-admin-token 'for i = 1, 100 do host.log("chatty " .. i) end return {}' >/dev/null
curl -s -o /dev/null "$URL/v1/%ff%fe"
curl -s "$URL/metrics" >"$WORK/m1"
check "after traffic /metrics still parses" sh -c "'$PROMPARSE' <'$WORK/m1'"
metric() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/m1"; }
[ "$(metric 'ltcd_http_requests_total{route="/v1/leads",status="201"}')" = 1 ] && [ "$(metric 'ltcd_http_requests_total{route="/v1/leads",status="400"}')" = 1 ]; ok_if "requests are counted by route and status"
check "a latency histogram per route" [ "$(metric 'ltcd_http_request_duration_seconds_count{route="/v1/leads"}')" = 2 ]
check "budget kills are counted by owner" [ "$(metric 'ltcd_rule_calls_total{owner="office/province-a",outcome="budget"}')" = 1 ]
check "rule calls by owner" [ "$(metric 'ltcd_rule_calls_total{owner="hq",outcome="ok"}')" -gt 0 ]
check "reloads by outcome" [ "$(metric 'ltcd_rule_loads_total{outcome="failed"}')" -ge 1 ]
check "active versions by owner" [ "$(metric 'ltcd_rule_active_version{owner="region/south"}')" = 2 ]
check "instances by stage" [ "$(metric 'ltcd_instances{stage="lead"}')" = 1 ]
check "commit latency" [ "$(metric 'ltcd_commit_duration_seconds_count')" -ge 1 ]
stop_daemon
# (start_daemon retries on a port in use: those attempts end with a plain "ltcd: " line)
grep -v '^ltcd: ' "$WORK/log" >"$WORK/jsonlog"
check "every log line is one JSON object" sh -c "jq -s -e 'all(.ts and .level and .msg)' '$WORK/jsonlog' >/dev/null"
check "a write is logged with req_id, method, path, status, actor and duration_ms" sh -c "jq -s -e 'any(.req_id != null and .method == \"POST\" and .path == \"/v1/leads\" and .status == 201 and .actor == \"office/province-a:ar\" and (.duration_ms | type) == \"number\")' '$WORK/jsonlog' >/dev/null"
[ "$(grep -c chatty "$WORK/jsonlog")" = 9 ] && grep -q "further host.log lines of this run dropped" "$WORK/jsonlog"; ok_if "host.log is rate-limited per run (9 lines and a notice)"
check "a refused request is logged with error_code and error_message" sh -c "jq -s -e 'any(.req_id != null and .status == 400 and .error_code == \"invalid_json\" and (.error_message | length) > 0)' '$WORK/jsonlog' >/dev/null"
check "a path with bytes that are not UTF-8 still gives a JSON line" sh -c "jq -s -e 'any(.status == 404 and (.path | test(\"^/v1/\\ufffd\")))' '$WORK/jsonlog' >/dev/null"

for f in --listen --db --rules --tokens --auto-approve --no-watch --sync --log-format --check-rules --backup --restore --copy-db --version; do
    "$LTCD" --help | grep -q -- "$f" || { not_ok "ltcd --help documents $f"; continue; }
done
ok "ltcd --help documents every flag"
for c in health "lead create" "lead list" events review assign decide sign milestone close document receivables "rules simulate" "rules rollback" "shares run" "targets show"; do
    "$LTCCTL" --help | grep -q -- "$c" || not_ok "ltcctl --help documents $c"
done
ok "ltcctl --help documents every command"

make -s -C "$ROOT" install DESTDIR="$WORK/dest" PREFIX=/usr BIN="${LTC_BIN:-bin}" BUILD="${LTC_BUILD:-build}" >/dev/null 2>&1
[ -x "$WORK/dest/usr/bin/ltcd" ] && [ -x "$WORK/dest/usr/bin/ltcctl" ] && [ -f "$WORK/dest/usr/share/man/man8/ltcd.8" ] && [ -f "$WORK/dest/usr/share/ltcd/rules/hq/org.lua" ]; ok_if "make install honours DESTDIR and PREFIX"
check "the installed daemon runs" sh -c "'$WORK/dest/usr/bin/ltcd' --version | grep -q ltcd"
check "the installed unit points at the installed binary" grep -q 'ExecStart=/usr/bin/ltcd ' "$WORK/dest/usr/lib/systemd/system/ltcd.service"
check "the unit is Type=notify with a watchdog" sh -c "grep -q '^Type=notify' '$WORK/dest/usr/lib/systemd/system/ltcd.service' && grep -q '^WatchdogSec=' '$WORK/dest/usr/lib/systemd/system/ltcd.service'"
if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|@BINDIR@|$ROOT/${LTC_BIN:-bin}|" "$ROOT/examples/ltcd.service" >"$WORK/ltcd.service"
    check "systemd-analyze verify accepts the unit" sh -c "systemd-analyze verify '$WORK/ltcd.service' 2>&1 | grep -v -e 'not executable' -e 'Failed to' -e 'ltcd.service: Command' | grep -q . && exit 1 || exit 0"
    systemd-analyze verify "$WORK/ltcd.service" 2>&1 | sed 's/^/# /' | head -5
else
    echo "# systemd-analyze not installed: unit check skipped"
fi
check "man pages format" sh -c "man -l '$ROOT/examples/man/ltcd.8' >/dev/null 2>&1 || groff -man -Tutf8 '$ROOT/examples/man/ltcd.8' >/dev/null 2>&1 || true"
finish
