/* engine/lead.c: validation of lead bodies, driven by a field table. */
#include "json_read.h"
#include "lead.h"

#include <stdio.h>
#include <string.h>

#include "num.h"

enum kind { K_ID, K_TEXT, K_ENUM, K_INT, K_CURRENCY };

struct field {
    const char *path; /* "budget.amount" */
    enum kind kind;
    const char *choices;  /* K_ENUM: "a|b|c" */
    json_int_t min, max;  /* K_INT */
    const char *fallback; /* built-in default as JSON text, or NULL: required */
};

static const struct field fields[] = {
    {"office", K_ID, NULL, 0, 0, NULL},
    {"customer", K_TEXT, NULL, 0, 0, NULL},
    {"title", K_TEXT, NULL, 0, 0, NULL},
    {"source", K_ENUM, "sales|technical|delivery|marketing", 0, 0, NULL},
    {"budget.amount", K_INT, NULL, 0, NUM_EXACT_MAX, NULL},
    {"budget.currency", K_CURRENCY, NULL, 0, 0, "\"CNY\""},
    {"budget.status", K_ENUM, "approved|planned|none", 0, 0, NULL},
    {"horizon_months", K_INT, NULL, 0, LEAD_HORIZON_MAX, NULL},
    {"product_line", K_ID, NULL, 0, 0, "\"general\""},
};
#define NFIELDS (sizeof fields / sizeof *fields)

int lead_valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static int in_choices(const char *v, const char *choices)
{
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && !strncmp(c, v, n))
            return 1;
        if (!bar)
            break;
        c = bar + 1;
    }
    return 0;
}

/* Look up "a.b" in an object; NULL when absent. */
static json_t *get_path(const json_t *o, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!o || !json_is_object(o))
        return NULL;
    if (!dot)
        return json_object_get(o, path);
    char head[32];
    size_t n = (size_t)(dot - path);
    if (n >= sizeof head)
        return NULL;
    memcpy(head, path, n);
    head[n] = '\0';
    return get_path(json_object_get(o, head), dot + 1);
}

static int set_path(json_t *o, const char *path, json_t *v)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return json_object_set(o, path, v);
    char head[32];
    size_t n = (size_t)(dot - path);
    memcpy(head, path, n);
    head[n] = '\0';
    json_t *sub = json_object_get(o, head);
    if (!sub) {
        sub = json_object();
        if (json_object_set_new(o, head, sub))
            return -1;
    }
    return set_path(sub, dot + 1, v);
}

static int check_value(const struct field *f, const json_t *v, struct err_detail *why)
{
    const char *p = f->path;
    switch (f->kind) {
    case K_ID:
        if (!json_is_string(v) || !lead_valid_id(json_string_value(v)))
            return err_field(why, -ERR_INVALID_FIELD, p,
                             "%s: expected an ID of 1 to 63 characters [a-z0-9_-]", p);
        return 0;
    case K_TEXT: {
        if (!json_is_string(v))
            return err_field(why, -ERR_INVALID_FIELD, p, "%s: expected a string", p);
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        size_t chars = 0;
        for (size_t i = 0; i < n; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (chars == 0 || chars > LEAD_TEXT_MAX)
            return err_field(why, -ERR_INVALID_FIELD, p, "%s: expected 1 to %d characters", p,
                             LEAD_TEXT_MAX);
        return 0;
    }
    case K_ENUM:
        if (!json_is_string(v) || !in_choices(json_string_value(v), f->choices))
            return err_field(why, -ERR_INVALID_FIELD, p, "%s: expected one of %s", p, f->choices);
        return 0;
    case K_INT: {
        int64_t n;
        return num_json(p, v, f->min, f->max, &n, why);
    }
    case K_CURRENCY: {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        if (strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] < 'A' ||
            s[2] > 'Z')
            return err_field(why, -ERR_INVALID_FIELD, p, "%s: expected a 3-letter currency code",
                             p);
        return 0;
    }
    }
    return err_field(why, -ERR_INTERNAL, p, "unknown field kind");
}

