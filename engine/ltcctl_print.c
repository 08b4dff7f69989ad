/* engine/ltcctl_print.c: formatting shared by every verb (see ltcctl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltcctl.h"
#include "money.h"

int ltcctl_colour;

const char *ltcctl_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

long long ltcctl_int_of(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

const char *ltcctl_money_of(const json_t *o, const char *k, const char *cur, char *buf, size_t n)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        snprintf(buf, n, "-");
        return buf;
    }
    return money_format((int64_t)json_integer_value(v), cur ? cur : "CNY", buf, n);
}

void ltcctl_scalar(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) {
        snprintf(buf, n, "%s", json_string_value(v));
        return;
    }
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    snprintf(buf, n, "%s", t ? t : "-");
    free(t);
}

const char *ltcctl_pct_of(const json_t *o, const char *k, char *buf, size_t n)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%g%%", json_number_value(v));
    return buf;
}

void ltcctl_rules_text(const json_t *rules, char *buf, size_t n)
{
    size_t off = 0;
    const char *owner;
    json_t *v;
    buf[0] = '\0';
    json_object_foreach((json_t *)rules, owner, v)
    {
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s@%lld", off ? " " : "", owner,
                                    (long long)json_integer_value(v));
    }
    if (!off)
        snprintf(buf, n, "-");
}
