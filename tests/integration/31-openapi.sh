#!/bin/sh
# GET /v1/openapi.json (issue 15 item 5): served without a token, exactly the
# engine/openapi.json of the tree, an OpenAPI 3.1 document whose paths are
# the route table's (tests/unit/openapi_test.c checks that both ways). Where
# node and the npm packages of tests/browser are installed, the validator and
# the per-operation schema check of make browser-test run here too.
. "$(dirname "$0")/lib.sh"
jqe() { jq -e "$@" >/dev/null; }
start_daemon || exit 1
code=$(curl -s -o "$WORK/doc" -D "$WORK/headers" -w '%{http_code}' "$URL/v1/openapi.json")
check "GET /v1/openapi.json answers 200 without a token" [ "$code" = 200 ]
check "as application/json" grep -qi '^content-type: application/json' "$WORK/headers"
check "byte for byte the engine/openapi.json it was built from" cmp -s "$WORK/doc" "$ROOT/engine/openapi.json"
check "an OpenAPI 3.1 document" [ "$(jq -r .openapi "$WORK/doc")" = 3.1.0 ]
check "with the error envelope" jqe '.components.schemas.Error.properties.error.required == ["code", "message", "details"]' "$WORK/doc"
check "bearer authentication by default, public routes marked" jqe '.security == [{"bearer": []}] and .paths["/health"].get.security == []' "$WORK/doc"
check "every operation has a summary and a success response" jqe '([.paths[][]] | length) as $n | [.paths[][] | select((.summary | length) > 0 and (.responses | keys | any(startswith("2"))))] | length == $n' "$WORK/doc"
check "action bodies are documented per action, without unknown keys" jqe '[.components.schemas.ActionRequest.oneOf[] | select(.additionalProperties == false) | .properties.action.const] | sort == ["assign", "assign_owner", "close", "decide", "milestone", "reevaluate", "review", "sign", "update"]' "$WORK/doc"
check "items_refused: the error envelope with details.items" jqe '(.components.schemas.Error.properties.error.properties.code.enum | index("items_refused")) and .paths["/v1/reviews"].post.responses["422"].content["application/json"].schema["$ref"] == "#/components/schemas/ItemsRefused"' "$WORK/doc"
api GET /v1/openapi.json hq-admin-token >/dev/null; expect "with a token too" 200
api POST /v1/openapi.json hq-admin-token '{}' >/dev/null; expect "POST: 405" 405 method_not_allowed
stop_daemon
if command -v node >/dev/null 2>&1 && [ -d "$ROOT/tests/browser/node_modules/ajv" ] &&
    [ -d "$ROOT/tests/browser/node_modules/@seriousme/openapi-schema-validator" ]; then
    out=$(sh "$ROOT/tests/browser/openapi.sh" 2>&1)
    echo "$out" | grep -q ' 0 failed$'
    ok_if "the validator and every operation's answer against its schema (tests/browser/openapi.sh)" || true
    echo "$out" | grep '^not ok' | sed 's/^/# /'
else
    echo "# skip: node or tests/browser's npm packages missing; make browser-test runs tests/browser/openapi.sh"
fi
finish