static int known_key(const char *prefix, const char *key)
{
    char path[80];
    snprintf(path, sizeof path, "%s%s", prefix, key);
    size_t n = strlen(path);
    for (size_t i = 0; i < NFIELDS; i++)
        if (!strcmp(fields[i].path, path) ||
            (!strncmp(fields[i].path, path, n) && fields[i].path[n] == '.'))
            return 1;
    return !strcmp(path, "signals");
}

static int check_signals(const json_t *sig, struct err_detail *why)
{
    if (!json_is_object(sig))
        return err_field(why, -ERR_INVALID_FIELD, "signals",
                         "signals: expected an object of NAME: 0..5");
    if (json_object_size(sig) > LEAD_SIGNALS_MAX)
        return err_field(why, -ERR_INVALID_FIELD, "signals", "signals: at most %d",
                         LEAD_SIGNALS_MAX);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)sig, k, v)
    {
        if (!lead_valid_id(k))
            return err_field(why, -ERR_INVALID_FIELD, "signals",
                             "signals: name '%.40s' is not [a-z0-9_-]", k);
        char f[80];
        int64_t n;
        snprintf(f, sizeof f, "signals.%s", k);
        int rc = num_json(f, v, 0, 5, &n, why);
        if (rc)
            return rc;
    }
    return 0;
}

int lead_check(json_t *in, const json_t *defaults, json_t **out, struct err_detail *why)
{
    if (!json_is_object(in))
        return err_set(why, -ERR_INVALID_JSON, "body: expected a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        if (!known_key("", k))
            return err_field(why, -ERR_INVALID_FIELD, k,
                             "%.60s: unknown field (accepted: office, customer, title, source, "
                             "budget, horizon_months, signals, product_line)",
                             k);
    }
    json_t *budget = json_object_get(in, "budget");
    if (budget && !json_is_object(budget))
        return err_field(why, -ERR_INVALID_FIELD, "budget", "budget: expected an object");
    if (budget) {
        json_object_foreach(budget, k, v)
        {
            if (!known_key("budget.", k)) {
                char f[80];
                snprintf(f, sizeof f, "budget.%.60s", k);
                return err_field(why, -ERR_INVALID_FIELD, f,
                                 "%s: unknown field (accepted: amount, currency, status)", f);
            }
        }
    }
    json_t *lead = json_object();
    if (!lead)
        return err_set(why, -ERR_NOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < NFIELDS && !rc; i++) {
        const struct field *f = &fields[i];
        json_t *val = get_path(in, f->path);
        json_t *owned = NULL;
        if (!val)
            val = get_path(defaults, f->path);
        if (!val && f->fallback)
            val = owned = json_read_str(f->fallback, JSON_DECODE_ANY);
        if (!val)
            rc = err_field(why, -ERR_INVALID_FIELD, f->path, "%s: missing", f->path);
        else if (!(rc = check_value(f, val, why)) && set_path(lead, f->path, val))
            rc = err_set(why, -ERR_NOMEM, "out of memory");
        json_decref(owned);
    }
    if (!rc) {
        json_t *sig = json_object_get(in, "signals");
        if (!sig)
            sig = json_object_get(defaults, "signals");
        /* Lua's empty table crosses as [], so an empty array means no signals. */
        json_t *copy = sig && !(json_is_array(sig) && json_array_size(sig) == 0)
                           ? json_deep_copy(sig)
                           : json_object();
        if (!(rc = check_signals(copy, why)))
            json_object_set(lead, "signals", copy);
        json_decref(copy);
    }
    if (rc) {
        json_decref(lead);
        return rc;
    }
    *out = lead;
    return 0;
}

int lead_parse(const char *body, size_t len, const json_t *defaults, json_t **out,
               struct err_detail *why)
{
    json_error_t jerr;
    /* As api_body_object: jansson only to word a refusal. */
    json_t *in = json_read(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!in)
        in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!in)
        return err_set(why, -ERR_INVALID_JSON, "invalid JSON at line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    int rc = lead_check(in, defaults, out, why);
    json_decref(in);
    return rc;
}
