/* engine/rules_errors.c: rule errors in plain sight: each owner's
 * last_error (kind, run count, first and newest time), the counts behind
 * ltcd_rule_errors_total, and the rate-limited log line of a runtime error
 * (the policies are in rules.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "num.h"
#include "rules_internal.h"
#include "utf8.h"

static const char *const kind_names[RULES__ERROR_KINDS] = {
    [RULES__ERROR_NONE] = "none",
    [RULES__ERROR_LOAD] = "load",
    [RULES__ERROR_VALIDATION] = "validation",
    [RULES__ERROR_RUNTIME] = "runtime",
};

const char *rules__error_kind_name(enum rules__error_kind kind)
{
    return kind > RULES__ERROR_NONE && kind < RULES__ERROR_KINDS ? kind_names[kind] : "none";
}

bool rules_is_rule_error(int code)
{
    switch (code) {
    case -ERR_RULE_REJECTED:
    case -ERR_RULE_SYNTAX:
    case -ERR_RULE_RUNTIME:
    case -ERR_RULE_SOURCE:
    case -ERR_RULE_BUDGET:
    case -ERR_RULE_MEMORY:
    case -ERR_RULE_OUTPUT:
        return true;
    default:
        return false;
    }
}

enum rules__error_kind rules__errors_kind_of(int code)
{
    switch (code) {
    case -ERR_RULE_SYNTAX:
    case -ERR_RULE_SOURCE:
    case -ERR_IO:
    case -ERR_STORE:
    case -ERR_NOMEM:
        return RULES__ERROR_LOAD;
    default:
        return RULES__ERROR_VALIDATION;
    }
}

void rules__errors_note(struct rules__errors *e, enum rules__error_kind kind, int version,
                        const char *msg, int64_t at_ms)
{
    if (kind <= RULES__ERROR_NONE || kind >= RULES__ERROR_KINDS)
        return;
    e->totals[kind]++;
    if (e->kind == kind && e->version == version && !strcmp(e->msg, msg)) {
        e->count++;
        e->at_ms = at_ms;
        return;
    }
    e->kind = kind;
    e->version = version;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    e->first_at_ms = e->at_ms = at_ms;
    e->count = 1;
}

void rules__errors_settle(struct rules__errors *e, int version, bool activated)
{
    bool settled = e->kind == RULES__ERROR_RUNTIME
                       ? activated && e->version != version
                       : e->kind != RULES__ERROR_NONE && e->version <= version;
    if (settled) {
        e->kind = RULES__ERROR_NONE;
        e->count = 0;
    }
}

static json_t *iso(int64_t ms)
{
    char buf[40];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}

json_t *rules__errors_json(const struct rules__errors *e)
{
    if (e->kind == RULES__ERROR_NONE)
        return json_null();
    return json_pack("{s:s, s:o, s:I, s:o, s:o, s:i}", "kind", rules__error_kind_name(e->kind),
                     "message", utf8_json(e->msg), "count", (json_int_t)e->count, "first_at",
                     iso(e->first_at_ms), "at", iso(e->at_ms), "version", e->version);
}

/* The digits at s (at most 'max' of them) as an int, or 0. */
static int digits(const char *s, size_t max, const char **end)
{
    size_t n = strspn(s, "0123456789");
    *end = s + n;
    char text[16];
    int64_t v = 0;
    if (n == 0 || n > max || n >= sizeof text)
        return 0;
    memcpy(text, s, n);
    text[n] = '\0';
    return num_parse("number", text, 1, INT32_MAX, &v, NULL) ? 0 : (int)v;
}

