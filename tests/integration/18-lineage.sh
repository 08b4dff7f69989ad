#!/bin/sh
# Rule lineage and review (issue 11, CONTRACT 8.2), through HTTP and ltcctl:
# new versions are built on the newest version and keep every file (both
# scenarios of the issue), `superseded` status and audit event, ?base=V,
# origin and base in listings, the tree on disk taken in only when it changed
# (SIGHUP, the watch, a restart over an unchanged tree create nothing, also
# after HQ approved an API version), numbers never given to two contents
# (across a restart), and the diff of two versions with `ltcctl rules diff`
# and `ltcctl rules show`.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1 # no --auto-approve: region versions wait for HQ

ctl() { LTC_URL=$URL "$LTCCTL" "$@"; } # the URL changes with each restart
say() { printf '%s\n' "$1"; }         # dash's echo would expand the \n of JSON text

owner_json() { api GET /v1/rules hq-viewer-token | jq -c --arg o "$1" '.owners[] | select(.owner == $o)'; }
versions() { api GET /v1/rules/region/south/versions hq-viewer-token | jq -c '[.versions[] | [.version, .status, .origin, .base]]'; }
version_count() { api GET /v1/rules/region/south/versions hq-viewer-token | jq '.versions | length'; }
files_of() { api GET "/v1/rules/region/south/versions/$1" hq-viewer-token | jq -c '.files | keys'; }
file_of() { api GET "/v1/rules/region/south/versions/$1" hq-viewer-token | jq -r --arg f "$2" '.files[$f]'; }
reloads() { grep -c 'rules: reload from' "$WORK/log"; }
# hup: SIGHUP, then wait until the daemon has logged that the reload is done.
hup() {
    _n=$(reloads); kill -HUP "$PID"; _i=0
    while [ "$(reloads)" -le "$_n" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
}
SOUTH="$WORK/rules/regions/south"
V1_ACTIONS=$(cat "$SOUTH/actions.lua")
V1_SHARE=$(cat "$SOUTH/share.lua")

# --- scenario (b): v1 pending from disk; a PUT keeps the other files --------------
o=$(owner_json region/south)
check "region/south v1 waits for HQ, origin disk, no base" [ "$(say "$o" | jq -c '[.active, (.pending[] | [.version, .origin, .base])]')" = '[null,[1,"disk",null]]' ]
T2='return { hot = 60, warm = 30 } -- v2'
api PUT /v1/rules/region/south/thresholds.lua south-admin-token "$T2" >/dev/null
expect "a PUT of thresholds.lua: 201" 201
check "... answers version 2, pending, built on v1" [ "$(jq -c '[.version, .status, .base]' <"$WORK/body")" = '[2,"pending",1]' ]
[ "$(files_of 2)" = '["actions.lua","forecast.lua","share.lua","tests.lua","thresholds.lua"]' ] && [ "$(file_of 2 actions.lua)" = "$V1_ACTIONS" ] && [ "$(file_of 2 share.lua)" = "$V1_SHARE" ]; ok_if "v2 keeps v1's actions.lua and share.lua"
check "v2 has the new thresholds.lua" [ "$(file_of 2 thresholds.lua)" = "$T2" ]
check "v1 is superseded" [ "$(api GET /v1/rules/region/south/versions/1 hq-viewer-token | jq -r .status)" = superseded ]
ev=$(api GET /v1/rules/region/south/events hq-viewer-token)
check "an audit event 'superseded' names v1 and its successor" [ "$(say "$ev" | jq -c '[.events[] | select(.action == "superseded") | [.version, .message, .actor]]')" = '[[1,"superseded by v2","region/south:admin"]]' ]

# --- scenario (a): v2 pending; a PUT of actions.lua keeps v2's thresholds ----------
printf '%s\n' 'return function(stage, instance) return {} end -- v3' >"$WORK/actions.lua"
out=$(LTC_TOKEN=south-admin-token ctl rules put region/south actions.lua "$WORK/actions.lua")
check "ltcctl rules put says what it was built on" [ "$out" = "region/south actions.lua: version 3 pending (built on v2)" ]
[ "$(file_of 3 thresholds.lua)" = "$T2" ] && [ "$(file_of 3 actions.lua)" = "$(cat "$WORK/actions.lua")" ] && [ "$(file_of 3 share.lua)" = "$V1_SHARE" ]; ok_if "v3 has v2's thresholds and the new actions"
check "v2 is superseded, only v3 waits" [ "$(versions)" = '[[1,"superseded","disk",null],[2,"superseded","api",1],[3,"pending","api",2]]' ]
check "GET /v1/rules: the pending version with its origin and base" [ "$(owner_json region/south | jq -c '[.pending[] | [.version, .origin, .base]]')" = '[[3,"api",2]]' ]
api POST /v1/rules/region/south/versions/2/approve hq-admin-token >/dev/null
expect "approving the superseded v2 is a conflict" 409 conflict
api POST /v1/rules/region/south/versions/3/approve hq-admin-token >/dev/null
expect "HQ approves v3" 200
check "the active version shows origin api, base v2" [ "$(owner_json region/south | jq -c '[.active.version, .active.origin, .active.base]')" = '[3,"api",2]' ]
check "HQ's active version came from disk" [ "$(owner_json hq | jq -r .active.origin)" = disk ]
out=$(api POST /v1/leads pa-ar-token "$LEAD")
check "leads use v3 and its thresholds from the first PUT" [ "$(say "$out" | jq -c '[.evaluation.rules["region/south"], .evaluation.thresholds.hot]')" = '[3,60]' ]

# --- disk and API: the tree is taken in only when it changed -----------------------
hup
[ "$(version_count)" = 3 ] && [ "$(owner_json region/south | jq -c '[.active.version, .pending]')" = '[3,[]]' ]; ok_if "SIGHUP after an API approval creates no version"
api POST /v1/rules/reload hq-admin-token >/dev/null
check "POST /v1/rules/reload over an unchanged tree creates none" [ "$(version_count)" = 3 ]
touch "$SOUTH/actions.lua" "$SOUTH/thresholds.lua"; sleep 0.6
check "the watch over files touched but not changed creates none" [ "$(version_count)" = 3 ]
stop_daemon; start_daemon || exit 1
[ "$(version_count)" = 3 ] && [ "$(owner_json region/south | jq -r .active.version)" = 3 ]; ok_if "a restart over the unchanged tree creates none"
n=""; for ow in hq region/north office/city-c office/province-a; do n="$n$(api GET "/v1/rules/$ow/versions" hq-viewer-token | jq '.versions | length')"; done
check "... nor for any other owner" [ "$n" = 1111 ]
printf '%s\n' '-- South: an even triangle.' 'return { platform = 15, triangle = { ar = 40, sr = 30, fr = 30 } }' >"$SOUTH/share.lua.tmp"
mv "$SOUTH/share.lua.tmp" "$SOUTH/share.lua"
i=0; while [ "$(version_count)" != 4 ] && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
check "a file changed on disk makes v4, origin disk, built on v3" [ "$(versions | jq -c '.[3]')" = '[4,"pending","disk",3]' ]
[ "$(file_of 4 thresholds.lua)" = "$T2" ] && [ "$(file_of 4 actions.lua)" = "$(cat "$WORK/actions.lua")" ] && [ "$(file_of 4 share.lua)" = "$(cat "$SOUTH/share.lua")" ]; ok_if "v4 keeps what the API brought (thresholds, actions) and takes the disk's share.lua"
api POST /v1/rules/region/south/versions/4/reject hq-admin-token '{"reason":"keep 45/30/25"}' >/dev/null
expect "HQ rejects v4" 200
hup; stop_daemon; start_daemon || exit 1; hup
[ "$(version_count)" = 4 ] && [ "$(owner_json region/south | jq -c '[.active.version, .pending]')" = '[3,[]]' ]; ok_if "the rejected tree is not queued again (SIGHUP, restart)"

# --- ?base=V -----------------------------------------------------------------------
api PUT '/v1/rules/region/south/thresholds.lua?base=abc' south-admin-token "$T2" >/dev/null
expect "?base=abc: 400" 400 invalid_field
check "... naming the field" [ "$(jq -r .error.details.field <"$WORK/body")" = base ]
api PUT '/v1/rules/region/south/thresholds.lua?base=0' south-admin-token "$T2" >/dev/null
expect "?base=0: 400" 400 invalid_field
api PUT '/v1/rules/region/south/thresholds.lua?base=99' south-admin-token "$T2" >/dev/null
expect "?base=99 (no such version): 404" 404 not_found
api PUT '/v1/rules/region/south/thresholds.lua?base=4' south-admin-token "$T2" >/dev/null
expect "?base=4 (rejected): 409" 409 conflict
api DELETE '/v1/rules/region/south/share.lua?base=1' south-admin-token >/dev/null
expect "DELETE ?base=1: 201" 201
[ "$(jq -c '[.version, .base]' <"$WORK/body")" = '[5,1]' ] && [ "$(files_of 5)" = '["actions.lua","forecast.lua","tests.lua","thresholds.lua"]' ] && [ "$(file_of 5 actions.lua)" = "$V1_ACTIONS" ]; ok_if "... built on v1: v1's files without share.lua"
printf '%s\n' 'return { hot = 62 }' >"$WORK/thresholds.lua"
out=$(LTC_TOKEN=south-admin-token ctl rules put region/south thresholds.lua "$WORK/thresholds.lua" --base 3)
[ "$out" = "region/south thresholds.lua: version 6 pending (built on v3)" ] && [ "$(file_of 6 share.lua)" = "$V1_SHARE" ]; ok_if "ltcctl rules put --base V builds on V"
check "... and supersedes the pending v5" [ "$(api GET /v1/rules/region/south/versions/5 hq-viewer-token | jq -r .status)" = superseded ]
out=$(LTC_TOKEN=south-admin-token ctl --json rules push region/south "$ROOT/examples/adaptation/regions/south")
check "a bundle upload answers its base (the newest version)" [ "$(say "$out" | jq -c '[.version, .status, .base]')" = '[7,"pending",6]' ]

# --- version numbers are never given to two contents ------------------------------
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { hot = 99 }' >/dev/null
expect "an out-of-bounds upload: 422" 422 rule_rejected
N=$(owner_json region/south | jq -r .last_error.version)
[ "$N" = 8 ] && grep -q 'region/south v8: ' "$WORK/body"; ok_if "the refusal cites v$N, after every stored version"
api GET /v1/rules/region/south/versions/8 hq-viewer-token >/dev/null
expect "no version 8 is stored" 404
stop_daemon; start_daemon || exit 1
api PUT /v1/rules/region/south/thresholds.lua south-admin-token 'return { mature_budget = 50000000, horizon_months = 9, hot = 61, warm = 30 }' >/dev/null
check "after a restart other content gets v9, not the cited v8" [ "$(jq -c '[.version, .base]' <"$WORK/body")" = '[9,7]' ]
check "the numbers of stored versions only grow" [ "$(api GET /v1/rules/region/south/versions hq-viewer-token | jq -c '[.versions[].version]')" = '[1,2,3,4,5,6,7,9]' ]

# --- the diff of two versions --------------------------------------------------------
d=$(api GET /v1/rules/region/south/versions/9/diff hq-viewer-token)
expect "GET .../versions/9/diff: 200" 200
check "against the active version by default" [ "$(say "$d" | jq -c '[.owner, .from, .to]')" = '["region/south",3,9]' ]
check "every file of either version, with its status" [ "$(say "$d" | jq -c '[.files[] | [.file, .status]]')" = '[["actions.lua","changed"],["forecast.lua","removed"],["share.lua","removed"],["tests.lua","changed"],["thresholds.lua","changed"]]' ]
check "a removed file's diff removes every line" [ "$(say "$d" | jq -r '.files[] | select(.file == "share.lua") | .diff' | grep -c '^-')" = "$(($(printf '%s\n' "$V1_SHARE" | wc -l) + 1))" ]
d=$(api GET '/v1/rules/region/south/versions/3/diff?against=1' pb-ar-token)
expect "any principal reads a diff, against any version (superseded v1)" 200
check "... from v1 to v3: forecast.lua, share.lua and tests.lua same, two files changed" [ "$(say "$d" | jq -c '[.from, .to, [.files[] | .status]]')" = '[1,3,["changed","same","same","same","changed"]]' ]
check "a same file has an empty diff" [ "$(say "$d" | jq -r '.files[1].diff')" = "" ]
# jq -j: the texts exactly, without a newline added.
api GET /v1/rules/region/south/versions/1 hq-viewer-token | jq -j '.files["thresholds.lua"]' >"$WORK/old.lua"
api GET /v1/rules/region/south/versions/3 hq-viewer-token | jq -j '.files["thresholds.lua"]' >"$WORK/new.lua"
say "$d" | jq -j '.files[] | select(.file == "thresholds.lua") | .diff' >"$WORK/ours.diff"
check "the header names the file (--- a/FILE, +++ b/FILE)" [ "$(head -2 "$WORK/ours.diff" | tr '\n' ' ')" = "--- a/thresholds.lua +++ b/thresholds.lua " ]
diff -u "$WORK/old.lua" "$WORK/new.lua" | tail -n +3 >"$WORK/gnu.diff"
check "the hunks are what diff -u gives" sh -c "tail -n +3 '$WORK/ours.diff' | cmp -s - '$WORK/gnu.diff'"
if command -v patch >/dev/null; then
    cp "$WORK/old.lua" "$WORK/patched.lua"
    patch -s "$WORK/patched.lua" <"$WORK/ours.diff" >/dev/null 2>&1
    check "patch applies it: v1's file becomes v3's" cmp -s "$WORK/patched.lua" "$WORK/new.lua"
else
    echo "# skip: patch is not installed"
fi
api GET /v1/rules/region/south/versions/99/diff hq-viewer-token >/dev/null; expect "an unknown version: 404" 404 not_found
api GET '/v1/rules/region/south/versions/3/diff?against=8' hq-viewer-token >/dev/null; expect "against a refused (never stored) number: 404" 404 not_found
api GET '/v1/rules/region/south/versions/3/diff?against=x' hq-viewer-token >/dev/null; expect "against=x: 400" 400 invalid_field
api GET '/v1/rules/region/south/versions/abc/diff' hq-viewer-token >/dev/null; expect "version abc: 400" 400 invalid_field
curl -s -o /dev/null -w '%{http_code}' "$URL/v1/rules/region/south/versions/3/diff" >"$WORK/status"; expect "no token: 401" 401
d=$(api GET /v1/rules/region/north/versions/1/diff hq-viewer-token)
check "nothing active: from null, every file added" [ "$(say "$d" | jq -c '[.from, ([.files[].status] | unique)]')" = '[null,["added"]]' ]

# --- ltcctl rules diff and rules show ------------------------------------------------
LTC_TOKEN=hq-viewer-token ctl rules diff region/south 3 1 >"$WORK/out"
check "ltcctl rules diff: a summary line" [ "$(head -1 "$WORK/out")" = "region/south v3 against v1: 2 changed, 0 added, 0 removed, 3 same" ]
grep -q '^+++ b/thresholds.lua$' "$WORK/out" && ! grep -q "$(printf '\033')" "$WORK/out"; ok_if "... then the unified diffs, plain when not on a terminal"
check "... the same text as the API's" sh -c "tail -n +2 '$WORK/out' | tail -n $(wc -l <"$WORK/ours.diff") | cmp -s - '$WORK/ours.diff'"
LTC_TOKEN=hq-viewer-token ctl rules diff region/south 9 >"$WORK/out"
check "ltcctl rules diff without W: against the active version" grep -q '^region/south v9 against v3: ' "$WORK/out"
LTC_TOKEN=hq-viewer-token ctl --json rules diff region/south 3 1 >"$WORK/out"
check "ltcctl --json rules diff prints the API answer" [ "$(jq -c '[.from, .to, (.files | length)]' "$WORK/out")" = '[1,3,5]' ]
if command -v script >/dev/null; then
    script -qc "LTC_URL=$URL LTC_TOKEN=hq-viewer-token '$LTCCTL' rules diff region/south 3 1" /dev/null >"$WORK/tty" 2>&1
    check "on a terminal: removed lines red, added green, hunks cyan" grep -q "$(printf '\033\\[31m-return')" "$WORK/tty" && grep -q "$(printf '\033\\[32m+return')" "$WORK/tty" && grep -q "$(printf '\033\\[36m@@ ')" "$WORK/tty"
    check "... a removed '-- comment' line too (red, not a header)" grep -q "$(printf '\033\\[31m--- South')" "$WORK/tty"
else
    echo "# skip: script is not installed"
fi
LTC_TOKEN=hq-viewer-token ctl rules show region/south 3 >"$WORK/out"
check "ltcctl rules show: a header line naming the version" grep -q '^region/south v3: active, origin api, built on v2, hash ' "$WORK/out"
grep -qx '==> thresholds.lua <==' "$WORK/out" && grep -qxF "$T2" "$WORK/out" && grep -qxF 'return function(stage, instance) return {} end -- v3' "$WORK/out"; ok_if "... each file under its name, its source as text"
check "... not escaped JSON" sh -c "! grep -q '\\\\n' '$WORK/out'"
LTC_TOKEN=hq-viewer-token ctl rules versions region/south >"$WORK/out"
check "ltcctl rules versions shows status, origin and base" grep -q '^v4  *rejected  *disk  *v3 ' "$WORK/out"
stop_daemon
finish
