/* engine/ltcctl_people.c: people and customers, the registry of lead
 * management (CONTRACT 8.3; see ltcctl.h). A put sends the whole record, as
 * PUT does; values are checked here with the daemon's own limits
 * (records.h) before anything is sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_value.h"
#include "ltcctl.h"
#include "money.h"
#include "records.h"

#define SEGMENT_MAX 60 /* characters of a customer's segment (records.c) */

/* --- printers ------------------------------------------------------------ */

/* "ar, sr" from a list of role names; "-" when none. */
static void roles_text(const json_t *roles, char *buf, size_t n)
{
    size_t off = 0, i;
    json_t *r;
    buf[0] = '\0';
    json_array_foreach(roles, i, r)
    {
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "",
                                    json_is_string(r) ? json_string_value(r) : "?");
    }
    if (!off)
        snprintf(buf, n, "-");
}

static void print_person(const json_t *p)
{
    char roles[256];
    roles_text(json_object_get(p, "roles"), roles, sizeof roles);
    printf("person %s: %s, office %s (region %s), %s\n", ltcctl_str(p, "id"), ltcctl_str(p, "name"),
           ltcctl_str(p, "office"), ltcctl_str(p, "region"),
           json_is_false(json_object_get(p, "active")) ? "inactive" : "active");
    printf("  roles    %s\n  updated  %s by %s\n", roles, ltcctl_str(p, "updated_at"),
           ltcctl_str(p, "updated_by"));
}

/* "(3 people)" or "(50 shown; more: --after ID)" under a listing. */
static void print_next(const json_t *body, size_t n, const char *one, const char *many)
{
    const json_t *next = json_object_get(body, "next");
    if (json_is_string(next))
        printf("(%zu shown; more: --after %s)\n", n, json_string_value(next));
    else
        printf("(%zu %s)\n", n, n == 1 ? one : many);
}

static void print_people(const json_t *body)
{
    const json_t *list = json_object_get(body, "people");
    printf("%-20s %-24s %-16s %-8s %s\n", "ID", "NAME", "OFFICE", "ACTIVE", "ROLES");
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        char roles[256], name[LTCCTL_CELL_SIZE(24)];
        roles_text(json_object_get(p, "roles"), roles, sizeof roles);
        printf("%-20s %s %-16s %-8s %s\n", ltcctl_str(p, "id"),
               ltcctl_cell(ltcctl_str(p, "name"), 24, name, sizeof name), ltcctl_str(p, "office"),
               json_is_false(json_object_get(p, "active")) ? "no" : "yes", roles);
    }
    print_next(body, json_array_size(list), "person", "people");
}

/* A customer's credit limit, or the default the credit KCP then uses. */
static const char *credit_text(const json_t *c, char *buf, size_t n)
{
    if (json_is_integer(json_object_get(c, "credit_limit")))
        return ltcctl_money_of(c, "credit_limit", NULL, buf, n);
    snprintf(buf, n, "HQ's default");
    return buf;
}

static void print_customer(const json_t *c)
{
    char limit[MONEY_TEXT_MAX];
    printf("customer %s: %s, office %s (region %s)\n", ltcctl_str(c, "id"), ltcctl_str(c, "name"),
           ltcctl_str(c, "office"), ltcctl_str(c, "region"));
    printf("  segment       %s\n  credit limit  %s\n  updated       %s by %s\n",
           ltcctl_str(c, "segment"), credit_text(c, limit, sizeof limit),
           ltcctl_str(c, "updated_at"), ltcctl_str(c, "updated_by"));
}