void rules__site_parse(const char *msg, struct rules__site *out)
{
    memset(out, 0, sizeof *out);
    out->text = msg;
    /* "OWNER vN: " */
    const char *sp = strchr(msg, ' ');
    if (sp && (size_t)(sp - msg) < sizeof out->owner && sp[1] == 'v') {
        char owner[RULES_OWNER_MAX];
        enum rules_layer layer;
        const char *end;
        memcpy(owner, msg, (size_t)(sp - msg));
        owner[sp - msg] = '\0';
        int v = digits(sp + 2, 9, &end);
        if (v && end[0] == ':' && end[1] == ' ' && !rules_owner_layer(owner, &layer)) {
            snprintf(out->owner, sizeof out->owner, "%s", owner);
            out->version = v;
            out->text = end + 2;
        }
    }
    /* "FILE.lua[:LINE]: ", FILE without spaces */
    const char *t = out->text, *lua = strstr(t, ".lua");
    size_t n = lua ? (size_t)(lua - t) + 4 : 0;
    if (!lua || n >= sizeof out->file || memchr(t, ' ', n))
        return;
    memcpy(out->file, t, n);
    out->file[n] = '\0';
    const char *end;
    if (lua[4] == ':')
        out->line = digits(lua + 5, 9, &end);
}

/* The owner a message without "OWNER vN: " is about, from its file's path. */
static void owner_of_file(const char *file, char *owner, size_t n)
{
    const char *slash = NULL;
    if (!strncmp(file, "regions/", 8) && (slash = strchr(file + 8, '/')))
        snprintf(owner, n, "region/%.*s", (int)(slash - file - 8), file + 8);
    else if (!strncmp(file, "offices/", 8) && (slash = strchr(file + 8, '/')))
        snprintf(owner, n, "office/%.*s", (int)(slash - file - 8), file + 8);
    else
        snprintf(owner, n, "hq");
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        snprintf(owner, n, "hq");
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* One line per error, at most RULES_ERROR_LOG_PER_S per owner and second. */
static void log_runtime(struct rules__errors *e, const char *owner, int version,
                        const struct rules__site *site, const char *req_id, const char *actor)
{
    int64_t now = mono_s();
    if (now != e->log_second) {
        if (e->log_dropped)
            log_warn("rules: %s: %llu further runtime error lines were dropped", owner,
                     (unsigned long long)e->log_dropped);
        e->log_second = now;
        e->log_lines = 0;
        e->log_dropped = 0;
    }
    if (e->log_lines >= RULES_ERROR_LOG_PER_S) {
        e->log_dropped++;
        return;
    }
    e->log_lines++;
    char v[16], where[200];
    snprintf(v, sizeof v, "%d", version);
    if (site->line)
        snprintf(where, sizeof where, "%s:%d", site->file, site->line);
    else
        snprintf(where, sizeof where, "%s", site->file);
    const char *kv[] = {"owner",
                        owner,
                        "version",
                        v,
                        "where",
                        where,
                        "actor",
                        actor,
                        "error",
                        site->text,
                        "note",
                        e->log_lines == RULES_ERROR_LOG_PER_S
                            ? "further runtime errors of this owner are dropped this second"
                            : NULL,
                        NULL};
    log_kv(LOG_WARN, req_id, "rule runtime error", kv);
}

void rules_runtime_error(struct rules *r, const struct err_detail *why, const char *req_id,
                         const char *actor)
{
    if (!why || !rules_is_rule_error(why->code))
        return;
    struct rules__site site;
    rules__site_parse(why->msg, &site);
    char owner[RULES_OWNER_MAX];
    if (site.owner[0])
        snprintf(owner, sizeof owner, "%s", site.owner);
    else
        owner_of_file(site.file, owner, sizeof owner);
    int version = site.version;
    if (!version) {
        struct rules_version *a = rules_active(r, owner);
        version = a ? a->version : 0;
    }
    struct rules__errors *e = rules__errors_of(r, owner);
    if (!e)
        return;
    rules__errors_note(e, RULES__ERROR_RUNTIME, version, why->msg, wall_ms());
    log_runtime(e, owner, version, &site, req_id, actor);
}

struct totals_ctx {
    rules_error_total_cb *each;
    void *ctx;
};

static void owner_totals(const char *owner, const struct rules__errors *e, void *ctx)
{
    struct totals_ctx *tc = ctx;
    for (int k = RULES__ERROR_LOAD; k < RULES__ERROR_KINDS; k++)
        if (e->totals[k])
            tc->each(owner, kind_names[k], e->totals[k], tc->ctx);
}

void rules_error_totals(struct rules *r, rules_error_total_cb *each, void *ctx)
{
    struct totals_ctx tc = {each, ctx};
    rules__errors_each(r, owner_totals, &tc);
}
