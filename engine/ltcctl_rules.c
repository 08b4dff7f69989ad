/* engine/ltcctl_rules.c: rule versions on the daemon: status, put, review,
 * approval, history, simulation, shadow runs (see ltcctl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_value.h"
#include "lead.h"
#include "ltcctl.h"

#define VERSION_MAX 1000000000 /* the daemon's bound on version numbers */

/* What the sentence printers say the answer is about ("region/south
 * thresholds.lua"); set by the verb before its request. */
static char subject[512];

/* OWNER: hq, region/ID or office/ID, checked before it becomes a path. */
static int owner_word(const struct ltcctl_args *a, const char *owner)
{
    const char *id =
        !strncmp(owner, "region/", 7) || !strncmp(owner, "office/", 7) ? owner + 7 : NULL;
    if (!strcmp(owner, "hq") || (id && lead_valid_id(id)))
        return 0;
    return ltcctl_usage(a->verb, "OWNER: '%.60s' is not hq, region/ID or office/ID", owner);
}

static int version_word(const struct ltcctl_args *a, const char *what, const char *s, int *v)
{
    int64_t n;
    if (ltcctl_int(a->verb, what, s, 1, VERSION_MAX, &n))
        return LTCCTL_USAGE;
    *v = (int)n;
    return 0;
}

/* --- printers ------------------------------------------------------------ */

static void print_status(const json_t *body)
{
    size_t i;
    json_t *o;
    printf("%-22s %-8s %-14s %-10s %s\n", "OWNER", "ACTIVE", "HASH", "PENDING", "LAST ERROR");
    json_array_foreach(json_object_get(body, "owners"), i, o)
    {
        const json_t *a = json_object_get(o, "active");
        char pend[64] = "-";
        size_t k, off = 0;
        json_t *p;
        json_array_foreach(json_object_get(o, "pending"), k, p)
        {
            if (off < sizeof pend)
                off += (size_t)snprintf(pend + off, sizeof pend - off, "%sv%lld", k ? "," : "",
                                        ltcctl_int_of(p, "version"));
        }
        char act[16] = "-";
        if (json_is_object(a))
            snprintf(act, sizeof act, "v%lld", ltcctl_int_of(a, "version"));
        const json_t *e = json_object_get(o, "last_error");
        printf("%-22s %-8s %-14.12s %-10s %s\n", ltcctl_str(o, "owner"), act,
               json_is_object(a) ? ltcctl_str(a, "hash") : "-", pend,
               json_is_object(e) ? ltcctl_str(e, "message") : "");
    }
}

static void print_reload(const json_t *body)
{
    long long failed = ltcctl_int_of(body, "failed");
    printf("rules directory re-read: %lld owner%s failed\n", failed, failed == 1 ? "" : "s");
    print_status(json_object_get(body, "rules"));
}

/* "region/south thresholds.lua: version 2 pending (built on v1)" */
static void print_created(const json_t *j)
{
    const json_t *on = json_object_get(j, "base");
    printf("%s: version %lld %s", subject, ltcctl_int_of(j, "version"), ltcctl_str(j, "status"));
    if (json_is_integer(on))
        printf(" (built on v%lld)", (long long)json_integer_value(on));
    printf("\n");
}

/* "region/south v2: approved, now active" and the like. */
static void print_decided(const json_t *j)
{
    const char *status = ltcctl_str(j, "status");
    printf("%s v%lld: %s%s\n", ltcctl_str(j, "owner"), ltcctl_int_of(j, "version"),
           !strcmp(status, "active") ? "approved, now active" : status,
           !strcmp(status, "rejected") && subject[0] ? subject : "");
}

static void print_rollback(const json_t *j)
{
    printf("%s: rolled back; v%lld is %s\n", ltcctl_str(j, "owner"), ltcctl_int_of(j, "version"),
           ltcctl_str(j, "status"));
}

static void print_versions(const json_t *r)
{
    printf("%-8s %-11s %-6s %-6s %-14s %-24s %s\n", "VERSION", "STATUS", "ORIGIN", "BASE", "HASH",
           "CREATED", "BY");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r, "versions"), i, v)
    {
        char ver[16], base[16] = "-";
        snprintf(ver, sizeof ver, "v%lld", ltcctl_int_of(v, "version"));
        if (json_is_integer(json_object_get(v, "base")))
            snprintf(base, sizeof base, "v%lld", ltcctl_int_of(v, "base"));
        printf("%-8s %-11s %-6s %-6s %-14.12s %-24s %s\n", ver, ltcctl_str(v, "status"),
               ltcctl_str(v, "origin"), base, ltcctl_str(v, "hash"), ltcctl_str(v, "created_at"),
               ltcctl_str(v, "created_by"));
    }
    if (!json_array_size(json_object_get(r, "versions")))
        printf("(%s has no versions yet)\n", ltcctl_str(r, "owner"));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One version: a header line, then each file's source under its name. */
