#!/bin/sh
# Bytes that must round-trip: rule sources are valid UTF-8 without NUL and at
# most 256 KiB on every way in (PUT, bundle, the tree on disk, --check-rules),
# whatever is stored reads back byte for byte (and a tampered store stops
# start-up), and text from rules (errors, host.log) never makes a listing,
# /metrics or a log line unreadable. Each scenario ends with a restart.
. "$(dirname "$0")/lib.sh"
start_daemon --auto-approve --log-format json || exit 1

# api_file METHOD PATH TOKEN FILE: as api, with the body taken byte for byte from FILE.
api_file() {
    curl -s -o "$WORK/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" \
        --data-binary @"$4" "$URL$2" >"$WORK/status"
    cat "$WORK/body"
}
FFFD=$(printf '\357\277\275')
has() { printf '%s\n' "$1" | grep -q -- "$2"; } # TEXT PATTERN
emsg() { jq -r .error.message <"$WORK/body"; }
last_error() { owner_of "$1" | jq -r .last_error.message; }
owner_of() { # OWNER: that owner's entry of GET /v1/rules (empty when it is missing)
    api GET /v1/rules hq-viewer-token | jq -c --arg o "$1" '.owners[] | select(.owner == $o)'
}
active_of() { owner_of "$1" | jq -r '.active.version'; }
versions_of() { api GET "/v1/rules/$1/versions" hq-viewer-token | jq '.versions | length'; }
# restart NAME: stop, start on the same database and tree, and check every owner came back.
restart() {
    before=$(api GET /v1/rules hq-viewer-token | jq -c '[.owners[] | [.owner, .active.version, .active.hash]] | sort')
    stop_daemon
    start_daemon --auto-approve --log-format json
    after=$(api GET /v1/rules hq-viewer-token | jq -c '[.owners[] | [.owner, .active.version, .active.hash]] | sort')
    check "$1: after a restart every owner has the same active version and hash" [ "$before" = "$after" ]
}

SOUTH_V=$(active_of region/south)
SOUTH_N=$(versions_of region/south)

# --- NUL in a source, through PUT -------------------------------------------
printf 'return { hot = 60 }\000-- tail\n' >"$WORK/nul.lua"
api_file PUT /v1/rules/region/south/thresholds.lua south-admin-token "$WORK/nul.lua" >/dev/null
expect "PUT: a NUL in a source is 422 rule_error" 422 rule_error
check "PUT: the message names the file and the byte offset" has "$(emsg)" "regions/south/thresholds.lua: byte offset 19: a NUL byte"
check "PUT: details.field names the file" [ "$(jq -r .error.details.field <"$WORK/body")" = thresholds.lua ]
check "PUT: no version was stored" [ "$(versions_of region/south)" = "$SOUTH_N" ]
check "PUT: the active version stays" [ "$(active_of region/south)" = "$SOUTH_V" ]
check "PUT: last_error names file and offset" has "$(last_error region/south)" "thresholds.lua: byte offset 19"
api GET /v1/rules/region/south/events hq-viewer-token >/dev/null
check "PUT: the refusal is in the audit" [ "$(jq '[.events[] | select(.action == "validation_failed" and (.message | test("byte offset 19")))] | length' <"$WORK/body")" = 1 ]
printf 'return { evaluate = function() end }\000' >"$WORK/hqnul.lua"
api_file PUT /v1/rules/hq/lead.lua hq-admin-token "$WORK/hqnul.lua" >/dev/null
expect "PUT: a NUL in an HQ source is refused too" 422 rule_error
restart "NUL via PUT"

