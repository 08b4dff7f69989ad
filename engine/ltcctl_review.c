/* engine/ltcctl_review.c: the weekly lead review (CONTRACT 8.3; see
 * ltcctl.h): the queue of leads waiting for it, a meeting submitted from a
 * file as one all-or-nothing batch, and a meeting's record. A refused meeting
 * prints every refused decision (ltcctl_http.c prints details.items). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_value.h"
#include "ltcctl.h"

/* A meeting file: 200 decisions with the longest notes are about 200 KiB,
 * and the daemon takes bodies up to 1 MiB by default. */
#define MEETING_FILE_MAX ((size_t)1 << 20)
#define MEETING_ID_MAX   ((int64_t)1 << 53)

/* --- printers ------------------------------------------------------------ */

/* "82.0 hot, mature -> convert" */
static void evaluation_text(const json_t *ev, char *buf, size_t n)
{
    if (!json_is_object(ev)) {
        snprintf(buf, n, "-");
        return;
    }
    snprintf(buf, n, "%.1f %s, %s -> %s", json_number_value(json_object_get(ev, "score")),
             ltcctl_str(ev, "temperature"), ltcctl_str(ev, "maturity"),
             ltcctl_str(ev, "recommendation"));
}

static void print_queue(const json_t *q)
{
    const json_t *leads = json_object_get(q, "leads");
    size_t n = json_array_size(leads), i;
    printf("review queue of %s as of %s: %zu lead%s waiting, highest priority first\n",
           ltcctl_str(q, "unit"), ltcctl_str(q, "as_of"), n, n == 1 ? "" : "s");
    if (!n)
        return;
    printf("%8s %-7s %-22s %-24s %-14s %-30s %5s %-5s %s\n", "PRIORITY", "LEAD", "CUSTOMER",
           "TITLE", "OWNER", "EVALUATION", "AGE", "STALE", "NEXT REVIEW");
    json_t *l;
    json_array_foreach(leads, i, l)
    {
        char ev[128], age[24], cust[LTCCTL_CELL_SIZE(22)], title[LTCCTL_CELL_SIZE(24)];
        evaluation_text(json_object_get(l, "evaluation"), ev, sizeof ev);
        snprintf(age, sizeof age, "%lldd", ltcctl_int_of(l, "age_days"));
        printf("%8.1f %-7lld %s %s %-14s %-30s %5s %-5s %s\n",
               json_number_value(json_object_get(l, "priority")), ltcctl_int_of(l, "instance"),
               ltcctl_cell(ltcctl_str(l, "customer"), 22, cust, sizeof cust),
               ltcctl_cell(ltcctl_str(l, "title"), 24, title, sizeof title), ltcctl_str(l, "owner"),
               ev, age, json_is_true(json_object_get(l, "stale")) ? "stale" : "-",
               ltcctl_str(l, "next_review"));
    }
    if (json_is_true(json_object_get(q, "truncated")))
        printf("(the %zu oldest due shown; decide them to see the rest)\n", n);
}

static void print_meeting(const json_t *m)
{
    const json_t *ds = json_object_get(m, "decisions");
    size_t n = json_array_size(ds), i;
    printf("review meeting %lld of %s, held %s: %zu decision%s\n", ltcctl_int_of(m, "id"),
           ltcctl_str(m, "unit"), ltcctl_str(m, "held_at"), n, n == 1 ? "" : "s");
    printf("  recorded %s by %s%s%s%s\n", ltcctl_str(m, "created_at"), ltcctl_str(m, "created_by"),
           json_is_string(json_object_get(m, "person")) ? " (person " : "",
           json_is_string(json_object_get(m, "person")) ? ltcctl_str(m, "person") : "",
           json_is_string(json_object_get(m, "person")) ? ")" : "");
    printf("%-7s %-9s %-12s %-14s %-11s %s\n", "LEAD", "DECISION", "STAGE", "OWNER", "NEXT REVIEW",
           "NOTE");
    json_t *d;
    json_array_foreach(ds, i, d)
    {
        const char *note = json_is_string(json_object_get(d, "note")) ? ltcctl_str(d, "note") : "";
        printf("%-7lld %-9s %-12s %-14s %-11s %s\n", ltcctl_int_of(d, "instance"),
               ltcctl_str(d, "decision"), ltcctl_str(d, "stage"), ltcctl_str(d, "owner"),
               ltcctl_str(d, "next_review"), note);
    }
}

/* --- verbs ---------------------------------------------------------------- */

int ltcctl_queue(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *unit = ltcctl_opt(a, "--unit"), *as_of = ltcctl_opt(a, "--as-of");
    if ((unit && ltcctl_refuse(v, cli_unit("--unit", unit, &why), &why)) ||
        (as_of && ltcctl_refuse(v, cli_date("--as-of", as_of, &why), &why)))
        return LTCCTL_USAGE;
    char path[256] = "/v1/reviews/queue";
    if (unit)
        ltcctl_query_add(path, sizeof path, "unit", unit);
    if (as_of)
        ltcctl_query_add(path, sizeof path, "as_of", as_of);
    return ltcctl_call(o, "GET", path, NULL, print_queue);
}

/* The file is sent as written once it reads as a JSON object: the daemon
 * checks every decision and answers for all of them at once. */
int ltcctl_meeting(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    const char *file = a->pos[0];
    size_t len;
    char *text = ltcctl_read_file(file, MEETING_FILE_MAX, &len);
    if (!text && len)
        return ltcctl_usage(v, "%s: more than %zu bytes; a meeting holds at most 200 decisions",
                            file, MEETING_FILE_MAX);
    if (!text)
        return ltcctl_usage(v, "cannot read %s", file);
    json_error_t err;
    json_t *m = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    int rc = 0;
    if (!m)
        rc = ltcctl_usage(v,
                          "%s: not JSON: line %d, column %d: %s\n(the body of POST /v1/reviews: "
                          "{\"unit\", \"held_at\", \"decisions\": [{\"instance\", \"decision\", "
                          "...}]})",
                          file, err.line, err.column, err.text);
    else if (!json_is_object(m))
        rc = ltcctl_usage(v, "%s: expected a JSON object {\"unit\", \"held_at\", \"decisions\"}",
                          file);
    json_decref(m);
    if (!rc) {
        struct ltcctl_buf b = {0};
        long st = ltcctl_request(o, "POST", "/v1/reviews", text, len, NULL, &b);
        rc = ltcctl_finish(o, st, &b, print_meeting);
    }
    free(text);
    return rc;
}

int ltcctl_meeting_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int64_t id;
    if (ltcctl_int(a->verb, "ID", a->pos[0], 1, MEETING_ID_MAX, &id))
        return LTCCTL_USAGE;
    char path[64];
    snprintf(path, sizeof path, "/v1/reviews/%lld", (long long)id);
    return ltcctl_call(o, "GET", path, NULL, print_meeting);
}