static void print_version(const json_t *v)
{
    char base[24] = "none";
    if (json_is_integer(json_object_get(v, "base")))
        snprintf(base, sizeof base, "v%lld", ltcctl_int_of(v, "base"));
    printf("%s v%lld: %s, origin %s, built on %s, hash %.12s, created %s by %s\n",
           ltcctl_str(v, "owner"), ltcctl_int_of(v, "version"), ltcctl_str(v, "status"),
           ltcctl_str(v, "origin"), base, ltcctl_str(v, "hash"), ltcctl_str(v, "created_at"),
           ltcctl_str(v, "created_by"));
    const json_t *files = json_object_get(v, "files");
    const char *names[256];
    size_t n = 0;
    const char *name;
    json_t *src;
    json_object_foreach((json_t *)files, name, src)
    {
        if (n < 256)
            names[n++] = name;
    }
    qsort(names, n, sizeof *names, cmp_names);
    printf("files: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_object_get(files, names[i]);
        size_t len = json_string_length(t);
        const char *text = json_string_value(t);
        printf("\n%s==> %s <==%s\n", ltcctl_colour ? C_BOLD : "", names[i],
               ltcctl_colour ? C_OFF : "");
        fwrite(text ? text : "", 1, len, stdout);
        if (len && text[len - 1] != '\n')
            printf("\n");
    }
}

/* One file's diff: its two header lines, then hunks (where a removed
 * "-- comment" line starts with "---" too). */
static void print_diff_text(const char *d)
{
    int in_hunk = 0;
    while (*d) {
        size_t n = strcspn(d, "\n");
        const char *c = NULL;
        if (!strncmp(d, "@@ ", 3)) {
            c = C_CYAN;
            in_hunk = 1;
        } else if (!in_hunk) {
            c = C_BOLD;
        } else if (*d == '-') {
            c = C_RED;
        } else if (*d == '+') {
            c = C_GREEN;
        }
        if (ltcctl_colour && c)
            printf("%s%.*s%s\n", c, (int)n, d, C_OFF);
        else
            printf("%.*s\n", (int)n, d);
        d += n + (d[n] == '\n');
    }
}

static void print_diff(const json_t *r)
{
    const json_t *from = json_object_get(r, "from");
    int counts[4] = {0};
    static const char *const kinds[] = {"changed", "added", "removed", "same"};
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(r, "files"), i, f)
    {
        for (int k = 0; k < 4; k++)
            counts[k] += !strcmp(ltcctl_str(f, "status"), kinds[k]);
    }
    char against[32] = "an empty bundle (nothing active)";
    if (json_is_integer(from))
        snprintf(against, sizeof against, "v%lld", (long long)json_integer_value(from));
    printf("%s v%lld against %s: %d changed, %d added, %d removed, %d same\n",
           ltcctl_str(r, "owner"), ltcctl_int_of(r, "to"), against, counts[0], counts[1], counts[2],
           counts[3]);
    json_array_foreach(json_object_get(r, "files"), i, f)
    {
        if (!strcmp(ltcctl_str(f, "status"), "same"))
            continue;
        if (json_is_true(json_object_get(f, "approximate")))
            printf("(%s: too different for a minimal diff; shown as one replacement)\n",
                   ltcctl_str(f, "file"));
        print_diff_text(ltcctl_str(f, "diff"));
    }
}

/* "field before -> after; ..." of a changed entry's before and after. */
static void changes(const json_t *before, const json_t *after, char *buf, size_t n)
{
    size_t off = 0;
    const char *k;
    json_t *v;
    buf[0] = '\0';
    if (json_is_string(json_object_get(before, "error"))) {
        snprintf(buf, n, "was failing: %s", json_string_value(json_object_get(before, "error")));
        return;
    }
    json_object_foreach((json_t *)after, k, v)
    {
        char b[64], a[64];
        ltcctl_scalar(json_object_get(before, k), b, sizeof b);
        ltcctl_scalar(v, a, sizeof a);
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s %s -> %s", off ? "; " : "", k, b, a);
    }
}

