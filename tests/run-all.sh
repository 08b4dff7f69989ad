#!/bin/sh
# Every suite: unit tests, rule lint and the integration suites on SQLite,
# then every integration suite again on PostgreSQL (each in a database of its
# own in one throwaway cluster) when PostgreSQL is installed. The last line is
# the grand total "N passed, N failed" of both halves.
#   LTC_BIN / LTC_BUILD  the build (bin/build or bin-asan/build-asan)
#   LTC_DBS              where the integration suites run: "sqlite postgresql"
#                        (the default, make test) or "postgresql" (make test-pg)
#   LTC_PG_SUITES        the suites of the PostgreSQL half (default: all of them)
#   LTC_SUITES           the suites of the SQLite half (default: all of them)
#   LTC_UNITS            the unit tests (default: all of them; empty: none)
cd "$(dirname "$0")/.." || exit 1
export LTC_BIN=${LTC_BIN:-bin}
DBS=${LTC_DBS:-sqlite postgresql}
units=${LTC_UNITS-$(ls tests/unit/*_test.c | sed "s|tests/unit/\(.*\)\.c|${LTC_BUILD:-build}/\1|")}
suites=${LTC_SUITES:-$(ls tests/integration/[0-9][0-9]-*.sh)}
pg_suites=${LTC_PG_SUITES:-$suites}
mkdir -p tests/out
: >tests/out/all.txt
passed=0; failed=0
# half NAME SUITES...: runs them, adds their total to the grand one; the
# half's own total is kept as a comment so that the grand total is the last line.
half() {
    _name=$1; shift
    _t0=$(date +%s)
    sh tests/run-suites.sh "$@" 2>&1 | sed "\$s/^\([0-9]* passed, [0-9]* failed\)\$/# $_name: \1/" |
        tee -a tests/out/all.txt
    echo "# $_name took $(($(date +%s) - _t0)) s"
    _line=$(tail -1 tests/out/all.txt)
    case $_line in
    "# $_name: "*" passed, "*" failed") ;;
    *) echo "# $_name: 0 passed, 1 failed (no total)" | tee -a tests/out/all.txt; _line=$(tail -1 tests/out/all.txt) ;;
    esac
    set -- ${_line#"# $_name: "}
    passed=$((passed + $1)); failed=$((failed + $3))
}
# A throwaway PostgreSQL cluster for the unit tests' PostgreSQL half and the
# suites on PostgreSQL (LTC_PG_URI), stopped and removed however the run ends.
PGDIR=""
if sh scripts/pg-cluster.sh installed; then
    PGDIR=$(mktemp -d /tmp/ltcd-pg.XXXXXX)
    trap 'sh scripts/pg-cluster.sh stop "$PGDIR"' EXIT
    trap 'exit 130' INT TERM # so that EXIT's stop runs on a signal too
    LTC_PG_URI=$(sh scripts/pg-cluster.sh start "$PGDIR") || { echo "0 passed, 1 failed"; exit 1; }
    export LTC_PG_URI
else
    echo "# PostgreSQL is not installed (scripts/install-deps.sh): the suites run on SQLite only" |
        tee -a tests/out/all.txt
    case $DBS in *sqlite*) DBS=sqlite ;; *) echo "0 passed, 1 failed"; exit 1 ;; esac
fi
case $DBS in
*sqlite*) half SQLite $units tests/lint-rules.sh $suites ;;
*) half units $units ;;
esac
case $DBS in
*postgresql*) export LTC_TEST_DB=postgresql; half PostgreSQL $pg_suites ;;
esac
echo "$passed passed, $failed failed" | tee -a tests/out/all.txt
[ "$failed" -eq 0 ]
