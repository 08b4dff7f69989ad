#!/bin/sh
# Symbolic links in the rules tree are refused, wherever they point (a file
# outside the tree, a directory, or another file of the tree): the bundle is
# refused with a clear error that quotes nothing of the target, and the
# target's content never appears in an API answer or a log line.
. "$(dirname "$0")/lib.sh"
SECRET=TOPSECRET_7c1e
# Lua would quote it: "nonexistent global 'TOPSECRET_7c1e'".
printf 'return { %s }\n' "$SECRET" >"$WORK/secret.lua"
start_daemon --auto-approve || exit 1

active_of() { api GET /v1/rules hq-viewer-token | jq -r --arg o "$1" '.owners[] | select(.owner == $o) | .active.version'; }
last_error() { api GET /v1/rules hq-viewer-token | jq -r --arg o "$1" '.owners[] | select(.owner == $o) | .last_error.message'; }
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
# Every answer of the scenario is kept, to look for the secret at the end.
seen() { cat "$WORK/body" >>"$WORK/answers"; }
CC_V=$(active_of office/city-c)
NORTH_V=$(active_of region/north)

# A file linked to a file outside the tree.
rm "$WORK/rules/offices/city-c/tools.lua"
ln -s "$WORK/secret.lua" "$WORK/rules/offices/city-c/tools.lua"
kill -HUP "$PID"; sleep 0.5
e=$(last_error office/city-c); seen
check "a linked file refuses the bundle" has "$e" 'offices/city-c/tools.lua: a symbolic link; links are refused'
check "the active version stays" [ "$(active_of office/city-c)" = "$CC_V" ]
check "the error quotes nothing of the target" sh -c "! printf '%s' '$e' | grep -q -e '$SECRET' -e secret.lua"

# A directory linked to one outside the tree (a copy of north whose file is the secret).
cp -r "$WORK/rules/regions/north" "$WORK/outside-north"
cp "$WORK/secret.lua" "$WORK/outside-north/thresholds.lua"
rm -r "$WORK/rules/regions/north"
ln -s "$WORK/outside-north" "$WORK/rules/regions/north"
kill -HUP "$PID"; sleep 0.5
e=$(last_error region/north); seen
check "a linked directory refuses the bundle" has "$e" 'regions/north: a symbolic link; links are refused'
check "the region's active version stays" [ "$(active_of region/north)" = "$NORTH_V" ]
check "its error quotes nothing of the target" sh -c "! printf '%s' '$e' | grep -q -e '$SECRET' -e outside"

# A link inside the tree is refused the same way (one rule: no links at all).
rm "$WORK/rules/offices/province-a/tools.lua"
ln -s ../city-c/tools.lua "$WORK/rules/offices/province-a/tools.lua"
kill -HUP "$PID"; sleep 0.5
check "a link within the tree is refused too" has "$(last_error office/province-a)" 'offices/province-a/tools.lua: a symbolic link'

# The same through POST /v1/rules/reload, every token's view, audits and metrics.
api POST /v1/rules/reload hq-admin-token >/dev/null; seen
check "a reload reports the refused bundles" [ "$(jq -r .failed <"$WORK/body")" -ge 3 ]
for tok in hq-viewer-token south-admin-token pa-ar-token cc-admin-token north-admin-token; do
    api GET /v1/rules "$tok" >/dev/null; seen
done
for o in office/city-c region/north office/province-a; do
    api GET "/v1/rules/$o/events" hq-viewer-token >/dev/null; seen
    api GET "/v1/rules/$o/versions" hq-viewer-token >/dev/null; seen
done
curl -s "$URL/metrics" >>"$WORK/answers"
out=$("$LTCD" --check-rules --rules "$WORK/rules" 2>&1); rc=$?
check "--check-rules fails on the links" [ "$rc" = 1 ]
check "--check-rules names each link" has "$out" '^regions/north: a symbolic link'
printf '%s\n' "$out" >>"$WORK/answers"

# Start-up reads the tree the same way.
stop_daemon
start_daemon --auto-approve || exit 1
[ "$(active_of office/city-c)" = "$CC_V" ] && [ "$(active_of region/north)" = "$NORTH_V" ]; ok_if "after a restart the stored versions are active"
check "and the links are refused again" has "$(last_error region/north)" 'regions/north: a symbolic link'
api GET /v1/rules hq-viewer-token >/dev/null; seen
stop_daemon

check "the secret never appears in an API answer" sh -c "! grep -q '$SECRET' '$WORK/answers'"
check "the secret never appears in the log" sh -c "! grep -q '$SECRET' '$WORK/log'"
check "answers were collected" [ "$(wc -c <"$WORK/answers")" -gt 1000 ]
finish
