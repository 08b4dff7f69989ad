#!/bin/sh
# tests/browser/openapi.sh: the OpenAPI document validated with a maintained
# validator from npm and every operation's answer checked against it on a
# real daemon (openapi.mjs; make browser-test). Needs node and the packages
# of package.json (npm ci here).
. "$(dirname "$0")/../integration/lib.sh"
cd "$ROOT/tests/browser" || exit 1
[ -d node_modules/ajv ] && [ -d node_modules/@seriousme/openapi-schema-validator ] ||
    npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null
# The demo principals, and an office reviewer who names its person (the
# tokens file's fourth column), so events and meetings carry one.
{ cat "$TOKENS"; echo "pa-reviewer-token office/province-a reviewer lin"; } >"$WORK/tokens"
TOKENS=$WORK/tokens
start_daemon || exit 1      # no --auto-approve: region versions wait for HQ
LTC_URL=$URL LTC_ROOT=$ROOT node openapi.mjs
rc=$?
stop_daemon
exit $rc
