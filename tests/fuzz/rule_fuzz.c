/* tests/fuzz/rule_fuzz.c: rule source -> sandbox load and call, with tiny
 * budgets. Any input must end in success or a typed ERR_RULE_* error. */
#include <stdint.h>
#include <stdlib.h>

#include "sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sandbox_limits lim = sandbox_default_limits;
    lim.mem_max_bytes = 1 << 20;
    lim.call_instructions = lim.load_instructions = 20000;
    lim.call_wall_ms = lim.load_wall_ms = 50;
    struct sandbox *sb;
    struct err_detail why = {0};
    if (sandbox_new("region/fuzz", 1, "regions/fuzz/", &lim, &sb, &why))
        abort();
    int rc = sandbox_load(sb, "x.lua", (const char *)data, size, &why);
    if (rc == 0) {
        json_t *arg = json_pack("{s:s, s:{s:i}}", "office", "a", "budget", "amount", 1);
        json_t *out = NULL;
        rc = sandbox_call(sb, "x.lua", NULL, &arg, 1, &out, &why);
        json_decref(out);
        json_decref(arg);
    }
    if (rc && !(rc == -ERR_RULE_SYNTAX || rc == -ERR_RULE_RUNTIME || rc == -ERR_RULE_BUDGET ||
                rc == -ERR_RULE_MEMORY || rc == -ERR_RULE_OUTPUT || rc == -ERR_RULE_REJECTED))
        abort();
    sandbox_free(sb);
    return 0;
}
