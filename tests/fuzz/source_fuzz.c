/* tests/fuzz/source_fuzz.c: rule sources as raw bytes through the source
 * check every way in uses (rules__check_source), the UTF-8 cleaner, and the
 * store's JSON round trip. Invariants, each an abort when broken:
 *   - the check accepts exactly the sources of at most 256 KiB that are
 *     valid UTF-8 (as jansson judges it) without NUL;
 *   - a refusal is -ERR_RULE_SOURCE with a message that is valid UTF-8;
 *   - an accepted source stored as JSON reads back byte for byte, with the
 *     same bundle hash, and then loads in the sandbox or fails typed;
 *   - utf8_clean always gives valid UTF-8 without NUL, and is idempotent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int json_valid(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    json_decref(j);
    return j != NULL;
}

static void check_clean(const char *src, size_t size)
{
    size_t cap = 3 * size + 1;
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b)
        abort();
    size_t n = utf8_clean(a, cap, src, size);
    if (memchr(a, '\0', n) || !json_valid(a, n))
        abort();
    if (utf8_clean(b, cap, a, n) != n || memcmp(a, b, n))
        abort();
    /* A small buffer cuts on a character boundary. */
    size_t small = utf8_clean(b, 8, src, size);
    if (small > 7 || !json_valid(b, small))
        abort();
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    check_clean(src, size);
    struct err_detail why = {0};
    int rc = rules__check_source("region/fuzz", 1, "x.lua", src, size, &why);
    int text = !memchr(src, '\0', size) && json_valid(src, size);
    size_t bad = utf8_bad_offset(src, size, false);
    if ((bad == size) != text || (rc == 0) != (text && size <= SANDBOX_SOURCE_MAX_BYTES))
        abort();
    if (bad < size && (memchr(src, '\0', bad) || !json_valid(src, bad)))
        abort(); /* everything before the offset named is good text */
    if (rc) {
        if (rc != -ERR_RULE_SOURCE || !json_valid(why.msg, strlen(why.msg)))
            abort();
        return 0;
    }
    /* The store's round trip (rules.c persist and rules__stored_load). */
    json_t *files = json_object();
    json_object_set_new(files, "x.lua", json_stringn(src, size));
    char before[65], after[65];
    rules__bundle_hash(files, before);
    char *dump = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    json_t *back = dump ? json_loads(dump, JSON_ALLOW_NUL, NULL) : NULL;
    const json_t *s = json_object_get(back, "x.lua");
    if (!back || json_string_length(s) != size || memcmp(json_string_value(s), src, size))
        abort();
    rules__bundle_hash(back, after);
    if (strcmp(before, after))
        abort();
    free(dump);
    json_decref(back);
    json_decref(files);
    /* And it loads, or fails with a typed rule error, under tiny budgets. */
    struct sandbox_limits lim = sandbox_default_limits;
    lim.mem_max_bytes = 1 << 20;
    lim.call_instructions = lim.load_instructions = 20000;
    lim.call_wall_ms = lim.load_wall_ms = 50;
    struct sandbox *sb;
    if (sandbox_new("region/fuzz", 1, "regions/fuzz/", &lim, &sb, &why))
        abort();
    rc = sandbox_load(sb, "x.lua", src, size, &why);
    if (rc && (!json_valid(why.msg, strlen(why.msg)) ||
               !(rc == -ERR_RULE_SYNTAX || rc == -ERR_RULE_RUNTIME || rc == -ERR_RULE_BUDGET ||
                 rc == -ERR_RULE_MEMORY || rc == -ERR_RULE_OUTPUT || rc == -ERR_RULE_REJECTED)))
        abort();
    sandbox_free(sb);
    return 0;
}
