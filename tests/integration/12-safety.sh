#!/bin/sh
# Operator safety nets (CONTRACT 8.1): one daemon per database; online backups under
# write load, with the backup and the daemon killed by SIGKILL at moments spread over a
# backup's run; checked restores that never replay a stale WAL; GET /health and the
# writes of a daemon whose disk fills up (a real full tmpfs), and its recovery.
# On PostgreSQL several nodes may serve one database (CONTRACT 8.5): two nodes
# on it take writes, one is killed by SIGKILL under load and loses nothing
# acknowledged; the rest (lock files, backups of a file, WAL, a full disk) is
# SQLite's own.
. "$(dirname "$0")/lib.sh"
ROUNDS=${SAFETY_ROUNDS:-8}
FULL="$WORK/full"
W1=""
A_PID=""

safety_cleanup() {
    [ -n "$W1" ] && kill "$W1" 2>/dev/null
    [ -n "$A_PID" ] && kill -9 "$A_PID" 2>/dev/null && wait "$A_PID" 2>/dev/null
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    PID=""
    mountpoint -q "$FULL" 2>/dev/null && umount "$FULL"
    cleanup
}
trap safety_cleanup EXIT

one_line() { [ "$(wc -l <"$1")" = 1 ]; }
# refused NAME PATTERN ARGS...: ltcd ARGS exits 1 with one line on stderr matching PATTERN.
refused() {
    _n=$1; _p=$2; shift 2
    "$LTCD" "$@" >/dev/null 2>"$WORK/err"; _rc=$?
    if [ $_rc = 1 ] && one_line "$WORK/err" && grep -q -- "$_p" "$WORK/err"; then ok "$_n"
    else not_ok "$_n" "rc=$_rc: $(cat "$WORK/err")"; fi
}
# done_ok NAME PATTERN ARGS...: ltcd ARGS exits 0 with one line on stdout matching PATTERN.
done_ok() {
    _n=$1; _p=$2; shift 2
    "$LTCD" "$@" >"$WORK/out" 2>"$WORK/err"; _rc=$?
    if [ $_rc = 0 ] && one_line "$WORK/out" && grep -q -- "$_p" "$WORK/out" && [ ! -s "$WORK/err" ]; then ok "$_n"
    else not_ok "$_n" "rc=$_rc: $(cat "$WORK/out" "$WORK/err")"; fi
}
# health: GET /health into $WORK/health; prints the status code.
health() { curl -s -o "$WORK/health" -w '%{http_code}' "$URL/health"; }
# health_is CODE STATUS [REASON-REGEX]: GET /health answers CODE with that status (and reason).
health_is() {
    [ "$(health)" = "$1" ] && jq -e --arg s "$2" --arg r "${3:-}" \
        '.status == $s and ($r == "" or (.reason | test($r)))' "$WORK/health" >/dev/null
}
integrity() { sqlite3 "$1" 'PRAGMA integrity_check' 2>&1; }
ids_of() { # the suite's own database is read with sql: it may be PostgreSQL's
    if [ "$1" = "$DB" ]; then sql 'SELECT id FROM instances ORDER BY id' 2>/dev/null
    else sqlite3 "$1" 'SELECT id FROM instances ORDER BY id' 2>/dev/null; fi
}
# missing DB ACKED: how many acknowledged ids of the file ACKED are not in DB.
missing() { ids_of "$1" | sort >"$WORK/have"; sort -u "$2" | comm -23 - "$WORK/have" | grep -c .; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

: >"$WORK/acked"
writer() { # appends the id of every acknowledged lead to $WORK/acked
    while :; do
        out=$(curl -s -m 5 -w '\n%{http_code}' -H 'Authorization: Bearer pa-ar-token' --data-binary "$LEAD" "$URL/v1/leads" 2>/dev/null) || continue
        [ "$(echo "$out" | tail -1)" = 201 ] && echo "$out" | head -1 | jq -r .id >>"$WORK/acked"
    done
}
start_writer() { writer & W1=$!; }
stop_writer() { [ -n "$W1" ] && kill "$W1" 2>/dev/null; wait "$W1" 2>/dev/null; W1=""; }

# --- one daemon per database ------------------------------------------------------------
start_daemon --auto-approve --no-watch || exit 1
if on_pg; then
    A_PID=$PID; A_URL=$URL
    start_daemon --auto-approve --no-watch || exit 1
    B_PID=$PID; B_URL=$URL
    check "a second ltcd on the same PostgreSQL database starts: several nodes" [ "$B_PID" != "$A_PID" ]
    a=$(api POST /v1/leads pa-ar-token "$LEAD" | jq .id); expect "the second node takes writes" 201
    URL=$A_URL; b=$(api POST /v1/leads pa-ar-token "$LEAD" | jq .id); expect "and so does the first" 201
    check "with distinct ids ($a, $b)" [ "$a" != "$b" ]
    URL=$B_URL; start_writer
    sleep 0.5
    kill -9 "$B_PID"; wait "$B_PID" 2>/dev/null; PID=$A_PID; URL=$A_URL
    stop_writer
    check "the killed node had acknowledged writes ($(wc -l <"$WORK/acked"))" [ -s "$WORK/acked" ]
    check "after kill -9 of one node under write load the other serves on" health_is 200 ok
    check "and every write the killed node acknowledged is stored" [ "$(missing "$DB" "$WORK/acked")" = 0 ]
    api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "the other node still takes writes" 201
    stop_daemon; A_PID=""
    check "the database is sound (amcheck)" [ "$(db_integrity)" = ok ]
    sqlite_only "one daemon per file (its lock file), backups and restores of a file, its WAL, a full disk"
fi
refused "a second ltcd on a served database exits 1 with one line naming it and the holder's pid" \
    "^ltcd: database $WORK/db is in use by another ltcd (pid $PID)$" \
    --listen 127.0.0.1:0 --db "$WORK/db" --rules "$WORK/rules"
refused "another spelling of the same path is refused too" "in use by another ltcd (pid $PID)" \
    --listen 127.0.0.1:0 --db "$WORK/../$(basename "$WORK")/./db" --rules "$WORK/rules"
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "the first daemon still takes writes" 201
old=$PID
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
check "after kill -9 the lock file still names the dead daemon" [ "$(cat "$WORK/db.lock")" = "$old" ]
start_daemon --auto-approve --no-watch
check "and a daemon starts on it at once (the kernel freed the lock)" [ -n "$PID" ]
stop_daemon
check "a clean stop empties the lock file" [ ! -s "$WORK/db.lock" ]

# A database big enough for a backup to take a while, so kills land inside it.
sqlite3 "$WORK/db" "WITH RECURSIVE n(i) AS (SELECT (SELECT max(id) + 1 FROM instances) UNION ALL
    SELECT i + 1 FROM n WHERE i < 30000) INSERT INTO instances(id, stage, region, office,
    temperature, doc, created_at, updated_at, last_seq) SELECT i, 'lead', 'south', 'province-a',
    'cold', '{\"id\":' || i || ',\"pad\":\"' || hex(randomblob(600)) || '\"}', 0, 0, 1 FROM n;
    INSERT INTO events SELECT id, 1, 0, 'bulk:load', 'create', '{}', '{}', '{}', NULL FROM instances
    WHERE id NOT IN (SELECT instance_id FROM events);"
