# tests/integration/lib.sh: helpers for integration tests (sourced).
# Each test script starts real ltcd daemons on free loopback ports, with a
# temporary database and a copy of the rules, and talks HTTP with curl.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${LTC_BIN:-bin}
LTCD="$ROOT/$BIN/ltcd"
LTCCTL="$ROOT/$BIN/ltcctl"
TOKENS="$ROOT/examples/tokens.conf"
T_PASSED=0
T_FAILED=0
T_N=0
WORK=$(mktemp -d /tmp/ltcd-it.XXXXXX)
PID=""
# The suite's database: $WORK/db, or with LTC_TEST_DB=postgresql (make
# test-pg) a database of its own in the cluster of LTC_PG_URI, made at the
# first start_daemon and dropped at the end.
DB="$WORK/db"
PG_DBNAME=""
if [ "${LTC_TEST_DB:-sqlite}" = postgresql ]; then
    PG_DBNAME="t_$(basename "$WORK" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
    DB="${LTC_PG_URI%/*}/$PG_DBNAME"
fi
on_pg() { [ -n "$PG_DBNAME" ]; }
# sql QUERY: rows of QUERY on the suite's database, columns '|'-separated.
sql() {
    if on_pg; then psql -X -q -At -F'|' -v ON_ERROR_STOP=1 "$DB" -c "$1"
    else sqlite3 "$DB" "$1"; fi
}
# new_id SEQUENCE: SQL for a fresh id in a bulk INSERT: NULL on SQLite (the
# rowid), nextval of the sequence ltcd takes its ids from on PostgreSQL.
new_id() { if on_pg; then echo "nextval('$1')"; else echo NULL; fi; }
# db_integrity: "ok" when the suite's database is sound: SQLite's PRAGMA
# integrity_check, or on PostgreSQL amcheck over every table of ltcd's (its
# heap, verify_heapam, and each b-tree index with its heap, bt_index_check).
db_integrity() {
    if on_pg; then
        sql "CREATE EXTENSION IF NOT EXISTS amcheck;
            SELECT CASE WHEN (SELECT count(*) FROM pg_class c, verify_heapam(c.oid)
                              WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace) = 0
                         AND (SELECT count(bt_index_check(i.indexrelid, true)) FROM pg_index i
                              JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
                              WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace) > 0
                    THEN 'ok' ELSE 'corrupt' END" 2>&1
    else sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1; fi
}
# sqlite_only WHY: a suite (or the rest of one) that tests SQLite's own files
# ends here on PostgreSQL, saying why.
sqlite_only() {
    on_pg || return 0
    echo "# SQLite only from here: $1"
    finish
    exit $?
}

cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ -n "$PG_DBNAME" ] && psql -X -q "$LTC_PG_URI" -c "DROP DATABASE IF EXISTS $PG_DBNAME WITH (FORCE)" >/dev/null 2>&1
    [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { T_N=$((T_N + 1)); T_PASSED=$((T_PASSED + 1)); echo "ok $T_N - $1"; }
not_ok() {
    T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $1"
    [ $# -gt 1 ] && echo "# $2"
    [ -f "$WORK/log" ] && tail -5 "$WORK/log" | sed 's/^/#   log: /'
    return 0
}
# check NAME COMMAND...: passes when the command succeeds. For a chain of
# conditions write `A && B; ok_if NAME`: `check NAME A && B` would check A only.
check() { _name=$1; shift; if "$@"; then ok "$_name"; else not_ok "$_name" "failed: $*"; fi; }
# ok_if NAME: passes when the command just before (a whole && chain) succeeded.
ok_if() { _rc=$?; if [ "$_rc" = 0 ]; then ok "$1"; else not_ok "$1" "exit $_rc"; fi; }

finish() {
    echo "$T_PASSED passed, $T_FAILED failed"
    [ "$T_FAILED" -eq 0 ]
}

# make_db: $WORK/rules, and on PostgreSQL the suite's database, made once (for
# suites that start ltcd themselves).
make_db() {
    [ -d "$WORK/rules" ] || cp -r "$ROOT/rules" "$WORK/rules"
    if on_pg && [ ! -f "$WORK/pg-made" ]; then
        psql -X -q "$LTC_PG_URI" -c "CREATE DATABASE $PG_DBNAME" >/dev/null && touch "$WORK/pg-made" ||
            { echo "# could not make database $PG_DBNAME"; return 1; }
    fi
    return 0
}

# start_daemon [FLAGS...]: a daemon on a free port over $WORK/rules and
# $DB; sets URL and PID. Reuses both across restarts.
start_daemon() {
    make_db || return 1
    for attempt in 1 2 3 4 5; do
        PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
        "$LTCD" --listen "127.0.0.1:$PORT" --db "$DB" --rules "$WORK/rules" \
            --tokens "$TOKENS" --www "$ROOT/engine/www" "$@" >>"$WORK/log" 2>&1 &
        PID=$!
        URL="http://127.0.0.1:$PORT"
        i=0
        while [ $i -lt 100 ]; do
            if curl -fs "$URL/health" >/dev/null 2>&1; then return 0; fi
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.05; i=$((i + 1))
        done
        kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
    done
    echo "# could not start ltcd"; tail -5 "$WORK/log"
    return 1
}

stop_daemon() {
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    _stop_rc=$? # not 'rc': callers keep their own rc across a stop
    PID=""
    return $_stop_rc
}

# api METHOD PATH TOKEN [BODY]: prints the body; the status goes to $WORK/status.
api() {
    _m=$1; _p=$2; _tok=$3; shift 3
    if [ $# -gt 0 ]; then
        curl -s -o "$WORK/body" -w '%{http_code}' -X "$_m" -H "Authorization: Bearer $_tok" \
            --data-binary "$1" "$URL$_p" >"$WORK/status"
    else
        curl -s -o "$WORK/body" -w '%{http_code}' -X "$_m" -H "Authorization: Bearer $_tok" \
            "$URL$_p" >"$WORK/status"
    fi
    cat "$WORK/body"
}
status() { cat "$WORK/status"; }

# expect NAME STATUS [CODE]: the last api call answered STATUS (and error CODE).
expect() {
    _st=$(status)
    if [ "$_st" != "$2" ]; then not_ok "$1" "status $_st, want $2: $(head -c 300 "$WORK/body")"; return; fi
    if [ $# -gt 2 ]; then
        _code=$(jq -r '.error.code' <"$WORK/body" 2>/dev/null)
        if [ "$_code" != "$3" ]; then not_ok "$1" "code $_code, want $3: $(head -c 300 "$WORK/body")"; return; fi
    fi
    ok "$1"
}

LEAD='{"office":"province-a","customer":"ACME Telecom","title":"5G core","source":"sales","budget":{"amount":60000000,"currency":"CNY","status":"approved"},"horizon_months":6,"signals":{"strategic_fit":4,"urgency":5,"relationship":4,"coach":3,"solution_maturity":4}}'

instance_count() { sql 'SELECT count(*) FROM instances'; }
