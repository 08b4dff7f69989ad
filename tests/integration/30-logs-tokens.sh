#!/bin/sh
# Structured logs and the tokens file (issue 15 item 4, CONTRACT 8.1):
# every --log-format json line is an object with ts, level and msg, a
# request's line has req_id, method, path, status, actor, duration_ms and on
# an error error_code and error_message; a warning when no principals are
# loaded; SIGHUP re-reads the tokens file (a bad file keeps the principals
# loaded before and says why); a unit the org tree lacks, or a token on two
# lines, is refused at start (exit 1, one line naming file, line and unit)
# and on SIGHUP.
. "$(dirname "$0")/lib.sh"
jqe() { jq -e "$@" >/dev/null; }

# run_plain LOG [FLAGS...]: a daemon on a free port without start_daemon's --tokens.
run_plain() {
    _log=$1; shift
    make_db || return 1
    for attempt in 1 2 3 4 5; do # a port in use: another one
        PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
        "$LTCD" --listen "127.0.0.1:$PORT" --db "$DB" --rules "$WORK/rules" --log-format json "$@" >"$_log" 2>&1 &
        PID=$!
        URL="http://127.0.0.1:$PORT"
        i=0
        while [ $i -lt 200 ]; do
            curl -fs "$URL/health" >/dev/null 2>&1 && return 0
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.05; i=$((i + 1))
        done
        kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
    done
    PID=""
    return 1
}
me() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$URL/v1/me"; }
# wait_log FILE PATTERN: up to 5 s for a line matching PATTERN.
wait_log() {
    i=0
    while [ $i -lt 100 ]; do grep -q "$2" "$1" && return 0; sleep 0.05; i=$((i + 1)); done
    return 1
}

# --- no principals: a warning at start ------------------------------------------
run_plain "$WORK/none.log" || { echo "# could not start ltcd"; exit 1; }
check "without --tokens every /v1 request is 401" [ "$(me pa-ar-token)" = 401 ]
jq -e -s 'any(.level == "warn" and (.msg | test("no principals loaded")))' "$WORK/none.log" >/dev/null
ok_if "without --tokens a warning says no principals are loaded"
stop_daemon
: >"$WORK/empty.conf"
run_plain "$WORK/empty.log" --tokens "$WORK/empty.conf" || { echo "# could not start ltcd"; exit 1; }
jq -e -s 'any(.level == "warn" and (.msg | test("no principals loaded \\(.*empty.conf\\)")))' "$WORK/empty.log" >/dev/null
ok_if "an empty tokens file gives the warning too, naming the file"
stop_daemon
run_plain "$WORK/some.log" --tokens "$TOKENS" || { echo "# could not start ltcd"; exit 1; }
stop_daemon
check "with principals there is no such warning" sh -c "! grep -q 'no principals' '$WORK/some.log'"

# --- an unknown unit is refused at start --------------------------------------------
printf 'a-token hq admin\nb-token region/nowhere admin\n' >"$WORK/unknown.conf"
"$LTCD" --listen 127.0.0.1:1 --db "$DB" --rules "$WORK/rules" --tokens "$WORK/unknown.conf" >"$WORK/out" 2>&1
rc=$?
check "a unit the org tree lacks: exit 1" [ "$rc" = 1 ]
check "one error line, the last (the lines before are the rules' load log)" [ "$(grep -c '^ltcd: ' "$WORK/out")" = 1 ]
check "naming file, line and unit" sh -c "tail -1 '$WORK/out' | grep -q \"^ltcd: $WORK/unknown.conf:2: unit 'region/nowhere' is not in the org tree (hq/org.lua)\$\""
printf 'c-token office/city-z ar\n' >"$WORK/unknown2.conf"
"$LTCD" --listen 127.0.0.1:1 --db "$DB" --rules "$WORK/rules" --tokens "$WORK/unknown2.conf" >"$WORK/out" 2>&1
[ $? = 1 ] && grep -q "unknown2.conf:1: unit 'office/city-z'" "$WORK/out"; ok_if "an unknown office too"
# One token, one principal: a token on two lines is refused, not the first line winning.
printf 'a-token hq admin\nb-token office/city-c ar\na-token hq viewer\n' >"$WORK/twice.conf"
"$LTCD" --listen 127.0.0.1:1 --db "$WORK/db2" --rules "$WORK/rules" --tokens "$WORK/twice.conf" >"$WORK/out" 2>&1
[ $? = 1 ] && [ "$(grep -c '^ltcd: ' "$WORK/out")" = 1 ] &&
    grep -q "^ltcd: $WORK/twice.conf:3: the token of line 1 again (each token names one principal)\$" "$WORK/out"
