#!/bin/sh
# Start-up errors, flags, signals and exit codes (CONTRACT section 1).
. "$(dirname "$0")/lib.sh"

"$LTCD" --version | grep -q '^ltcd [0-9]'; check "--version prints the version" [ $? = 0 ]
"$LTCD" --help | grep -q -- '--check-rules'; check "--help lists every flag" [ $? = 0 ]

startup_fails() { # NAME ARGS...: exits 1, and the last line says why in one "ltcd: " line
    _n=$1; shift
    "$LTCD" "$@" >/dev/null 2>"$WORK/err"; _rc=$?
    if [ $_rc = 1 ] && tail -1 "$WORK/err" | grep -q '^ltcd: '; then ok "$_n"; else not_ok "$_n" "rc=$_rc: $(cat "$WORK/err")"; fi
}
startup_fails "unknown flag" --frobnicate
startup_fails "bad --sync value" --sync maybe
startup_fails "unreadable database" --db /proc/nonexistent/ltc.db --rules "$ROOT/rules" --listen 127.0.0.1:0
mkdir -p "$WORK/broken/hq"; cp "$ROOT"/rules/hq/*.lua "$WORK/broken/hq/"
echo 'return {' >"$WORK/broken/hq/lead.lua"
startup_fails "broken HQ rules" --db "$WORK/b.db" --rules "$WORK/broken" --listen 127.0.0.1:0
check "the broken HQ file and line are named" grep -q 'hq/lead.lua:2:' "$WORK/err"
startup_fails "missing tokens file" --db "$WORK/c.db" --tokens /nonexistent --listen 127.0.0.1:0
echo 'tok hq emperor' >"$WORK/badtokens"
startup_fails "malformed tokens file" --db "$WORK/d.db" --tokens "$WORK/badtokens" --listen 127.0.0.1:0
startup_fails "listen address not numeric" --db "$WORK/e.db" --listen example.com:80
(cd "$WORK" && "$LTCD" --db postgresql://ltc@127.0.0.1:1/ltc --listen 127.0.0.1:0 >/dev/null 2>"$WORK/err"); _rc=$?
[ $_rc = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q 'cannot connect to PostgreSQL' "$WORK/err" &&
    [ ! -e "$WORK/postgresql:" ]
ok_if "an unreachable PostgreSQL --db fails at start in one line, and nothing is made of the URI"
(cd "$WORK" && "$LTCD" --backup "$WORK/pg-copy.db" --db postgresql://ltc:secret@127.0.0.1:1/ltc >/dev/null 2>"$WORK/err"); _rc=$?
[ $_rc = 1 ] && grep -q 'pg_dump' "$WORK/err" && ! grep -q secret "$WORK/err" && [ ! -e "$WORK/pg-copy.db" ]
ok_if "--backup of a PostgreSQL database is refused, pointing to pg_dump"

start_daemon --auto-approve || exit 1
startup_fails "port already in use" --db "$WORK/f.db" --rules "$ROOT/rules" --listen "127.0.0.1:$PORT"

# SIGTERM while writes are in flight: each acknowledged write is committed.
: >"$WORK/acked"
for i in 1 2 3 4 5 6 7 8; do
    (out=$(curl -s -w '\n%{http_code}' -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads"); \
     [ "$(echo "$out" | tail -1)" = 201 ] && echo "$out" | head -1 | jq -r .id >>"$WORK/acked") &
done
sleep 0.05
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=""
wait
check "SIGTERM under load exits 0" [ $rc = 0 ]
n=0; for id in $(cat "$WORK/acked"); do
    [ "$(sql "SELECT count(*) FROM instances WHERE id=$id")" = 1 ] || n=$((n + 1)); done
check "every write acknowledged before the stop is stored ($(wc -l <"$WORK/acked") acked)" [ $n = 0 ]

start_daemon --auto-approve || exit 1
kill -INT "$PID"; wait "$PID"; rc=$?; PID=""
check "SIGINT exits 0" [ $rc = 0 ]

start_daemon --auto-approve --log-format json || exit 1
curl -s "$URL/health" >/dev/null
stop_daemon
check "--log-format json writes one JSON object a line" sh -c "tail -3 '$WORK/log' | jq -e .msg >/dev/null"
finish
