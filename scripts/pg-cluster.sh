#!/bin/sh
# A throwaway PostgreSQL cluster for the tests and the benchmark, in a
# directory of its own, listening on 127.0.0.1 only, run as the postgres user
# (the server refuses root). Nothing of it outlives 'stop'.
#   sh scripts/pg-cluster.sh start DIR [PORT]   prints the database's URI
#   sh scripts/pg-cluster.sh stop DIR
#   sh scripts/pg-cluster.sh down DIR    the server killed (immediate), its data kept
#   sh scripts/pg-cluster.sh up DIR      started again on the same port
#   sh scripts/pg-cluster.sh installed   exits 0 when PostgreSQL is installed
# Needs Debian's postgresql-15 (scripts/install-deps.sh installs it).
set -eu
cmd=${1:-}; dir=${2:-}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ "$cmd" = installed ] && { [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ]; exit $?; }
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|down|up DIR [PORT] | installed" >&2; exit 2; }
[ -n "$PGBIN" ] || { echo "pg-cluster: PostgreSQL is not installed" >&2; exit 1; }
as_pg() { # run as the server's user when we are root
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
serve() {
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $1 -k $dir -c max_connections=200 -c shared_buffers=64MB" \
        start >/dev/null
}
case $cmd in
down) as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
up) serve "$(cat "$dir/port")" || { cat "$dir/server.log" >&2; exit 1; } ;;
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U ltc -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    # Durable as the tests expect of a database (fsync on), small and quiet.
    # A random port may be taken by another listener: a few others then.
    for attempt in 1 2 3 4 5; do
        port=${3:-$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))}
        serve "$port" && break
        [ -z "${3:-}" ] && [ "$attempt" -lt 5 ] && grep -q 'already in use' "$dir/server.log" ||
            { cat "$dir/server.log" >&2; exit 1; }
    done
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U ltc ltc
    echo "$port" >"$dir/port"
    echo "postgresql://ltc@127.0.0.1:$port/ltc"
    ;;
stop)
    [ -d "$dir/data" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop|down|up DIR [PORT]" >&2; exit 2 ;;
esac