ok_if "a token on two lines: exit 1, one line naming both lines"

# --- SIGHUP re-reads the tokens file ---------------------------------------------
cp "$TOKENS" "$WORK/tokens.conf"
run_plain "$WORK/log" --tokens "$WORK/tokens.conf" || { echo "# could not start ltcd"; exit 1; }
check "pa-ar-token works" [ "$(me pa-ar-token)" = 200 ]
grep -v pa-ar-token "$TOKENS" >"$WORK/tokens.conf"
echo "new-token office/city-c ar" >>"$WORK/tokens.conf"
kill -HUP "$PID"
wait_log "$WORK/log" 'principal(s) loaded from'; ok_if "SIGHUP logs the principals it loaded"
check "a token added to the file works after SIGHUP" [ "$(me new-token)" = 200 ]
check "a token removed from the file is refused after SIGHUP" [ "$(me pa-ar-token)" = 401 ]
# A bad file keeps the principals loaded before and says why.
cp "$WORK/tokens.conf" "$WORK/good.conf"
echo "broken-line-without-role office/city-c" >>"$WORK/tokens.conf"
kill -HUP "$PID"
wait_log "$WORK/log" "tokens.conf:[0-9]*: expected 'TOKEN UNIT ROLE \[PERSON\]'"; ok_if "a bad tokens file on SIGHUP is logged with file and line"
jq -e -s "any(.level == \"warn\" and (.msg | test(\"keeping the [0-9]+ principal\")))" "$WORK/log" >/dev/null; ok_if "... as a warning that the old principals stay"
check "the old principals still answer" [ "$(me new-token)" = 200 ]
check "... and no others" [ "$(me pa-ar-token)" = 401 ]
cp "$WORK/good.conf" "$WORK/tokens.conf"
echo "third-token region/atlantis viewer" >>"$WORK/tokens.conf"
kill -HUP "$PID"
wait_log "$WORK/log" "unit 'region/atlantis' is not in the org tree"; ok_if "an unknown unit on SIGHUP is logged"
check "... and the old principals stay" [ "$(me new-token)" = 200 ] && check "... the refused file's tokens do not" [ "$(me third-token)" = 401 ]
rm -f "$WORK/tokens.conf"
kill -HUP "$PID"
wait_log "$WORK/log" "cannot open tokens file"; ok_if "a missing tokens file on SIGHUP keeps the principals too"
check "... which still answer" [ "$(me new-token)" = 200 ]
cp "$WORK/good.conf" "$WORK/tokens.conf"

# --- the JSON lines ------------------------------------------------------------
api POST /v1/leads new-token "$(echo "$LEAD" | jq -c '.office = "city-c"')" >/dev/null; expect "a write" 201
api POST /v1/leads new-token '{"office":' >/dev/null; expect "a refused write" 400
curl -s -o /dev/null "$URL/v1/me"
curl -s -o /dev/null "$URL/v1/nowhere"
stop_daemon
grep -v '^ltcd: ' "$WORK/log" >"$WORK/json"
check "every line is one JSON object with ts, level and msg" jqe -s 'length > 5 and all(type == "object" and (.ts | type) == "string" and (.level | IN("debug", "info", "warn", "error")) and (.msg | type) == "string")' "$WORK/json"
check "ts is an ISO 8601 UTC time" jqe -s 'all(.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))' "$WORK/json"
check "a write: req_id, method, path, status, actor, duration_ms" jqe -s 'any(.method == "POST" and .path == "/v1/leads" and .status == 201 and .actor == "office/city-c:ar" and (.req_id | type) == "string" and (.duration_ms | type) == "number")' "$WORK/json"
check "an error: error_code and error_message too" jqe -s 'any(.status == 400 and .error_code == "invalid_json" and (.error_message | length) > 0 and .actor == "office/city-c:ar")' "$WORK/json"
check "a request refused before authentication has actor null" jqe -s 'any(.status == 401 and .path == "/v1/me" and has("actor") and .actor == null and .error_code == "unauthenticated")' "$WORK/json"
check "every request line has all six fields" jqe -s '[.[] | select(.status)] | length >= 4 and all(has("req_id") and has("method") and has("path") and has("status") and has("actor") and has("duration_ms"))' "$WORK/json"
check "every error line has error_code and error_message" jqe -s '[.[] | select(.status >= 400)] | length >= 3 and all(has("error_code") and has("error_message"))' "$WORK/json"
finish
