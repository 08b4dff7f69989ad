/* tests/fuzz/lead_fuzz.c: request body -> lead -> evaluation under the shipped
 * rules (the whole POST /v1/leads path but HTTP and the commit, HQ's signal
 * declaration included), and the same body as an action body against HQ's
 * declared bodies (process.lua). */
#include <stdint.h>
#include <stdlib.h>

#include "rules_internal.h"

static struct rules *rules;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules) {
        struct store *st;
        struct err_detail why = {0};
        if (store_open(":memory:", false, &st, &why) || rules_open(st, "rules", true, &rules, &why))
            abort();
    }
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return 0;
    json_t *lead = NULL, *ev = NULL;
    const char *region;
    struct err_detail why = {0};
    if (rules_evaluate_lead(rules, body, &lead, &ev, &region, &why) == 0) {
        const char *t = json_string_value(json_object_get(ev, "temperature"));
        if (!t || !lead || !region)
            abort();
    } else if (why.code == 0 || !why.msg[0]) {
        abort(); /* every refusal says why */
    }
    struct err_detail b = {0};
    int rc = rules__check_body(rules_hq(rules), body, &b);
    if (rc && (rc != -ERR_INVALID_FIELD || !b.msg[0] || !b.field[0]))
        abort(); /* an action body is accepted, or refused naming the key */
    json_decref(lead);
    json_decref(ev);
    json_decref(body);
    return 0;
}