ok_if "the bulk load of 30,000 instances and their events succeeds"
sqlite3 "$WORK/db" 'SELECT id FROM instances' >"$WORK/acked"

# --- online backup under write load -----------------------------------------------------
start_daemon --auto-approve --no-watch || exit 1
start_writer
sleep 0.3
cp "$WORK/acked" "$WORK/acked.before"
t0=$(now_ms)
done_ok "ltcd --backup while the daemon serves writes exits 0 with one line naming DEST" \
    "written to $WORK/b0.db" --backup "$WORK/b0.db" --db "$WORK/db"
dur=$(( $(now_ms) - t0 ))
echo "# a backup took $dur ms"
check "the backup passes PRAGMA integrity_check" [ "$(integrity "$WORK/b0.db")" = ok ]
check "it holds every write acknowledged before it began" [ "$(missing "$WORK/b0.db" "$WORK/acked.before")" = 0 ]
check "it is one file, with no -wal beside it and no temporary left" sh -c "[ ! -e '$WORK/b0.db-wal' ] && ! ls '$WORK' | grep -q 'tmp-'"

# --- kill -9 of backups at moments spread over a backup's run -------------------------------
killed=0; completed=0; bad=0
r=1
while [ $r -le "$ROUNDS" ]; do
    rm -f "$WORK/kb.db"
    cp "$WORK/acked" "$WORK/acked.before"
    "$LTCD" --backup "$WORK/kb.db" --db "$WORK/db" >/dev/null 2>&1 &
    B=$!
    # From the start of the run to well past its end (a loaded machine runs it slower).
    ms=$(( dur * r * 25 / (ROUNDS * 10) + $(od -An -N1 -tu1 /dev/urandom) % 10 ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$B" 2>/dev/null; wait "$B" 2>/dev/null
    if [ ! -e "$WORK/kb.db" ]; then
        killed=$((killed + 1))
    elif [ "$(integrity "$WORK/kb.db")" = ok ] && [ "$(missing "$WORK/kb.db" "$WORK/acked.before")" = 0 ]; then
        completed=$((completed + 1)); cp "$WORK/kb.db" "$WORK/last-complete.db"; cp "$WORK/acked.before" "$WORK/acked.last-complete"
    else
        bad=$((bad + 1)); echo "# round $r: DEST exists but is not a complete backup"
    fi
    r=$((r + 1))
done
echo "# $killed backups killed before they finished, $completed finished first"
check "every killed backup left DEST absent or complete and checked ($ROUNDS rounds)" [ $bad = 0 ]
check "some backups were killed before they finished" [ $killed -gt 0 ]
"$LTCD" --backup "$WORK/kb.db" --db "$WORK/db" >/dev/null 2>&1
check "the next backup removes what the killed ones left" sh -c "! ls '$WORK' | grep -q 'tmp-'"
check "the daemon serves on, healthy, through the killed backups" health_is 200 ok

# --- kill -9 of the daemon while a backup runs ------------------------------------------------
daemon_bad=0
r=1
while [ $r -le 3 ]; do
    [ -n "$PID" ] || start_daemon --auto-approve --no-watch || exit 1
    [ -n "$W1" ] || start_writer
    sleep 0.2
    cp "$WORK/acked" "$WORK/acked.before"
    rm -f "$WORK/db-during.db"
    "$LTCD" --backup "$WORK/db-during.db" --db "$WORK/db" >/dev/null 2>"$WORK/err" &
    B=$!
    ms=$(( dur * r / 4 ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
    stop_writer
    wait "$B"; rc=$?
    if [ $rc != 0 ] || [ "$(integrity "$WORK/db-during.db")" != ok ] || [ "$(missing "$WORK/db-during.db" "$WORK/acked.before")" != 0 ]; then
        daemon_bad=$((daemon_bad + 1)); echo "# round $r: rc=$rc $(cat "$WORK/err")"
    fi
    start_daemon --auto-approve --no-watch || { daemon_bad=$((daemon_bad + 1)); break; }
    r=$((r + 1))
done
check "a backup finishes, whole, when the daemon is killed under it (3 rounds)" [ $daemon_bad = 0 ]
check "the daemon restarts on its database and every acknowledged write is there" [ "$(missing "$DB" "$WORK/acked")" = 0 ]

# --- restore -------------------------------------------------------------------------------
refused "ltcd --restore while a daemon serves the database exits 1 with one line" \
    "in use by another ltcd (pid $PID)" --restore "$WORK/b0.db" --db "$WORK/db"

# A backup, then more acknowledged writes, then a crash: the old WAL holds those writes.
start_writer
sleep 0.3
stop_writer
"$LTCD" --backup "$WORK/b1.db" --db "$WORK/db" >/dev/null 2>&1
cp "$WORK/acked" "$WORK/acked.b1"
start_writer
sleep 0.5
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
stop_writer
check "the crashed daemon left writes in its WAL" [ -s "$WORK/db-wal" ]
n_b1=$(sqlite3 "$WORK/b1.db" 'SELECT count(*) FROM instances')
mkdir "$WORK/naive"; cp "$WORK/b1.db" "$WORK/naive/db"; cp "$WORK/db-wal" "$WORK/naive/db-wal"
check "(control) copying the backup over the database would replay the old WAL over it" [ "$(sqlite3 "$WORK/naive/db" 'SELECT count(*) FROM instances; PRAGMA integrity_check' 2>&1)" != "$(printf '%s\nok' "$n_b1")" ]

# Page 2 (the first table's root) gets a nonsense b-tree header.
cp "$WORK/b1.db" "$WORK/damaged.db"
printf '\015\000\060\377\377\377' | dd of="$WORK/damaged.db" bs=1 seek=4096 conv=notrunc 2>/dev/null
cp "$WORK/db" "$WORK/db.copy"; cp "$WORK/db-wal" "$WORK/db-wal.copy"
refused "a damaged backup is refused: exit 1, one line" "integrity\|malformed" \
    --restore "$WORK/damaged.db" --db "$WORK/db"
check "and the database is untouched, WAL included" sh -c "cmp -s '$WORK/db' '$WORK/db.copy' && cmp -s '$WORK/db-wal' '$WORK/db-wal.copy'"
cp "$WORK/b1.db" "$WORK/newer.db"; sqlite3 "$WORK/newer.db" 'PRAGMA user_version=999'
refused "a backup from a newer ltcd is refused" "newer than this ltcd" --restore "$WORK/newer.db" --db "$WORK/db"
sqlite3 "$WORK/other.db" 'CREATE TABLE t(x); PRAGMA user_version=2'
refused "a database that is not ltcd's is refused" "not an ltcd database" --restore "$WORK/other.db" --db "$WORK/db"
refused "a missing backup is refused" "no backup file" --restore "$WORK/nothing.db" --db "$WORK/db"

done_ok "ltcd --restore of a sound backup exits 0 with one line naming it" \
    "restored from $WORK/b1.db" --restore "$WORK/b1.db" --db "$WORK/db"
check "no -wal or -shm of the old database is left" sh -c "[ ! -e '$WORK/db-wal' ] && [ ! -e '$WORK/db-shm' ]"
check "the old database is kept, its WAL folded in" [ "$(missing "$WORK/db.before-restore" "$WORK/acked")" = 0 ]
start_daemon --auto-approve --no-watch || exit 1
check "the daemon serves exactly the backup ($n_b1 instances)" [ "$(sqlite3 "$WORK/db" 'SELECT count(*) FROM instances')" = "$n_b1" ]
check "with every write acknowledged before the backup" [ "$(missing "$WORK/db" "$WORK/acked.b1")" = 0 ]
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "and it takes writes" 201
stop_daemon
check "the restored database passes PRAGMA integrity_check" [ "$(integrity "$WORK/db")" = ok ]
if [ -e "$WORK/last-complete.db" ]; then
    "$LTCD" --restore "$WORK/last-complete.db" --db "$WORK/r/db" >/dev/null 2>&1
    check "a backup that finished before its kill restores, with every write acknowledged before it" [ "$(missing "$WORK/r/db" "$WORK/acked.last-complete")" = 0 ]
fi

# --- a full disk ------------------------------------------------------------------------------
mkdir -p "$FULL"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=4m ltcd-test "$FULL" 2>/dev/null; then
    echo "# skip: the full-disk checks need root to mount a 4 MiB tmpfs"
    finish
    exit $?
fi
start_daemon --auto-approve --no-watch --db "$FULL/db" || exit 1
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "a daemon on a 4 MiB tmpfs takes writes" 201
avail=$(df -k --output=avail "$FULL" | tail -1)
dd if=/dev/zero of="$FULL/filler" bs=1k count=$((avail - 256)) 2>/dev/null
last=1; n=0
while [ $n -lt 2000 ]; do
    body=$(api POST /v1/leads pa-ar-token "$LEAD")
    [ "$(status)" = 201 ] || break
    last=$(echo "$body" | jq .id); n=$((n + 1))
done
echo "# $n more leads fitted"
expect "once the disk is full a write is answered 503" 503 unavailable
check "with an error that says it was not recorded and why" sh -c "jq -r .error.message '$WORK/body' | grep -q 'not recorded.*full'"
# Take the last free blocks too, so that not even a one-page commit fits.
dd if=/dev/zero of="$FULL/filler2" bs=4k 2>/dev/null
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null
check "GET /health answers 503 degraded with the reason" health_is 503 degraded full
check "/metrics says so (ltcd_storage_degraded 1)" sh -c "curl -s '$URL/metrics' | grep -qx 'ltcd_storage_degraded 1'"
for i in 1 2 3; do api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; done
expect "writes keep failing cleanly while it is full" 503 unavailable
api GET "/v1/instances/$last" hq-viewer-token >/dev/null; expect "reads still work" 200
rm -f "$FULL/filler" "$FULL/filler2"
i=0; until [ "$(health)" = 200 ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
check "once there is room /health is 200 again, with no restart and no client write" health_is 200 ok
check "and ltcd_storage_degraded is 0" sh -c "curl -s '$URL/metrics' | grep -qx 'ltcd_storage_degraded 0'"
body=$(api POST /v1/leads pa-ar-token "$LEAD")
expect "writes succeed again" 201
check "the failed writes burnt no ids (next id $((last + 1)))" [ "$(echo "$body" | jq .id)" = $((last + 1)) ]
stop_daemon
check "after a restart the ids are gap-free and the database is sound" [ "$(sqlite3 "$FULL/db" 'SELECT count(*) = max(id) FROM instances; PRAGMA integrity_check' | tr '\n' ,)" = "1,ok," ]
umount "$FULL"
finish
