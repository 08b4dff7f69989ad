/* tests/fuzz/records_fuzz.c: the bodies of lead management (people,
 * customers, activities, review meetings and each of their decisions). The
 * first byte picks the parser; any input either is accepted or names why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return 0;
    struct err_detail why = {0};
    json_t *out = NULL;
    int rc = 0;
    switch (data[0] % 5) {
    case 0:
        rc = records_person(body, &out, &why);
        break;
    case 1:
        rc = records_customer(body, &out, &why);
        break;
    case 2:
        rc = records_activity(body, &out, &why);
        break;
    case 3:
        rc = records_meeting(body, &out, &why);
        break;
    default:
        rc = json_is_object(body) ? records_decision(body, &why) : 0;
        break;
    }
    if (rc && !why.msg[0])
        abort(); /* a refusal always says why */
    if (!rc && data[0] % 5 != 4 && !json_is_object(out))
        abort();
    if (!rc && data[0] % 5 == 3) { /* an accepted meeting: each decision checks on its own */
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(out, "decisions"), i, d)
        {
            struct err_detail e = {0};
            if (records_decision(d, &e) && !e.msg[0])
                abort();
        }
    }
    json_decref(out);
    json_decref(body);
    return 0;
}
