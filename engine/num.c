/* engine/num.c: numbers from outside, checked before they are narrowed (see num.h). */
#include "num.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>

static int out_of_range(const char *field, int64_t min, int64_t max, struct err_detail *why)
{
    return err_field(why, -ERR_INVALID_FIELD, field, "%s: expected an integer from %lld to %lld",
                     field, (long long)min, (long long)max);
}

int num_parse(const char *field, const char *s, int64_t min, int64_t max, int64_t *out,
              struct err_detail *why)
{
    if (!s || !*s)
        return out_of_range(field, min, max, why);
    const char *p = s;
    bool neg = *p == '-';
    p += neg;
    if (*p < '0' || *p > '9' || (*p == '0' && (p[1] || neg)))
        return out_of_range(field, min, max, why);
    /* Accumulate negatively: -2^63 fits, 2^63 does not. */
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return out_of_range(field, min, max, why);
        int d = *p - '0';
        if (v < (INT64_MIN + d) / 10)
            return out_of_range(field, min, max, why);
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return out_of_range(field, min, max, why);
        v = -v;
    }
    if (v < min || v > max)
        return out_of_range(field, min, max, why);
    *out = v;
    return 0;
}

int num_json(const char *field, const json_t *v, int64_t min, int64_t max, int64_t *out,
             struct err_detail *why)
{
    if (!json_is_integer(v))
        return out_of_range(field, min, max, why);
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return out_of_range(field, min, max, why);
    *out = (int64_t)i;
    return 0;
}

static int exact(const char *path, const json_t *v, int depth, struct err_detail *why)
{
    char sub[128];
    const char *k;
    size_t i;
    json_t *x;
    int rc = 0;
    if (depth > 64) /* jansson's own nesting limit is lower; never reached */
        return err_field(why, -ERR_INVALID_FIELD, path, "%s: nested too deeply", path);
    switch (json_typeof(v)) {
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        if (n < -NUM_EXACT_MAX || n > NUM_EXACT_MAX)
            return err_field(why, -ERR_INVALID_FIELD, path,
                             "%s: %lld is beyond +-2^53, the largest number kept exact", path,
                             (long long)n);
        return 0;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!isfinite(d) || fabs(d) > (double)NUM_EXACT_MAX)
            return err_field(why, -ERR_INVALID_FIELD, path,
                             "%s: %g is beyond +-2^53, the largest number kept exact", path, d);
        return 0;
    }
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, x)
        {
            snprintf(sub, sizeof sub, "%s%s%.60s", path, path[0] ? "." : "", k);
            if ((rc = exact(sub, x, depth + 1, why)))
                break;
        }
        return rc;
    case JSON_ARRAY:
        json_array_foreach(v, i, x)
        {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i + 1);
            if ((rc = exact(sub, x, depth + 1, why)))
                break;
        }
        return rc;
    default:
        return 0;
    }
}

int num_json_exact(const char *field, const json_t *v, struct err_detail *why)
{
    return exact(field ? field : "", v, 0, why);
}