static void print_customers(const json_t *body)
{
    const json_t *list = json_object_get(body, "customers");
    printf("%-20s %-28s %-16s %-16s %24s\n", "ID", "NAME", "OFFICE", "SEGMENT", "CREDIT LIMIT");
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        char limit[MONEY_TEXT_MAX], name[LTCCTL_CELL_SIZE(28)], seg[LTCCTL_CELL_SIZE(16)];
        printf("%-20s %s %-16s %s %24s\n", ltcctl_str(c, "id"),
               ltcctl_cell(ltcctl_str(c, "name"), 28, name, sizeof name), ltcctl_str(c, "office"),
               ltcctl_cell(ltcctl_str(c, "segment"), 16, seg, sizeof seg),
               credit_text(c, limit, sizeof limit));
    }
    print_next(body, json_array_size(list), "customer", "customers");
}

/* What a put did: created (201) or updated (200), then the record. */
static long put_status;

static void print_person_put(const json_t *p)
{
    printf("%s ", put_status == 201 ? "created" : "updated");
    print_person(p);
}

static void print_customer_put(const json_t *c)
{
    printf("%s ", put_status == 201 ? "created" : "updated");
    print_customer(c);
}

static void print_deactivated(const json_t *p)
{
    printf("person %s (%s, office %s): deactivated; kept, but never an owner or on a scorecard "
           "again\n",
           ltcctl_str(p, "id"), ltcctl_str(p, "name"), ltcctl_str(p, "office"));
}

/* --- shared ---------------------------------------------------------------- */

/* GET /v1/KIND?office=&limit=&after= */
static int party_list(const struct ltcctl *o, const struct ltcctl_args *a, const char *kind,
                      ltcctl_print_fn *pretty)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *office = ltcctl_opt(a, "--office"), *limit = ltcctl_opt(a, "--limit"),
               *after = ltcctl_opt(a, "--after");
    int64_t n;
    if ((office && ltcctl_refuse(v, cli_id("--office", office, &why), &why)) ||
        (limit && ltcctl_int(v, "--limit", limit, 1, 500, &n)) ||
        (after && ltcctl_refuse(v, cli_id("--after", after, &why), &why)))
        return LTCCTL_USAGE;
    char path[256];
    snprintf(path, sizeof path, "/v1/%s", kind);
    if (office)
        ltcctl_query_add(path, sizeof path, "office", office);
    if (limit)
        ltcctl_query_add(path, sizeof path, "limit", limit);
    if (after)
        ltcctl_query_add(path, sizeof path, "after", after);
    return ltcctl_call(o, "GET", path, NULL, pretty);
}

static int party_show(const struct ltcctl *o, const struct ltcctl_args *a, const char *kind,
                      ltcctl_print_fn *pretty)
{
    struct err_detail why = {0};
    if (ltcctl_refuse(a->verb, cli_id("ID", a->pos[0], &why), &why))
        return LTCCTL_USAGE;
    char path[128];
    snprintf(path, sizeof path, "/v1/%s/%s", kind, a->pos[0]);
    return ltcctl_call(o, "GET", path, NULL, pretty);
}

/* PUT the record and print what it did. 'body' is borrowed. */
static int party_put(const struct ltcctl *o, const char *kind, const char *id, const json_t *body,
                     ltcctl_print_fn *pretty)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/%s/%s", kind, id);
    char *text = json_dumps(body, JSON_COMPACT);
    struct ltcctl_buf b = {0};
    put_status = ltcctl_request(o, "PUT", path, text, text ? strlen(text) : 0, NULL, &b);
    free(text);
    return ltcctl_finish(o, put_status, &b, pretty);
}

/* --name and --office, both required, checked as the daemon checks them. */
static int name_office(const struct ltcctl_args *a, json_t *body)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *name = ltcctl_opt(a, "--name"), *office = ltcctl_opt(a, "--office");
    if (!name || !office)
        return ltcctl_usage(v, "missing %s: a put sends the whole record",
                            name ? "--office ID" : "--name TEXT");
    if (ltcctl_refuse(v, cli_text("--name", name, RECORDS_TEXT_MAX, &why), &why) ||
        ltcctl_refuse(v, cli_id("--office", office, &why), &why))
        return LTCCTL_USAGE;
    json_object_set_new(body, "name", json_string(name));
    json_object_set_new(body, "office", json_string(office));
    return 0;
}

