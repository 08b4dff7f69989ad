#!/bin/sh
# ltcd --copy-db DEST --db SRC (CONTRACT 8.5): a populated database copied in
# all four directions (SQLite and PostgreSQL, to and from each), verified by
# counts and hashes; a daemon on each copy answers the reads as on the
# source, byte for byte; refusals change nothing; a copy killed with -9
# leaves no DEST a daemon would take.
#
# The source is made on the half's database (SQLite, or PostgreSQL under
# LTC_TEST_DB=postgresql) and each copy is made from it or from a copy of
# the other kind, so one half covers all four directions: the PostgreSQL
# half of make test skips, the SQLite half did it all (make test-pg, which
# has no SQLite half, runs it with the source on PostgreSQL). PostgreSQL
# comes from run-all's cluster (LTC_PG_URI), else a cluster of the suite's
# own; without PostgreSQL the directions through it are skipped, saying so.
. "$(dirname "$0")/lib.sh"
if on_pg; then
    case ${LTC_DBS:-sqlite postgresql} in
    *sqlite*)
        ok "all four directions ran in the SQLite half of this run"
        finish
        exit $?
        ;;
    esac
fi
TOKENS="$ROOT/tests/fixtures/leads-tokens.conf"
PGC=""
PGBASE=""
PGMADE=""
if [ -n "${LTC_PG_URI:-}" ]; then
    PGBASE=${LTC_PG_URI%/*}
elif sh "$ROOT/scripts/pg-cluster.sh" installed; then
    PGC=$(mktemp -d /tmp/ltcd-copy-pg.XXXXXX)
    U=$(sh "$ROOT/scripts/pg-cluster.sh" start "$PGC") && PGBASE=${U%/*}
fi
drop_pg() {
    for d in $PGMADE; do psql -X -q "$PGBASE/postgres" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
    [ -n "$PGC" ] && sh "$ROOT/scripts/pg-cluster.sh" stop "$PGC"
}
trap 'drop_pg; cleanup' EXIT
TAG=$(basename "$WORK" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
# pg_new NAME: a new, empty database in the cluster; prints its URI.
pg_new() {
    psql -X -q "$PGBASE/postgres" -c "CREATE DATABASE c_${TAG}_$1" >/dev/null || return 1
    PGMADE="$PGMADE c_${TAG}_$1"
    echo "$PGBASE/c_${TAG}_$1"
}
# on DB SQL: rows of SQL on DB (a path or a URI).
on() { case $1 in postgres*) psql -X -q -At -F'|' "$1" -c "$2" ;; *) sqlite3 "$1" "$2" ;; esac; }

# --- a populated source -----------------------------------------------------------
SRC=$DB
start_daemon --auto-approve || exit 1
act() { api POST "/v1/instances/$1/actions" hq-admin "$2" >/dev/null; }
api PUT /v1/people/amy hq-admin '{"name":"Amy","office":"province-a","roles":["ar"]}' >/dev/null
api PUT /v1/people/bob hq-admin '{"name":"Bob","office":"province-a","roles":["ar","sr"]}' >/dev/null
api PUT /v1/customers/acme province-a-admin '{"name":"ACME Telecom","office":"province-a","credit_limit":50000000}' >/dev/null
expect "people and a customer are stored" 201
for i in 1 2 3 4 5 6; do
    api POST /v1/leads province-a-ar "$(echo "$LEAD" | jq -c --arg t "lead $i é" '.title = $t')" >/dev/null
done
expect "six leads are created" 201
flow() { # ID VALUE: a contract signed and paid in 2026
    act "$1" '{"action":"review","decision":"convert"}'
    act "$1" '{"action":"assign","ar":"amy","sr":"bob","fr":"Qian"}'
    for k in ATI ATB ATC; do act "$1" "{\"action\":\"decide\",\"kdp\":\"$k\",\"outcome\":\"approve\",\"value\":$2,\"discount\":5,\"margin\":33.3}"; done
    act "$1" "{\"action\":\"sign\",\"value\":$2,\"net_days\":30,\"terms\":[{\"milestone\":\"delivery\",\"percent\":100}],\"at\":\"2026-02-01\"}"
    for m in delivery acceptance invoice payment; do act "$1" "{\"action\":\"milestone\",\"kind\":\"$m\",\"amount\":$2,\"at\":\"2026-03-01\"}"; done
}
flow 1 700000000
flow 2 300000001
act 3 '{"action":"reevaluate"}'
api POST /v1/reviews province-a-reviewer '{"unit":"office/province-a","held_at":"2026-01-15","decisions":[{"instance":4,"decision":"nurture"}]}' >/dev/null
expect "a review meeting is stored" 201
api POST /v1/activities province-a-ar '{"person":"amy","customer":"acme","kind":"visit","at":"2026-01-20"}' >/dev/null
expect "an activity is stored" 201
api PUT /v1/targets/hq/2026 hq-admin '{"metric":"cash","amount":2000000000}' >/dev/null
expect "a target is set" 200
api PUT /v1/rules/region/south/thresholds.lua south-admin 'return { hot = 60, warm = 30, mature_budget = 50000000, horizon_months = 9 }' >/dev/null
RUN=$(api POST /v1/shares/runs hq-admin '{"period":"2026","pool":1000003}' | jq .id)
expect "an allocation run is stored" 201
stop_daemon
[ "$(on "$SRC" 'SELECT count(*) FROM ledger')" -gt 0 ] && [ "$(on "$SRC" 'SELECT count(*) FROM share_run_parts')" -gt 0 ] &&
    [ "$(on "$SRC" 'SELECT count(*) FROM rule_versions')" -gt 1 ] && [ "$(on "$SRC" 'SELECT count(*) FROM funnel_sums')" -gt 0 ]
ok_if "the source has ledger rows, run parts, rule versions and summaries"

# The reads compared, each into FILE-PREFIX.N.
READS="/v1/instances?limit=100 /v1/instances/1 /v1/instances/1/events /v1/instances/2/events
/v1/instances/4/events /v1/events?limit=200 /v1/funnel /v1/rules /v1/rules/region/south/versions
/v1/rules/hq/versions /v1/targets?period=2026 /v1/shares/runs/$RUN /v1/people /v1/customers
/v1/activities /v1/pipeline?period=2026 /v1/reviews/queue?unit=office/province-a"
reads() { # DB OUT-PREFIX
    _was=$DB; DB=$1
    start_daemon || { DB=$_was; return 1; }
    n=0
    for p in $READS; do n=$((n + 1)); api GET "$p" hq-admin >"$2.$n"; echo " $(status)" >>"$2.$n"; done
    stop_daemon
    DB=$_was
}
same_reads() { # PREFIX-A PREFIX-B: prints the first read that differs
    n=0
    for p in $READS; do
        n=$((n + 1))
        cmp -s "$1.$n" "$2.$n" || { echo "# differs: $p"; diff "$1.$n" "$2.$n" | head -4 | sed 's/^/#   /'; return 1; }
    done
}
reads "$SRC" "$WORK/r.src" && grep -q ' 200$' "$WORK/r.src.1" && ! grep -L ' 200$' "$WORK/r.src".* | grep -q .
ok_if "the source answers every read (200)"
HASH=""
# copy NAME DEST FROM: ltcd --copy-db, its line checked; reads on DEST compared.
copy() {
    out=$("$LTCD" --copy-db "$2" --db "$3" 2>"$WORK/err")
    rc=$?
    [ $rc = 0 ] && [ -n "$out" ] && [ "$(echo "$out" | wc -l)" = 1 ] || { not_ok "$1: copied" "exit $rc: $(cat "$WORK/err")"; return 1; }
    h=$(echo "$out" | sed -n 's/.*events hash \([0-9a-f]*\);.*/\1/p')
    [ -z "$HASH" ] && HASH=$h
    echo "$out" | grep -q 'schema [0-9]*, 6 instances, [0-9]* events, [0-9]* rows in 25 tables, verified' && [ "$h" = "$HASH" ] &&
        ! echo "$out" | grep -q 'password'
    ok_if "$1: one line, 6 instances, verified, the same events hash"
    case $2 in postgres*) ;; *) [ -s "$2" ] && [ ! -e "$2-wal" ] && [ ! -e "$2-journal" ]; ok_if "$1: one whole file (nothing beside it to replay)" ;; esac
    reads "$2" "$WORK/r.$1" && same_reads "$WORK/r.src" "$WORK/r.$1"
    ok_if "$1: a daemon on the copy answers every read as on the source, byte for byte"
}
kind() { case $1 in postgres*) echo pg ;; *) echo sqlite ;; esac; }
# SAME and BACK are of SRC's kind (from SRC, and from OTHER), OTHER and TWIN
# of the other kind (from SRC, and from OTHER): the four directions. SQ: a
# SQLite copy.
SAME=$WORK/same.db; on_pg && SAME=$(pg_new same)
if [ -n "$PGBASE" ]; then
    OTHER=$(pg_new other); BACK=$WORK/back.db; TWIN=$(pg_new twin)
    on_pg && { OTHER=$WORK/other.db; BACK=$(pg_new back); TWIN=$WORK/twin.db; }
    copy "$(kind "$SRC")-to-$(kind "$OTHER")" "$OTHER" "$SRC"
    copy "$(kind "$SRC")-to-$(kind "$SAME")" "$SAME" "$SRC"
    copy "$(kind "$OTHER")-to-$(kind "$BACK")" "$BACK" "$OTHER"
    copy "$(kind "$OTHER")-to-$(kind "$TWIN")" "$TWIN" "$OTHER"
