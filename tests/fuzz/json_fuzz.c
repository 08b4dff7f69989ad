/* tests/fuzz/json_fuzz.c: json_read against json_loadb, whatever the bytes:
 * both take the text or both refuse it, under each of the flags the engine
 * uses, and what both take is the same value (json_text of each, byte for
 * byte, and json_equal). Any disagreement aborts. The one allowed: a text
 * with a NUL byte that json_loadb takes and json_read refuses (json_read.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "json_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t flags[] = {0, JSON_DECODE_ANY, JSON_REJECT_DUPLICATES};
    for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
        json_error_t e;
        json_t *a = json_read((const char *)data, size, flags[f], NULL);
        json_t *b = json_loadb((const char *)data, size, flags[f], &e);
        if (!a != !b && !(!a && memchr(data, 0, size)))
            abort();
        if (a && b) {
            char *ta = json_text(a), *tb = json_text(b);
            if (!ta || !tb || strcmp(ta, tb) || !json_equal(a, b))
                abort();
            free(ta);
            free(tb);
        }
        json_decref(a);
        json_decref(b);
    }
    return 0;
}