static void list_title(const char *title, const json_t *r, const char *list, const char *total)
{
    size_t shown = json_array_size(json_object_get(r, list));
    long long all = ltcctl_int_of(r, total);
    if ((long long)shown < all)
        printf("\n%s (%zu of %lld)\n", title, shown, all);
    else
        printf("\n%s (%lld)\n", title, all);
}

static void print_simulation(const json_t *r)
{
    printf("%s v%lld against active v%lld: %lld leads evaluated%s\n", ltcctl_str(r, "owner"),
           ltcctl_int_of(r, "version"), ltcctl_int_of(r, "active_version"),
           ltcctl_int_of(r, "evaluated"),
           json_is_true(json_object_get(r, "truncated")) ? " (truncated: limit or max_ms)" : "");
    printf("\nCOUNTS\n  %-16s %lld\n  %-16s %lld\n  %-16s %lld\n", "changed",
           ltcctl_int_of(r, "changed_total"), "failed", ltcctl_int_of(r, "failed_total"), "routing",
           ltcctl_int_of(r, "routing_total"));
    const char *what;
    json_t *c;
    json_object_foreach(json_object_get(r, "counts"), what, c)
    {
        const char *k;
        json_t *v;
        json_object_foreach(c, k, v)
            printf("  %-16s %-22s %lld\n", what, k, (long long)json_integer_value(v));
    }
    size_t i;
    json_t *e;
    char text[512];
    list_title("CHANGED", r, "changed", "changed_total");
    if (json_array_size(json_object_get(r, "changed")))
        printf("%-9s %-16s %s\n", "INSTANCE", "OFFICE", "BEFORE -> AFTER");
    json_array_foreach(json_object_get(r, "changed"), i, e)
    {
        changes(json_object_get(e, "before"), json_object_get(e, "after"), text, sizeof text);
        printf("%-9lld %-16s %s\n", ltcctl_int_of(e, "instance"), ltcctl_str(e, "office"), text);
    }
    list_title("FAILED", r, "failed", "failed_total");
    if (json_array_size(json_object_get(r, "failed")))
        printf("%-9s %-16s %-20s %s\n", "INSTANCE", "OFFICE", "RULES", "ERROR");
    json_array_foreach(json_object_get(r, "failed"), i, e)
    {
        char who[96];
        snprintf(who, sizeof who, "%s v%lld", ltcctl_str(e, "owner"), ltcctl_int_of(e, "version"));
        printf("%-9lld %-16s %-20s %s\n", ltcctl_int_of(e, "instance"), ltcctl_str(e, "office"),
               who, ltcctl_str(e, "error"));
    }
    list_title("ROUTING", r, "routing", "routing_total");
    if (json_array_size(json_object_get(r, "routing")))
        printf("%-9s %-16s %-12s %-5s %24s %8s %8s  %s\n", "INSTANCE", "OFFICE", "STAGE", "KDP",
               "VALUE", "DISCOUNT", "MARGIN", "LEVEL BEFORE -> AFTER");
    json_array_foreach(json_object_get(r, "routing"), i, e)
    {
        char d[32], m[32], v[48];
        ltcctl_scalar(json_object_get(e, "discount"), d, sizeof d);
        ltcctl_scalar(json_object_get(e, "margin"), m, sizeof m);
        printf("%-9lld %-16s %-12s %-5s %24s %8s %8s  %s -> %s\n", ltcctl_int_of(e, "instance"),
               ltcctl_str(e, "office"), ltcctl_str(e, "stage"), ltcctl_str(e, "kdp"),
               ltcctl_money_of(e, "value", NULL, v, sizeof v), d, m, ltcctl_str(e, "before"),
               ltcctl_str(e, "after"));
    }
}