/* --- people ----------------------------------------------------------------- */

int ltcctl_people_list(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return party_list(o, a, "people", print_people);
}

int ltcctl_people_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return party_show(o, a, "people", print_person);
}

int ltcctl_people_put(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    if (ltcctl_refuse(v, cli_id("ID", a->pos[0], &why), &why))
        return LTCCTL_USAGE;
    json_t *body = json_object(), *roles = json_array();
    json_object_set_new(body, "roles", roles);
    int rc = name_office(a, body);
    const char *const *vals;
    int n = ltcctl_opt_all(a, "--role", &vals);
    if (!rc && n > RECORDS_ROLES_MAX)
        rc = ltcctl_usage(v, "--role given %d times: a person has at most %d roles", n,
                          RECORDS_ROLES_MAX);
    for (int k = 0; !rc && k < n; k++) {
        rc = ltcctl_refuse(v, cli_choice("--role", vals[k], records_person_roles, &why), &why);
        for (int j = 0; !rc && j < k; j++)
            if (!strcmp(vals[j], vals[k]))
                rc = ltcctl_usage(v, "--role %s given twice", vals[k]);
        if (!rc)
            json_array_append_new(roles, json_string(vals[k]));
    }
    if (!rc) {
        json_object_set_new(body, "active", json_boolean(!ltcctl_opt(a, "--inactive")));
        rc = party_put(o, "people", a->pos[0], body, print_person_put);
    }
    json_decref(body);
    return rc;
}

/* The stored record read back, written again with active false: a PUT
 * takes the whole record, and this keeps its name, office and roles. */
int ltcctl_people_deactivate(const struct ltcctl *o, const struct ltcctl_args *a)
{
    struct err_detail why = {0};
    if (ltcctl_refuse(a->verb, cli_id("ID", a->pos[0], &why), &why))
        return LTCCTL_USAGE;
    char path[128];
    snprintf(path, sizeof path, "/v1/people/%s", a->pos[0]);
    json_t *was = NULL;
    int rc = ltcctl_get_json(o, path, &was);
    if (rc)
        return rc;
    json_t *body = json_pack("{s:O?, s:O?, s:O?, s:b}", "name", json_object_get(was, "name"),
                             "office", json_object_get(was, "office"), "roles",
                             json_object_get(was, "roles"), "active", 0);
    json_decref(was);
    rc = body ? party_put(o, "people", a->pos[0], body, print_deactivated) : LTCCTL_ERROR;
    json_decref(body);
    return rc;
}

/* --- customers ----------------------------------------------------------------- */

int ltcctl_customers_list(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return party_list(o, a, "customers", print_customers);
}

int ltcctl_customers_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return party_show(o, a, "customers", print_customer);
}

int ltcctl_customers_put(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    if (ltcctl_refuse(v, cli_id("ID", a->pos[0], &why), &why))
        return LTCCTL_USAGE;
    json_t *body = json_object();
    int rc = name_office(a, body);
    const char *segment = ltcctl_opt(a, "--segment");
    if (!rc && segment)
        rc = ltcctl_refuse(v, cli_text("--segment", segment, SEGMENT_MAX, &why), &why);
    if (!rc && segment)
        json_object_set_new(body, "segment", json_string(segment));
    int64_t limit = 0;
    bool given = false;
    if (!rc)
        rc = ltcctl_money_upto(v, "--credit-limit", ltcctl_opt(a, "--credit-limit"), "--yuan",
                               ltcctl_opt(a, "--yuan"), RECORDS_MONEY_MAX, &limit, &given);
    if (!rc && given)
        json_object_set_new(body, "credit_limit", json_integer(limit));
    if (!rc)
        rc = party_put(o, "customers", a->pos[0], body, print_customer_put);
    json_decref(body);
    return rc;
}
