/* engine/err.c: the tables behind err.h. */
#include "err.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

struct err_row {
    const char *api_code;
    int http;
    const char *text;
};

static const struct err_row rows[ERR__COUNT] = {[ERR_OK] = {"ok", 200, "ok"},
#define XX(name, code, http, text) [ERR_##name] = {code, http, text},
                                                ERR_MAP(XX)
#undef XX
};

static const struct err_row *row_of(int code)
{
    if (code < 0)
        code = -code;
    if (code >= ERR__COUNT)
        code = ERR_INTERNAL;
    return &rows[code];
}

const char *err_api_code(int code)
{
    return row_of(code)->api_code;
}

const char *err_str(int code)
{
    return row_of(code)->text;
}

int err_http_status(int code)
{
    return row_of(code)->http;
}

__attribute__((format(printf, 4, 0))) static void
vset(struct err_detail *why, int code, const char *field, const char *fmt, va_list ap)
{
    why->code = code;
    vsnprintf(why->msg, sizeof why->msg, fmt, ap);
    snprintf(why->field, sizeof why->field, "%s", field ? field : "");
    /* Messages quote rule text and get cut to fit: clean both, so whatever a
     * rule wrote can go into JSON, a log line or the database. */
    utf8_clean_inplace(why->msg, sizeof why->msg);
    utf8_clean_inplace(why->field, sizeof why->field);
}

int err_set(struct err_detail *why, int code, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vset(why, code, NULL, fmt, ap);
        va_end(ap);
    }
    return code;
}

int err_field(struct err_detail *why, int code, const char *field, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vset(why, code, field, fmt, ap);
        va_end(ap);
    }
    return code;
}

void err_clear(struct err_detail *why)
{
    memset(why, 0, sizeof *why);
}