static void print_shadow(const json_t *r)
{
    printf("%s v%lld shadow: %s, until %s (started %s by %s)\n", ltcctl_str(r, "owner"),
           ltcctl_int_of(r, "version"), ltcctl_str(r, "status"), ltcctl_str(r, "until"),
           ltcctl_str(r, "started_at"), ltcctl_str(r, "started_by"));
    if (json_is_string(json_object_get(r, "end_reason")))
        printf("ended %s: %s\n", ltcctl_str(r, "ended_at"), ltcctl_str(r, "end_reason"));
    printf("\n%-12s %lld\n%-12s %lld\n%-12s %lld\n", "evaluated", ltcctl_int_of(r, "evaluated"),
           "differing", ltcctl_int_of(r, "differing"), "failed", ltcctl_int_of(r, "failed"));
    size_t i;
    json_t *e;
    if (!json_array_size(json_object_get(r, "examples")))
        return;
    printf("\nEXAMPLES\n%-9s %-24s %-8s %s\n", "INSTANCE", "AT", "RESULT", "ACTIVE -> SHADOW");
    json_array_foreach(json_object_get(r, "examples"), i, e)
    {
        char text[512];
        const char *result = json_is_string(json_object_get(e, "error"))   ? "failed"
                             : json_is_true(json_object_get(e, "differs")) ? "differs"
                                                                           : "same";
        if (!strcmp(result, "failed"))
            snprintf(text, sizeof text, "%s", ltcctl_str(e, "error"));
        else if (!strcmp(result, "differs")) {
            /* Only the fields that differ. */
            json_t *a = json_object_get(e, "active"), *sh = json_object_get(e, "shadow");
            json_t *b = json_object(), *af = json_object();
            const char *k;
            json_t *v;
            json_object_foreach(sh, k, v)
            {
                if (json_equal(v, json_object_get(a, k)))
                    continue;
                json_object_set(b, k, json_object_get(a, k));
                json_object_set(af, k, v);
            }
            changes(b, af, text, sizeof text);
            json_decref(b);
            json_decref(af);
        } else {
            snprintf(text, sizeof text, "%s, %s",
                     ltcctl_str(json_object_get(e, "shadow"), "temperature"),
                     ltcctl_str(json_object_get(e, "shadow"), "recommendation"));
        }
        printf("%-9lld %-24s %-8s %s\n", ltcctl_int_of(e, "instance"), ltcctl_str(e, "at"), result,
               text);
    }
}

static void print_rule_events(const json_t *r)
{
    size_t k;
    json_t *e;
    printf("%-24s %-24s %-18s %-8s %-14s %s\n", "AT", "ACTOR", "ACTION", "VERSION", "HASH",
           "MESSAGE");
    json_array_foreach(json_object_get(r, "events"), k, e)
    {
        char v[16] = "-";
        if (json_is_integer(json_object_get(e, "version")))
            snprintf(v, sizeof v, "v%lld", ltcctl_int_of(e, "version"));
        printf("%-24s %-24s %-18s %-8s %-14.12s %.80s\n", ltcctl_str(e, "at"),
               ltcctl_str(e, "actor"), ltcctl_str(e, "action"), v, ltcctl_str(e, "hash"),
               ltcctl_str(e, "message"));
    }
}

/* --- verbs --------------------------------------------------------------- */

int ltcctl_rules_status(const struct ltcctl *o, const struct ltcctl_args *a)
{
    (void)a;
    return ltcctl_call(o, "GET", "/v1/rules", NULL, print_status);
}

/* PUT (put) or DELETE of one file, built on --base V (default: the newest).
 * FILE is the name inside the bundle; a FILE with a '/' and no PATH is a
 * path to read, named by its last component (issue 15: "rules put
 * region/north /tmp/bad.lua" used to become .../region/north//tmp/bad.lua). */
static int put_or_rm(const struct ltcctl *o, const struct ltcctl_args *a, bool put)
{
    const char *owner = a->pos[0], *file = a->pos[1], *path = a->n_pos > 2 ? a->pos[2] : file;
    if (owner_word(a, owner))
        return LTCCTL_USAGE;
    const char *slash = strrchr(file, '/');
    if (slash && put && a->n_pos > 2)
        return ltcctl_usage(a->verb,
                            "FILE '%.60s' is the name inside the bundle (e.g. "
                            "thresholds.lua), not a path: the file read is PATH",
                            file);
    if (slash && !put)
        return ltcctl_usage(a->verb,
                            "FILE '%.60s' is the name inside the bundle (e.g. "
                            "thresholds.lua), not a path",
                            file);
    const char *name = slash ? slash + 1 : file;
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-.") != strlen(name))
        return ltcctl_usage(a->verb, "FILE: '%.60s' is not a rule file name (e.g. thresholds.lua)",
                            name);
    int base = 0;
    const char *b = ltcctl_opt(a, "--base");
    if (b && version_word(a, "--base", b, &base))
        return LTCCTL_USAGE;
    size_t len = 0;
    char *src = put ? ltcctl_read_file(path, LTCCTL_FILE_MAX, &len) : NULL;
    if (put && !src) {
        fprintf(stderr, "ltcctl: %s: cannot read %s\n", a->verb->words, path);
        return LTCCTL_USAGE;
    }
    char url[512], q[32] = "";
    if (base)
        snprintf(q, sizeof q, "?base=%d", base);
    snprintf(url, sizeof url, "/v1/rules/%s/%s%s", owner, name, q);
    snprintf(subject, sizeof subject, "%s %s", owner, name);
    struct ltcctl_buf out = {0};
    long st = put ? ltcctl_request(o, "PUT", url, src, len, "text/x-lua", &out)
                  : ltcctl_request(o, "DELETE", url, NULL, 0, NULL, &out);
    free(src);
    return ltcctl_finish(o, st, &out, print_created);
}

