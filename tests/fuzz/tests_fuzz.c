/* tests/fuzz/tests_fuzz.c: bytes as a region's tests.lua -> compiled with the
 * shipped South bundle and run as the daemon runs a new version's tests
 * (engine/rules_tests.c), under the shipped rules. Any input must end in
 * success or a typed refusal that says why. */
#include <stdint.h>
#include <stdlib.h>

#include "rules_internal.h"
#include "rules_tests.h"

static struct rules *rules;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules) {
        struct store *st;
        struct err_detail why = {0};
        if (store_open(":memory:", false, &st, &why) || rules_open(st, "rules", true, &rules, &why))
            abort();
        rules__tests_wall_ms = 500; /* a run per input, not 2 s */
    }
    json_t *files = json_deep_copy(rules_active(rules, "region/south")->files);
    json_object_set_new(files, "tests.lua", json_stringn((const char *)data, size));
    struct rules_version *v = NULL;
    struct err_detail why = {0};
    int rc =
        json_object_get(files, "tests.lua")
            ? rules__compile("region/south", RULES_REGION, 99, files, rules_hq(rules), &v, &why)
            : 0; /* not a JSON string: not valid UTF-8, refused before this */
    if (v) {
        struct rules_test_run run = {.all = true};
        rc = rules__run_tests(rules, v, &run, &why);
        if (run.failed && !rc)
            abort();
        rules_version_unref(v);
    }
    if (rc && (why.code != rc || !why.msg[0] || rc > -ERR_RULE_REJECTED || rc < -ERR_RULE_OUTPUT))
        abort(); /* a typed rule error (422) naming what is wrong */
    json_decref(files);
    return 0;
}
