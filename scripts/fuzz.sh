#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ and runs each for SECONDS
# (default 60) from its seeds. Crashes are saved under build-fuzz/.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
OUT=build-fuzz
mkdir -p "$OUT"
# The engine's objects, and the OpenAPI document compiled from engine/openapi.json.
OBJS="$(ls engine/*.c | grep -v -e main.c -e ltcctl | sed "s|engine/\(.*\)\.c|$OUT/obj/\1.o|") $OUT/obj/openapi_doc.o"
# shellcheck disable=SC2086
make --no-print-directory BUILD=$OUT/obj BIN=$OUT/bin CC=clang-14 \
    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
    $OBJS >/dev/null
PKGS="lua5.4 libuv sqlite3 jansson libsodium libsystemd libpq"
status=0
for src in tests/fuzz/*_fuzz.c; do
    name=$(basename "$src" _fuzz.c)
    clang-14 -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -std=c11 \
        -D_GNU_SOURCE -Iengine $(pkg-config --cflags $PKGS) -o "$OUT/${name}_fuzz" "$src" \
        $OBJS $(pkg-config --libs $PKGS) -lhttp_parser -lm
    mkdir -p "$OUT/corpus-$name"
    # Seeds: the target's own corpus; the rule and source targets also read the
    # shipped rules and the hostile fixtures in place (new inputs go to build-fuzz/),
    # the tests target also the shipped tests.lua files.
    seeds="tests/fuzz/corpus/$name"
    shipped="rules/hq rules/regions/north rules/regions/south tests/fixtures/rules/hostile"
    case $name in
    rule) seeds="$shipped examples/adaptation/regions/south" ;;
    tests) # libFuzzer takes seed directories: the shipped tests.lua files join the run's corpus
        for f in rules/hq rules/regions/north rules/regions/south examples/adaptation/regions/south; do
            cp "$f/tests.lua" "$OUT/corpus-$name/shipped-$(echo "$f" | tr / -).lua"
        done ;;
    source) seeds="$seeds $shipped" ;; # its corpus: NUL, bad and cut UTF-8 seeds
    esac
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    echo "fuzz: $name for ${SECONDS_EACH}s"
    if ! "$OUT/${name}_fuzz" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=0 $dict -artifact_prefix="$OUT/$name-" \
        "$OUT/corpus-$name" $seeds >"$OUT/$name.log" 2>&1; then
        echo "fuzz: $name FAILED (see $OUT/$name.log)"; tail -30 "$OUT/$name.log"; status=1
        # What a reader of only the last lines of the run needs: the finding
        # and the input that caused it.
        grep -E '^(==[0-9]+==|SUMMARY|http_fuzz|    #[0-4] )|runtime error' "$OUT/$name.log" | head -12
        for a in "$OUT/$name"-crash-* "$OUT/$name"-leak-* "$OUT/$name"-timeout-* "$OUT/$name"-oom-*; do
            [ -f "$a" ] && { echo "input $a (base64, first 3 KiB):"; head -c 3072 "$a" | base64; }
        done
    else
        grep -E '^#[0-9]+.*DONE' "$OUT/$name.log" | tail -1
    fi
done
exit $status