int ltcctl_rules_put(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return put_or_rm(o, a, true);
}

int ltcctl_rules_rm(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return put_or_rm(o, a, false);
}

/* OWNER VERSION, or OWNER@VERSION in one word; *used: the words they took. */
static int owner_version(const struct ltcctl_args *a, char *owner, size_t n, int *version,
                         int *used)
{
    const char *at = strchr(a->pos[0], '@');
    if (!at && a->n_pos < 2)
        return ltcctl_usage(a->verb, "VERSION is missing");
    *used = at ? 1 : 2;
    snprintf(owner, n, "%.*s", at ? (int)(at - a->pos[0]) : (int)strlen(a->pos[0]), a->pos[0]);
    if (owner_word(a, owner))
        return LTCCTL_USAGE;
    return version_word(a, "VERSION", at ? at + 1 : a->pos[1], version);
}

/* approve OWNER VERSION; reject OWNER VERSION [REASON]. */
static int decide(const struct ltcctl *o, const struct ltcctl_args *a, bool approve)
{
    char owner[128], path[256];
    int v, used;
    if (owner_version(a, owner, sizeof owner, &v, &used))
        return LTCCTL_USAGE;
    if (a->n_pos > used + (approve ? 0 : 1))
        return ltcctl_usage(a->verb, "unexpected '%s'", a->pos[a->n_pos - 1]);
    const char *reason = approve ? NULL : a->n_pos > used ? a->pos[used] : "rejected";
    snprintf(path, sizeof path, "/v1/rules/%s/versions/%d/%s", owner, v,
             approve ? "approve" : "reject");
    snprintf(subject, sizeof subject, "%s%s", reason ? ": " : "", reason ? reason : "");
    json_t *body = reason ? json_pack("{s:s}", "reason", reason) : json_object();
    int rc = ltcctl_call(o, "POST", path, body, print_decided);
    json_decref(body);
    return rc;
}

int ltcctl_rules_approve(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return decide(o, a, true);
}

int ltcctl_rules_reject(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return decide(o, a, false);
}

int ltcctl_rules_versions(const struct ltcctl *o, const struct ltcctl_args *a)
{
    if (owner_word(a, a->pos[0]))
        return LTCCTL_USAGE;
    char path[256];
    snprintf(path, sizeof path, "/v1/rules/%s/versions", a->pos[0]);
    return ltcctl_call(o, "GET", path, NULL, print_versions);
}

/* The owner's active version number (0: none), from GET /v1/rules. */
static int active_version(const struct ltcctl *o, const char *owner, int *version)
{
    json_t *status = NULL;
    int rc = ltcctl_get_json(o, "/v1/rules", &status);
    size_t i;
    json_t *ow;
    *version = 0;
    json_array_foreach(json_object_get(status, "owners"), i, ow)
    {
        if (!strcmp(ltcctl_str(ow, "owner"), owner))
            *version = (int)ltcctl_int_of(json_object_get(ow, "active"), "version");
    }
    json_decref(status);
    return rc;
}

int ltcctl_rules_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    char owner[128], path[256];
    int v = 0;
    if (a->n_pos == 1 && !strchr(a->pos[0], '@')) {
        if (owner_word(a, a->pos[0]))
            return LTCCTL_USAGE;
        snprintf(owner, sizeof owner, "%s", a->pos[0]);
        int rc = active_version(o, owner, &v);
        if (rc)
            return rc;
        if (!v) {
            fprintf(stderr,
                    "ltcctl: rules show: %s has no active version; name one: "
                    "ltcctl rules show %s VERSION (ltcctl rules versions %s)\n",
                    owner, owner, owner);
            return LTCCTL_ERROR;
        }
    } else {
        int used;
        if (owner_version(a, owner, sizeof owner, &v, &used))
            return LTCCTL_USAGE;
        if (a->n_pos > used)
            return ltcctl_usage(a->verb, "unexpected '%s'", a->pos[used]);
    }
    snprintf(path, sizeof path, "/v1/rules/%s/versions/%d", owner, v);
    return ltcctl_call(o, "GET", path, NULL, print_version);
}