else
    OTHER=""
    ok "PostgreSQL is not installed: the directions through it are skipped"
    copy sqlite-to-sqlite "$SAME" "$SRC"
fi
SQ=$SAME; on_pg && SQ=$OTHER

# PostgreSQL's sequences start past the copied ids: a new lead gets a new id.
if [ -n "$OTHER" ]; then
    PGCOPY=$OTHER; [ "$(kind "$PGCOPY")" = pg ] || PGCOPY=$BACK
    _was=$DB; DB=$PGCOPY
    start_daemon --auto-approve && id=$(api POST /v1/leads province-a-ar "$LEAD" | jq .id) &&
        act "$id" '{"action":"reevaluate"}' &&
        api POST /v1/activities province-a-ar '{"person":"amy","customer":"acme","kind":"call","at":"2026-01-21"}' >/dev/null
    [ "$id" = 7 ] && [ "$(status)" = 201 ]
    ok_if "on a PostgreSQL copy new ids follow the copied ones (lead $id, a new activity)"
    stop_daemon
    DB=$_was
fi

# --- refusals change nothing ---------------------------------------------------------
fingerprint() { # (sqlite3 would make a missing file)
    case $1 in postgres*) ;; *) [ -e "$1" ] || { echo none; return; } ;; esac
    on "$1" 'SELECT count(*) FROM instances' 2>&1; ls -l "$1" 2>/dev/null | awk '{print $5}'
}
refused() { # NAME DEST SRC PATTERN
    before=$(fingerprint "$2")
    "$LTCD" --copy-db "$2" --db "$3" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ $rc = 1 ] && [ ! -s "$WORK/out" ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q "^ltcd: .*$4" "$WORK/err" &&
        [ "$(fingerprint "$2")" = "$before" ]
    ok_if "$1: refused ($(head -c 150 "$WORK/err")), DEST unchanged"
}
refused "a SQLite DEST that holds a database" "$SQ" "$SRC" "exists"
[ -n "$OTHER" ] && refused "a PostgreSQL DEST that holds ltcd tables" "$PGCOPY" "$SRC" "already holds ltcd tables"
if [ -n "$PGBASE" ]; then
    # Listings order by text keys: in a locale's order they would not come
    # as from SQLite (byte order), so such a DEST is refused.
    if psql -X -q "$PGBASE/postgres" -c "CREATE DATABASE c_${TAG}_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" >/dev/null 2>&1; then
        PGMADE="$PGMADE c_${TAG}_icu"
        refused "a PostgreSQL DEST that sorts text in a locale's order" "$PGBASE/c_${TAG}_icu" "$SRC" "not in bytes as SQLite does"
        [ "$(on "$PGBASE/c_${TAG}_icu" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ]
        ok_if "... and it holds no table"
    else
        ok "PostgreSQL without ICU: no DEST in a locale's order to refuse"
    fi
fi
refused "a missing SRC" "$WORK/new1.db" "$WORK/nothing.db" "no such database"
[ ! -e "$WORK/new1.db" ]
ok_if "... and no DEST is made"
refused "SRC equal to DEST" "$SQ" "$SQ" "same database"
_was=$DB; DB=$SQ
start_daemon
"$LTCD" --copy-db "$WORK/served.db" --db "$SQ" >/dev/null 2>"$WORK/err" && [ "$(on "$WORK/served.db" 'SELECT count(*) FROM instances')" = 6 ]
ok_if "a SRC a daemon serves is copied ($(cat "$WORK/err"))"
stop_daemon
cp "$SQ" "$WORK/held.db" && DB="$WORK/held.db" && start_daemon
before=$(fingerprint "$WORK/held.db")
"$LTCD" --copy-db "$WORK/held.db" --db "$SRC" >/dev/null 2>"$WORK/err"
[ $? = 1 ] && grep -q '^ltcd: .* is in use' "$WORK/err" && [ "$(fingerprint "$WORK/held.db")" = "$before" ]
ok_if "a DEST a daemon serves is refused ($(cat "$WORK/err")), unchanged"
stop_daemon
DB=$_was
cp "$SQ" "$WORK/newer.db" && sqlite3 "$WORK/newer.db" 'PRAGMA user_version=99'
refused "a SRC of a newer schema" "$WORK/new2.db" "$WORK/newer.db" "newer than this ltcd"
cp "$SQ" "$WORK/older.db" && sqlite3 "$WORK/older.db" 'PRAGMA user_version=12'
refused "a SRC of an older schema" "$WORK/new3.db" "$WORK/older.db" "older than this ltcd"
cp "$SQ" "$WORK/bad.db" && printf 'garbage!garbage!' | dd of="$WORK/bad.db" bs=1 seek=0 conv=notrunc 2>/dev/null
refused "a corrupted SRC" "$WORK/new4.db" "$WORK/bad.db" "."
[ ! -e "$WORK/new2.db" ] && [ ! -e "$WORK/new3.db" ] && [ ! -e "$WORK/new4.db" ] && ! ls "$WORK" | grep -q copy-tmp
ok_if "refused copies leave no DEST and no temporary file"

# --- kill -9 during a copy ----------------------------------------------------------------
# A larger source, so that the copy is still running when it is killed:
# killed once its temporary file has grown (SQLite) or once its transaction
# has written (PostgreSQL).
cp "$SQ" "$WORK/big.db"
sqlite3 "$WORK/big.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
  INSERT INTO instances(stage, region, office, temperature, doc, created_at, updated_at, last_seq)
  SELECT 'lead', 'south', 'province-a', 'warm', '{\"pad\":\"' || hex(randomblob(200)) || '\"}', 1, 1, 0 FROM n"
writing() { # TARGET PID: the copy has begun to write
    case $1 in
    postgres*) [ "$(on "$1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ltcd'
                   AND datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()")" -gt 0 ] &&
               [ "$(on "$1" "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'
                   AND pid <> pg_backend_pid()")" -gt 20 ] ;;
    *) [ "$(stat -c %s "$1.copy-tmp-$2" 2>/dev/null || echo 0)" -gt 1000000 ] ;;
    esac
}
KILLED="$WORK/killed.db"; [ -n "$PGBASE" ] && KILLED="$KILLED $(pg_new killed)"
for target in $KILLED; do
    "$LTCD" --copy-db "$target" --db "$WORK/big.db" >/dev/null 2>&1 &
    k=$!
    i=0; until writing "$target" $k || [ $i -ge 200 ]; do i=$((i + 1)); sleep 0.02; done
    kill -0 $k 2>/dev/null && [ $i -lt 200 ]
    ok_if "a copy to $(kind "$target") is killed while it writes"
    kill -9 $k 2>/dev/null; wait $k 2>/dev/null
    sleep 0.2 # the server ends the killed session's transaction
    case $target in
    postgres*) [ "$(on "$target" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ] ;;
    *) [ ! -e "$target" ] ;;
    esac
    ok_if "kill -9 during a copy to $(kind "$target"): no DEST, nothing a daemon would take"
    "$LTCD" --copy-db "$target" --db "$WORK/big.db" >/dev/null 2>"$WORK/err" &&
        [ "$(on "$target" 'SELECT count(*) FROM instances')" = 60006 ]
    ok_if "... and the copy done again is whole $(cat "$WORK/err")"
done
! ls "$WORK" | grep -q copy-tmp
ok_if "the next copy removed what the killed one left"

finish