# --- invalid UTF-8 and the size limit, through PUT ---------------------------
printf 'return { hot = 60 } -- caf\351\n' >"$WORK/latin1.lua"
api_file PUT /v1/rules/region/south/thresholds.lua south-admin-token "$WORK/latin1.lua" >/dev/null
expect "PUT: invalid UTF-8 is 422 rule_error" 422 rule_error
check "PUT: it names the first bad byte" has "$(emsg)" "thresholds.lua: byte offset 26: not valid UTF-8 (0xe9)"
printf 'return { hot = 60 } -- \355\240\200 a surrogate\n' >"$WORK/surrogate.lua"
api_file PUT /v1/rules/region/south/thresholds.lua south-admin-token "$WORK/surrogate.lua" >/dev/null
expect "PUT: an encoded surrogate is refused" 422 rule_error
{ echo 'return { hot = 60 }'; head -c 262200 /dev/zero | tr '\0' '-'; echo; } >"$WORK/big.lua"
api_file PUT /v1/rules/region/south/thresholds.lua south-admin-token "$WORK/big.lua" >/dev/null
expect "PUT: a source over 256 KiB is 422 rule_error" 422 rule_error
check "PUT: it names the file and the limit" has "$(emsg)" "region/south v[0-9]*: regions/south/thresholds.lua: 262221 bytes, over the 262144-byte"
printf 'return { hot = 61 } -- caf\303\251 \344\270\255\n' >"$WORK/utf8.lua"
api_file PUT /v1/rules/region/south/thresholds.lua south-admin-token "$WORK/utf8.lua" >/dev/null
expect "PUT: valid UTF-8 is accepted" 201
V=$(jq -r .version <"$WORK/body")
api GET "/v1/rules/region/south/versions/$V" hq-viewer-token | jq -j '.files["thresholds.lua"]' >"$WORK/back.lua"
check "PUT: the stored source reads back byte for byte" cmp -s "$WORK/utf8.lua" "$WORK/back.lua"
h=$(jq -j '.files | to_entries | sort_by(.key) | .[] | .key + "\u0000" + .value + "\u0000"' <"$WORK/body" | sha256sum | cut -c1-64)
check "PUT: the served files hash to the version's hash" [ "$h" = "$(jq -r .hash <"$WORK/body")" ]
restart "invalid UTF-8 via PUT"
api GET "/v1/rules/region/south/versions/$V" hq-viewer-token | jq -j '.files["thresholds.lua"]' >"$WORK/back.lua"
check "PUT: after the restart it still reads back byte for byte" cmp -s "$WORK/utf8.lua" "$WORK/back.lua"

# --- the bundle upload ---------------------------------------------------------
SOUTH_N=$(versions_of region/south)
api POST /v1/rules/region/south/bundle south-admin-token '{"files":{"thresholds.lua":"return { hot = 62 }\u0000"}}' >/dev/null
expect "bundle: a NUL (\\u0000) in a source is 422 rule_error" 422 rule_error
check "bundle: the message names the file and the byte offset" has "$(emsg)" "regions/south/thresholds.lua: byte offset 19: a NUL byte"
check "bundle: no version was stored" [ "$(versions_of region/south)" = "$SOUTH_N" ]
api POST /v1/rules/region/south/bundle south-admin-token "$(printf '{"files":{"thresholds.lua":"return { hot = 62 } -- \377"}}')" >/dev/null
expect "bundle: invalid UTF-8 in the JSON is 400 invalid_json" 400 invalid_json
api POST /v1/rules/region/south/bundle south-admin-token '{"files":{"thresholds.lua":"return { hot = 62 }"},"signature":"ab\u0000cd"}' >/dev/null
expect "bundle: a NUL in the signature is 400" 400 invalid_field
restart "NUL via bundle"

# --- the tree on disk: watch, SIGHUP, --check-rules, start-up ---------------------
CC_V=$(active_of office/city-c)
cp "$WORK/rules/offices/city-c/tools.lua" "$WORK/tools.good"
printf 'return { defaults = { source = "sales" } }\000\n' >"$WORK/rules/offices/city-c/tools.lua"
kill -HUP "$PID"; sleep 0.5
check "disk: a NUL is refused with file and byte offset" has "$(last_error office/city-c)" 'offices/city-c/tools.lua: byte offset 42: a NUL byte'

check "disk: the active version stays" [ "$(active_of office/city-c)" = "$CC_V" ]
out=$("$LTCD" --check-rules --rules "$WORK/rules" 2>&1); rc=$?
check "--check-rules: exit 1" [ "$rc" = 1 ]
check "--check-rules: prints file: byte offset" has "$out" '^offices/city-c/tools.lua: byte offset 42: a NUL byte'

restart "NUL on disk (start-up reads the tree)"
check "disk: start-up refuses it the same way" has "$(last_error office/city-c)" "tools.lua: byte offset 42"
printf 'return { defaults = { source = "sales" } } -- \300\257\n' >"$WORK/rules/offices/city-c/tools.lua"
kill -HUP "$PID"; sleep 0.5
check "disk: an overlong encoding is refused by offset" has "$(last_error office/city-c)" "tools.lua: byte offset 46: not valid UTF-8 (0xc0)"
cp "$WORK/tools.good" "$WORK/rules/offices/city-c/tools.lua"
kill -HUP "$PID"; sleep 0.5
check "disk: the active version stayed through it all" [ "$(active_of office/city-c)" = "$CC_V" ]