int ltcctl_rules_diff(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int v, w = 0;
    if (owner_word(a, a->pos[0]) || version_word(a, "V", a->pos[1], &v) ||
        (a->n_pos == 3 && version_word(a, "W", a->pos[2], &w)))
        return LTCCTL_USAGE;
    char path[256], q[32] = "";
    if (w)
        snprintf(q, sizeof q, "?against=%d", w);
    snprintf(path, sizeof path, "/v1/rules/%s/versions/%d/diff%s", a->pos[0], v, q);
    return ltcctl_call(o, "GET", path, NULL, print_diff);
}

int ltcctl_rules_reload(const struct ltcctl *o, const struct ltcctl_args *a)
{
    (void)a;
    return ltcctl_call(o, "POST", "/v1/rules/reload", NULL, print_reload);
}

int ltcctl_rules_simulate(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int v;
    if (owner_word(a, a->pos[0]) || version_word(a, "VERSION", a->pos[1], &v))
        return LTCCTL_USAGE;
    json_t *body = json_object();
    struct err_detail why = {0};
    for (int k = 2; k < a->n_pos; k++) {
        char key[64];
        const char *val;
        int64_t n = 0;
        bool date = false, num = false;
        if (cli_key_value(a->pos[k], key, &val, &why))
            goto bad;
        if (!strcmp(key, "from") || !strcmp(key, "to"))
            date = true;
        else if (!strcmp(key, "limit") || !strcmp(key, "max_ms"))
            num = true;
        else if (strcmp(key, "unit")) {
            json_decref(body);
            return ltcctl_usage(a->verb,
                                "no key '%s'; the keys: unit=UNIT, from=YYYY-MM-DD, "
                                "to=YYYY-MM-DD, limit=N, max_ms=N",
                                key);
        }
        if ((date && cli_date(key, val, &why)) ||
            (num && cli_int(key, val, 1, strcmp(key, "limit") ? 30000 : 1000000, &n, &why)))
            goto bad;
        json_object_set_new(body, key, num ? json_integer(n) : json_string(val));
    }
    char path[256];
    snprintf(path, sizeof path, "/v1/rules/%s/versions/%d/simulate", a->pos[0], v);
    int rc = ltcctl_call(o, "POST", path, body, print_simulation);
    json_decref(body);
    return rc;
bad:
    json_decref(body);
    return ltcctl_usage(a->verb, "%s", why.msg);
}

int ltcctl_rules_shadow(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int v;
    if (owner_word(a, a->pos[0]) || version_word(a, "VERSION", a->pos[1], &v))
        return LTCCTL_USAGE;
    char path[256];
    snprintf(path, sizeof path, "/v1/rules/%s/versions/%d/shadow", a->pos[0], v);
    const char *hours = ltcctl_opt(a, "--hours");
    if (!hours)
        return ltcctl_call(o, "GET", path, NULL, print_shadow);
    int64_t h;
    if (ltcctl_int(a->verb, "--hours", hours, 1, 168, &h))
        return LTCCTL_USAGE;
    json_t *body = json_pack("{s:I}", "hours", (json_int_t)h);
    int rc = ltcctl_call(o, "POST", path, body, print_shadow);
    json_decref(body);
    return rc;
}

int ltcctl_rules_rollback(const struct ltcctl *o, const struct ltcctl_args *a)
{
    if (owner_word(a, a->pos[0]))
        return LTCCTL_USAGE;
    char path[256];
    snprintf(path, sizeof path, "/v1/rules/%s/rollback", a->pos[0]);
    return ltcctl_call(o, "POST", path, NULL, print_rollback);
}

int ltcctl_rules_events(const struct ltcctl *o, const struct ltcctl_args *a)
{
    if (owner_word(a, a->pos[0]))
        return LTCCTL_USAGE;
    char path[256];
    snprintf(path, sizeof path, "/v1/rules/%s/events", a->pos[0]);
    return ltcctl_call(o, "GET", path, NULL, print_rule_events);
}