# --- text from rules: error() with invalid UTF-8, host.log, NUL in a key ---------
printf 'return { defaults = { source = "sales" }, checklist = function() error("bad \\255\\254 bytes") end }\n' >"$WORK/err.lua"
api_file PUT /v1/rules/office/province-a/tools.lua pa-admin-token "$WORK/err.lua" >/dev/null
expect "error() with invalid UTF-8: 422 with a readable message" 422 rule_error
check "the message has U+FFFD for the bad bytes" has "$(emsg)" "bad $FFFD$FFFD bytes"
check "the owner is still listed in GET /v1/rules" [ -n "$(owner_of office/province-a)" ]
check "its last_error is the cleaned message" has "$(last_error office/province-a)" "bad"
curl -s "$URL/metrics" >"$WORK/metrics"
check "the owner is still in /metrics" grep -q 'ltcd_rule_active_version{owner="office/province-a"}' "$WORK/metrics"
api GET /v1/rules/office/province-a/events hq-viewer-token >/dev/null
check "its audit event is listed" [ "$(jq '[.events[] | select(.action == "validation_failed" and (.message | test("bad")))] | length' <"$WORK/body")" = 1 ]
printf 'return function(lead) if lead.customer == "boom" then error("runtime \\255") end host.log("seen \\255\\0 x") return { hot = 70 } end\n' >"$WORK/rt.lua"
api_file PUT /v1/rules/region/south/thresholds.lua south-admin-token "$WORK/rt.lua" >/dev/null
expect "a function form that errors only for one lead is accepted" 201
api POST /v1/leads pa-ar-token "$(echo "$LEAD" | jq -c '.customer = "boom"')" >/dev/null
expect "a runtime error() with invalid UTF-8 answers 422" 422 rule_error
check "its message is valid JSON text" has "$(emsg)" "runtime $FFFD"
api POST /v1/leads pa-ar-token "$LEAD" >/dev/null; expect "host.log with bad bytes and a NUL: the call succeeds" 201
sleep 0.2
check "the host.log line is logged, cleaned" grep -q "seen $FFFD" "$WORK/log"
api PUT /v1/rules/office/province-a/tools.lua pa-admin-token 'return { defaults = { ["source\0x"] = "marketing" } }' >/dev/null
expect "a NUL inside a returned key is refused, not cut" 422 rule_output
check "the message says so" has "$(emsg)" "key with a NUL byte"
restart "text from rules"

# --- tampered store: start-up stops with one line naming owner and version ---------
stop_daemon
check "every log line so far is JSON (none was dropped or broken)" sh -c "grep -v '^ltcd: ' '$WORK/log' | jq -c . >/dev/null 2>&1"
SV=$(sql "SELECT version FROM rule_active WHERE owner = 'region/south'")
sql "UPDATE rule_versions SET files = replace(files, 'hot = 70', 'hot = 95') WHERE owner = 'region/south' AND version = $SV"
out=$(timeout 20 "$LTCD" --listen 127.0.0.1:0 --db "$DB" --rules "$WORK/rules" --tokens "$TOKENS" --auto-approve 2>&1); rc=$?
check "tampered active version: start-up fails (exit 1)" [ "$rc" = 1 ]
check "with one line" [ "$(printf '%s\n' "$out" | grep -c '^ltcd: ')" = 1 ]
check "naming owner and version" has "$out" "^ltcd: region/south v$SV: the stored sources do not match"
sql "UPDATE rule_versions SET files = replace(files, 'hot = 95', 'hot = 70') WHERE owner = 'region/south' AND version = $SV"
start_daemon || exit 1   # no --auto-approve: a pending version to approve
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 64 }' >/dev/null
expect "a pending version" 201
P=$(jq -r .version <"$WORK/body")
sql "UPDATE rule_versions SET files = replace(files, 'hot = 64', 'hot = 94') WHERE owner = 'region/south' AND version = $P"
api POST "/v1/rules/region/south/versions/$P/approve" hq-admin-token >/dev/null
expect "approving a tampered version is refused" 500 storage
check "the message names owner and version" has "$(emsg)" "region/south v$P: the stored sources do not match"
check "the active version stays" [ "$(active_of region/south)" = "$SV" ]
api POST "/v1/rules/region/south/versions/$P/reject" hq-admin-token '{"reason":"tampered"}' >/dev/null
expect "a tampered version can still be rejected" 200
# In a text log, a rule's newline cannot forge a line of its own.
api PUT /v1/rules/office/city-c/tools.lua cc-admin-token 'host.log("one\n2026-01-01T00:00:00.000Z error forged") return {}' >/dev/null
expect "a host.log line with a newline" 201
check "stays one line in the text log" sh -c "! grep -q '^2026-01-01T00:00:00.000Z error forged' '$WORK/log'"
check "which holds the whole text" grep -q 'one 2026-01-01T00:00:00.000Z error forged' "$WORK/log"
stop_daemon
finish
