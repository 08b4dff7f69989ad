/* engine/allocation.c: allocation runs (see allocation.h). */
#include "allocation.h"

#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "auth.h"
#include "buf.h"
#include "period.h"

#define NAME_MAX_LEN          256   /* a unit: "person/" and a name of up to 248 bytes, whole */
#define ALLOCATION_CALL_UNITS 20000 /* units handed to share.lua in one call */

struct project {
    int64_t id;
    char *region, *office, *customer, *product_line; /* owned */
    char *team[3];                                   /* owned; ar, sr, fr; may be NULL */
    int64_t cash, contribution, records;
    int64_t amount;
};

static const char *const roles[3] = {"ar", "sr", "fr"};

struct run {
    struct project *projects; /* owned, in instance id order */
    size_t n_projects, cap;
    json_t *used; /* { OWNER: VERSION } */
};

/* Lines serialised as they are made, comma-separated. */
struct text {
    struct buf b;
    size_t n;
};

/* What one thread splits with: its own copy of the rules (a Lua state is
 * used by one thread at a time), and where its lines and errors go. */
struct side {
    struct run *run; /* projects: read; each region's project amounts: written */
    struct rules *r;
    struct rules_version *hq;
    struct text *out;
    struct err_detail *why;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int on_project(const struct store_project *p, void *ctx)
{
    struct run *run = ctx;
    if (run->n_projects == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 256;
        struct project *g = realloc(run->projects, cap * sizeof *g);
        if (!g)
            return 1;
        run->projects = g;
        run->cap = cap;
    }
    struct project *x = &run->projects[run->n_projects++];
    memset(x, 0, sizeof *x);
    x->id = p->instance_id;
    x->region = strdup(p->region);
    x->office = strdup(p->office);
    x->customer = strdup(p->customer);
    x->product_line = strdup(p->product_line);
    x->team[0] = dup_or_null(p->ar);
    x->team[1] = dup_or_null(p->sr);
    x->team[2] = dup_or_null(p->fr);
    x->cash = p->amount;
    x->records = p->records;
    /* Contribution gross profit; a loss contributes nothing. */
    double c = floor(p->amount_x_margin / 100.0);
    x->contribution = c > 0 ? (int64_t)c : 0;
    return 0;
}

static void run_free(struct run *run)
{
    for (size_t i = 0; i < run->n_projects; i++) {
        struct project *p = &run->projects[i];
        free(p->region);
        free(p->office);
        free(p->customer);
        free(p->product_line);
        for (int k = 0; k < 3; k++)
            free(p->team[k]);
    }
    free(run->projects);
    json_decref(run->used);
}

/* --- invariants ----------------------------------------------------------- */

struct ranked {
    int64_t contribution, amount;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->contribution != y->contribution)
        return x->contribution < y->contribution ? -1 : 1;
    return (x->amount > y->amount) - (x->amount < y->amount);
}

__attribute__((format(printf, 4, 5))) static int
broken(struct err_detail *why, const char *invariant, const char *where, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_field(why, -ERR_INVARIANT, invariant, "hq/share.lua: %s: %s", where, msg);
}

int allocation_check(const char *where, int64_t total, size_t n, const char *const *keys,
                     const int64_t *contributions, const json_t *parts, int64_t *amounts,
                     struct err_detail *why)
{
    if (!json_is_object(parts) || json_object_size(parts) != n)
        return broken(why, "units", where, "must give one part to each unit and no other");
    /* Each part on its own first, then their sum. */
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(parts, keys[i]);
        if (!v)
            return broken(why, "units", where, "no part for %s", keys[i]);
        if (!json_is_integer(v))
            return broken(why, "integer", where, "the part of %s is not integer money", keys[i]);
        json_int_t a = json_integer_value(v);
        if (a < 0)
            return broken(why, "negative", where, "the part of %s is negative", keys[i]);
        if (a > total)
            return broken(why, "overflow", where, "the part of %s exceeds the total", keys[i]);
        amounts[i] = a;
    }
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += amounts[i]; /* each part <= total <= 2^53: no overflow before the check */
        if (sum > total)
            return broken(why, "sum", where, "the parts add up to more than the total %lld",
                          (long long)total);
    }
    if (sum != total)
        return broken(why, "sum", where, "the parts add up to %lld, not %lld", (long long)sum,
                      (long long)total);
    /* Ordering: sorted by contribution, no part may be below one with less. */
    struct ranked *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return err_set(why, -ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (contributions[i] >= 0)
            r[m++] = (struct ranked){contributions[i], amounts[i]};
    qsort(r, m, sizeof *r, cmp_ranked);
    int64_t lower_max = -1; /* the largest part among strictly lower contributions */
    int rc = 0;
    for (size_t i = 0; i < m && !rc;) {
        size_t j = i;
        int64_t class_max = -1;
        for (; j < m && r[j].contribution == r[i].contribution; j++) {
            if (r[j].amount < lower_max)
                rc = broken(why, "ordering", where,
                            "a unit with more contribution gets less than one with less");
            if (r[j].amount > class_max)
                class_max = r[j].amount;
        }
        if (class_max > lower_max)
            lower_max = class_max;
        i = j;
    }
    free(r);
    return rc;
}

/* --- the tree ---------------------------------------------------------------- */

struct group {
    const char *parent; /* the unit whose amount is split */
    int64_t total;
    size_t n;
    char **keys;            /* owned: what share.lua sees */
    char **units;           /* owned: the lines' units */
    int64_t *contributions; /* -1: outside the ordering */
    int64_t *amounts;
    size_t *ref;   /* per unit: the project index, where it is a project */
    char **inputs; /* per unit, owned: the line's inputs as JSON text, or NULL */
    bool failed;   /* out of memory */
};

static void group_init(struct group *g, const char *parent, int64_t total, size_t cap)
{
    memset(g, 0, sizeof *g);
    g->parent = parent;
    g->total = total;
    cap = cap ? cap : 1;
    g->keys = calloc(cap, sizeof *g->keys);
    g->units = calloc(cap, sizeof *g->units);
    g->contributions = calloc(cap, sizeof *g->contributions);
    g->amounts = calloc(cap, sizeof *g->amounts);
    g->ref = calloc(cap, sizeof *g->ref);
    g->inputs = calloc(cap, sizeof *g->inputs);
    g->failed = !g->keys || !g->units || !g->contributions || !g->amounts || !g->ref || !g->inputs;
}

/* Takes over 'inputs' (may be NULL). */
static void group_add(struct group *g, const char *key, const char *unit, int64_t contribution,
                      char *inputs)
{
    if (g->failed) {
        free(inputs);
        return;
    }
    g->keys[g->n] = strdup(key);
    g->units[g->n] = strdup(unit);
    g->contributions[g->n] = contribution;
    g->inputs[g->n] = inputs;
    g->failed = !g->keys[g->n] || !g->units[g->n];
    g->n++;
}

static void group_deinit(struct group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->keys[i]);
        free(g->units[i]);
        free(g->inputs[i]);
    }
    free(g->keys);
    free(g->units);
    free(g->contributions);
    free(g->amounts);
    free(g->ref);
    free(g->inputs);
}

static json_t *group_json(const struct group *g)
{
    json_t *units = json_array();
    for (size_t i = 0; i < g->n; i++) {
        json_t *u = json_object();
        json_object_set_new_nocheck(u, "key", json_string(g->keys[i]));
        json_object_set_new_nocheck(
            u, "contribution", json_integer(g->contributions[i] < 0 ? 0 : g->contributions[i]));
        json_array_append_new(units, u);
    }
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "total", json_integer(g->total));
    json_object_set_new_nocheck(o, "units", units);
    return o;
}

/* Split every group of one level with one call to HQ's share.lua, check each,
 * and add the lines. */
static int split_chunk(struct side *sd, const char *level, struct group *groups, size_t n,
                       const json_t *params, const char *region)
{
    json_t *list = json_array();
    /* The result is one { KEY = amount } per group: its size follows from the
     * keys handed over (escaped at most 6 bytes a byte, plus quotes, colon, a
     * 16-digit amount and a comma), on top of the usual limit. */
    size_t out_max = SANDBOX_OUTPUT_MAX_BYTES;
    for (size_t i = 0; i < n; i++) {
        if (groups[i].failed) {
            json_decref(list);
            return err_set(sd->why, -ERR_NOMEM, "out of memory");
        }
        json_array_append_new(list, group_json(&groups[i]));
        for (size_t k = 0; k < groups[i].n; k++)
            out_max += 6 * strlen(groups[i].keys[k]) + 24;
    }
    json_t *lv = json_string(level), *out = NULL;
    json_t *args[3] = {lv, list, params ? (json_t *)params : json_null()};
    int rc = sandbox_call_sized(sd->hq->sb, "share.lua", "split", args, 3, out_max, &out, sd->why);
    json_decref(lv);
    json_decref(list);
    if (!rc && (!json_is_array(out) || json_array_size(out) != n))
        rc = err_field(sd->why, -ERR_INVARIANT, "units",
                       "hq/share.lua: split(%s) must return one result per group", level);
    for (size_t i = 0; i < n && !rc; i++) {
        struct group *g = &groups[i];
        char where[160];
        snprintf(where, sizeof where, "split at level %s%s%s (%s)", level, region ? " in " : "",
                 region ? region : "", g->parent);
        rc = allocation_check(where, g->total, g->n, (const char *const *)g->keys, g->contributions,
                              json_array_get(out, i), g->amounts, sd->why);
        for (size_t k = 0; k < g->n && !rc; k++) {
            /* The platform is outside the ordering (contribution -1). */
            const char *line_level = g->contributions[k] < 0 ? "platform" : level;
            struct buf *t = &sd->out->b;
            char num[96];
            buf_str(t, sd->out->n++ ? ",{\"unit\":" : "{\"unit\":");
            buf_json_string(t, g->units[k]);
            buf_str(t, ",\"parent\":");
            buf_json_string(t, g->parent);
            snprintf(num, sizeof num, ",\"level\":\"%s\",\"contribution\":%lld,\"amount\":%lld",
                     line_level, (long long)(g->contributions[k] < 0 ? 0 : g->contributions[k]),
                     (long long)g->amounts[k]);
            buf_str(t, num);
            if (g->inputs[k]) {
                buf_str(t, ",\"inputs\":");
                buf_str(t, g->inputs[k]);
            }
            buf_str(t, "}");
        }
    }
    json_decref(out);
    return rc;
}

/* Calls carry at most ALLOCATION_CALL_UNITS units, so that a level with many
 * projects stays within the sandbox's memory cap (a single group may not be
 * cut: it goes whole). */
static int split_level(struct side *sd, const char *level, struct group *groups, size_t n,
                       const json_t *params, const char *region)
{
    int rc = 0;
    for (size_t start = 0; start < n && !rc;) {
        size_t end = start, units = 0;
        while (end < n && (end == start || units + groups[end].n <= ALLOCATION_CALL_UNITS))
            units += groups[end++].n;
        rc = split_chunk(sd, level, groups + start, end - start, params, region);
        start = end;
    }
    return rc;
}

/* A project line's inputs, as JSON text (malloc'd; NULL when out of memory). */
static char *project_inputs(const struct project *p)
{
    struct buf b = {0};
    buf_printf(&b, "{\"instance\":%lld,\"customer\":", (long long)p->id);
    buf_json_string(&b, p->customer);
    buf_str(&b, ",\"product_line\":");
    buf_json_string(&b, p->product_line);
    buf_printf(&b, ",\"cash\":%lld,\"records\":%lld}", (long long)p->cash, (long long)p->records);
    return buf_take(&b, NULL); /* NULL when out of memory */
}

static int64_t region_contribution(const struct run *run, const char *region)
{
    int64_t c = 0;
    for (size_t i = 0; i < run->n_projects; i++)
        if (!strcmp(run->projects[i].region, region))
            c += run->projects[i].contribution;
    return c;
}

static int64_t office_contribution(const struct run *run, const char *office)
{
    int64_t c = 0;
    for (size_t i = 0; i < run->n_projects; i++)
        if (!strcmp(run->projects[i].office, office))
            c += run->projects[i].contribution;
    return c;
}

/* Offices, projects and people of one region; *share_version: the version
 * of the region whose share parameters were used, or 0 (HQ's were). */
static int split_region(struct side *sd, const struct org *org, size_t ri, int64_t amount,
                        int *share_version)
{
    struct run *run = sd->run;
    const char *rid = org->regions[ri].id;
    char owner[RULES_OWNER_MAX], runit[NAME_MAX_LEN];
    snprintf(owner, sizeof owner, "region/%s", rid);
    snprintf(runit, sizeof runit, "region/%s", rid);
    struct rules_version *rv = rules_active(sd->r, owner);
    const json_t *params = rv && rv->share ? rv->share : sd->hq->share;
    *share_version = rv && rv->share ? rv->version : 0;

    /* Offices, and the platform share. */
    size_t n_offices = 0;
    for (size_t i = 0; i < org->n_offices; i++)
        n_offices += org->offices[i].region == ri;
    struct group og;
    group_init(&og, runit, amount, n_offices + 1);
    char unit[NAME_MAX_LEN];
    snprintf(unit, sizeof unit, "platform/%s", rid);
    group_add(&og, "platform", unit, -1, NULL);
    for (size_t i = 0; i < org->n_offices; i++) {
        if (org->offices[i].region != ri)
            continue;
        snprintf(unit, sizeof unit, "office/%s", org->offices[i].id);
        group_add(&og, unit, unit, office_contribution(run, org->offices[i].id), NULL);
    }
    int rc = split_level(sd, "office", &og, 1, params, rid);

    /* Projects, one group per office that has any. */
    struct group *pg = calloc(n_offices ? n_offices : 1, sizeof *pg);
    size_t n_pg = 0, og_index = 0;
    for (size_t i = 0; i < org->n_offices && !rc; i++) {
        if (org->offices[i].region != ri)
            continue;
        int64_t office_amount = og.amounts[++og_index]; /* [0] is the platform */
        size_t count = 0;
        for (size_t k = 0; k < run->n_projects; k++)
            count += !strcmp(run->projects[k].office, org->offices[i].id);
        if (!count)
            continue;
        struct group *g = &pg[n_pg++];
        char *parent = malloc(NAME_MAX_LEN);
        snprintf(parent, NAME_MAX_LEN, "office/%s", org->offices[i].id);
        group_init(g, parent, office_amount, count);
        for (size_t k = 0; k < run->n_projects; k++) {
            struct project *p = &run->projects[k];
            if (strcmp(p->office, org->offices[i].id))
                continue;
            g->ref[g->n] = k;
            snprintf(unit, sizeof unit, "project/%lld", (long long)p->id);
            char *in = project_inputs(p);
            g->failed = g->failed || !in;
            group_add(g, unit, unit, p->contribution, in);
        }
    }
    if (!rc)
        rc = split_level(sd, "project", pg, n_pg, params, rid);
    for (size_t i = 0; i < n_pg && !rc; i++)
        for (size_t k = 0; k < pg[i].n; k++)
            run->projects[pg[i].ref[k]].amount = pg[i].amounts[k];

    /* People: each project's part across its named triangle. */
    size_t n_people_groups = 0;
    for (size_t k = 0; k < run->n_projects; k++)
        n_people_groups += !strcmp(run->projects[k].region, rid);
    struct group *tg = calloc(n_people_groups ? n_people_groups : 1, sizeof *tg);
    size_t n_tg = 0;
    for (size_t k = 0; k < run->n_projects && !rc; k++) {
        struct project *p = &run->projects[k];
        if (strcmp(p->region, rid) || (!p->team[0] && !p->team[1] && !p->team[2]))
            continue;
        struct group *g = &tg[n_tg++];
        char *parent = malloc(NAME_MAX_LEN);
        snprintf(parent, NAME_MAX_LEN, "project/%lld", (long long)p->id);
        group_init(g, parent, p->amount, 3);
        for (int role = 0; role < 3 && !rc; role++) {
            if (!p->team[role])
                continue;
            /* Never cut a name: two people would become one unit (and a cut
             * inside a character would not be UTF-8). */
            if (strlen(p->team[role]) >= NAME_MAX_LEN - strlen("person/"))
                rc = err_field(sd->why, -ERR_RULE_OUTPUT, roles[role],
                               "project/%lld: the %s's name is over %zu bytes", (long long)p->id,
                               roles[role], NAME_MAX_LEN - strlen("person/") - 1);
            snprintf(unit, sizeof unit, "person/%s", p->team[role]);
            char *in = NULL;
            if (asprintf(&in, "{\"role\":\"%s\"}", roles[role]) < 0) {
                in = NULL;
                g->failed = true;
            }
            group_add(g, roles[role], unit, p->contribution, in);
        }
    }
    if (!rc)
        rc = split_level(sd, "person", tg, n_tg, params, rid);

    for (size_t i = 0; i < n_pg; i++) {
        free((char *)pg[i].parent);
        group_deinit(&pg[i]);
    }
    for (size_t i = 0; i < n_tg; i++) {
        free((char *)tg[i].parent);
        group_deinit(&tg[i]);
    }
    free(pg);
    free(tg);
    group_deinit(&og);
    return rc;
}

void allocation_scope(json_t *run, const char *unit)
{
    json_t *lines = json_object_get(run, "lines"), *parent_of = json_object(), *kept = json_array();
    size_t i;
    json_t *l;
    /* Only units that are unique in a run may be looked up: not person/NAME. */
    json_array_foreach(lines, i, l)
    {
        const char *u = json_string_value(json_object_get(l, "unit"));
        const char *level = json_string_value(json_object_get(l, "level"));
        if (u && level && strcmp(level, "person"))
            json_object_set(parent_of, u, json_object_get(l, "parent"));
    }
    json_array_foreach(lines, i, l)
    {
        const char *u = json_string_value(json_object_get(l, "unit"));
        bool in = u && !strcmp(u, unit);
        /* From the line's own parent up: hq -> region -> office -> project. */
        const char *p = json_string_value(json_object_get(l, "parent"));
        for (int depth = 0; !in && p && depth < 8; depth++) {
            in = !strcmp(p, unit);
            p = json_string_value(json_object_get(parent_of, p));
        }
        if (in)
            json_array_append(kept, l);
    }
    json_object_set_new(run, "lines", kept);
    json_decref(parent_of);
}

/* SHA-256 of everything the result depends on. */
static void input_hash(const struct run *run, const char *period, int64_t pool, char out[65])
{
    json_t *projects = json_array();
    for (size_t i = 0; i < run->n_projects; i++) {
        const struct project *p = &run->projects[i];
        json_array_append_new(projects,
                              json_pack("[I, s, s, I, I, s?, s?, s?]", (json_int_t)p->id, p->region,
                                        p->office, (json_int_t)p->cash, (json_int_t)p->contribution,
                                        p->team[0], p->team[1], p->team[2]));
    }
    json_t *all = json_pack("{s:s, s:I, s:o, s:O}", "period", period, "pool", (json_int_t)pool,
                            "projects", projects, "rules", run->used);
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)text, text ? strlen(text) : 0);
    sodium_bin2hex(out, 65, digest, 32);
    free(text);
    json_decref(all);
}

/* A computed run, not stored yet. */
struct allocation {
    char period[16];
    int64_t pool;
    char hash[65];
    char actor[AUTH_UNIT_MAX + 16];
    int64_t at_ms;   /* when it was computed: its created_at */
    struct buf text; /* the run as JSON text, but for its id (then whole) */
    int64_t id;      /* 0 until allocation_store_part reserved it */
    size_t stored;   /* bytes of text stored */
    int parts;       /* parts stored */
};

void allocation_free(struct allocation *a)
{
    if (!a)
        return;
    buf_deinit(&a->text);
    free(a);
}

/* The regions, shared out over the sides: each side takes the next region
 * not taken yet. */
struct region_part {
    int64_t amount;
    struct text text;
    int share_version;
    int rc;
    struct err_detail why;
};

struct regions {
    const struct org *org;
    struct region_part *parts;
    atomic_size_t next;
};

static void split_regions(struct regions *rs, struct side *sd)
{
    for (size_t i; (i = atomic_fetch_add(&rs->next, 1)) < rs->org->n_regions;) {
        struct region_part *p = &rs->parts[i];
        sd->out = &p->text;
        sd->why = &p->why;
        p->rc = split_region(sd, rs->org, i, p->amount, &p->share_version);
    }
}

struct helper {
    struct regions *rs;
    struct side *sd;
};

static void helper_main(void *arg)
{
    struct helper *h = arg;
    split_regions(h->rs, h->sd);
}

/* The run's text: its lines, hq's first, then each region's in org order,
 * and what follows them (the id is added when it is stored). */
static void run_text(struct buf *t, const struct text *hq, const struct regions *rs,
                     const char *period, int64_t pool, const char *hash, const char *used,
                     int64_t at_ms, const char *actor)
{
    size_t size = hq->b.len + 1024;
    for (size_t i = 0; i < rs->org->n_regions; i++)
        size += rs->parts[i].text.b.len + 1;
    buf_reserve(t, size);
    buf_str(t, "{\"lines\":[");
    buf_put(t, hq->b.p ? hq->b.p : "", hq->b.len);
    bool any = hq->n > 0;
    for (size_t i = 0; i < rs->org->n_regions; i++) {
        const struct text *x = &rs->parts[i].text;
        if (!x->n)
            continue;
        if (any)
            buf_str(t, ",");
        buf_put(t, x->b.p, x->b.len);
        any = true;
    }
    char when[40], head[200];
    time_t secs = (time_t)(at_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_str(t, "],\"period\":");
    buf_json_string(t, period);
    snprintf(head, sizeof head, ",\"pool\":%lld,\"input_hash\":\"%s\",\"rules\":", (long long)pool,
             hash);
    buf_str(t, head);
    buf_str(t, used);
    buf_str(t, ",\"created_at\":");
    buf_json_string(t, when);
    buf_str(t, ",\"created_by\":");
    buf_json_string(t, actor);
}

int allocation_compute(struct store *st, struct rules *const *rules, size_t n_rules,
                       const char *period, int64_t pool, const char *actor, struct allocation **out,
                       struct err_detail *why)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    int rc = period_range(period, from, to, why);
    if (rc)
        return rc;
    if (pool < 0 || pool > ALLOCATION_POOL_MAX)
        return err_field(why, -ERR_INVALID_FIELD, "pool", "pool: expected 0 to 2^53 fen");
    if (!n_rules || n_rules > ALLOCATION_SIDES)
        return err_set(why, -ERR_INTERNAL, "allocation: %zu rules copies", n_rules);
    struct allocation *a = calloc(1, sizeof *a);
    if (!a)
        return err_set(why, -ERR_NOMEM, "out of memory");
    struct run run = {0};
    struct text hq_text = {0};
    struct side sides[ALLOCATION_SIDES];
    for (size_t i = 0; i < n_rules; i++) {
        sides[i] = (struct side){
            .run = &run, .r = rules[i], .hq = rules_hq(rules[i]), .out = &hq_text, .why = why};
        rules_version_ref(sides[i].hq);
    }
    const struct org *org = sides[0].hq->org;
    run.used = json_pack("{s:i}", "hq", sides[0].hq->version);
    struct regions rs = {.org = org, .parts = calloc(org->n_regions + 1, sizeof *rs.parts)};
    if (!run.used || !rs.parts)
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        rc = store_ledger_projects(st, "cash", from, to, on_project, &run, why);

    /* Regions by contribution, then each region on whichever side is free. */
    struct group rg;
    group_init(&rg, "hq", pool, org->n_regions);
    for (size_t i = 0; i < org->n_regions; i++) {
        char unit[NAME_MAX_LEN];
        snprintf(unit, sizeof unit, "region/%s", org->regions[i].id);
        group_add(&rg, unit, unit, region_contribution(&run, org->regions[i].id), NULL);
    }
    if (!rc)
        rc = split_level(&sides[0], "region", &rg, 1, NULL, NULL);
    for (size_t i = 0; i < org->n_regions && !rc; i++)
        rs.parts[i].amount = rg.amounts[i];
    group_deinit(&rg);
    if (!rc) {
        struct helper h = {&rs, &sides[1]};
        uv_thread_t thread;
        bool helping =
            n_rules > 1 && org->n_regions > 1 && !uv_thread_create(&thread, helper_main, &h);
        split_regions(&rs, &sides[0]);
        if (helping)
            uv_thread_join(&thread);
    }
    for (size_t i = 0; i < org->n_regions && !rc; i++) {
        char owner[RULES_OWNER_MAX];
        snprintf(owner, sizeof owner, "region/%s", org->regions[i].id);
        if (rs.parts[i].rc) {
            *why = rs.parts[i].why;
            rc = rs.parts[i].rc;
        } else if (rs.parts[i].share_version) {
            json_object_set_new(run.used, owner, json_integer(rs.parts[i].share_version));
        }
    }

    if (!rc) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a->at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        snprintf(a->period, sizeof a->period, "%s", period);
        snprintf(a->actor, sizeof a->actor, "%s", actor);
        a->pool = pool;
        input_hash(&run, period, pool, a->hash);
        char *used = json_dumps(run.used, JSON_COMPACT | JSON_SORT_KEYS);
        if (used)
            run_text(&a->text, &hq_text, &rs, period, pool, a->hash, used, a->at_ms, actor);
        if (!used || a->text.failed || hq_text.b.failed)
            rc = err_set(why, -ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < org->n_regions && !rc; i++)
            if (rs.parts[i].text.b.failed)
                rc = err_set(why, -ERR_NOMEM, "out of memory");
        free(used);
    }
    buf_deinit(&hq_text.b);
    for (size_t i = 0; rs.parts && i < org->n_regions; i++)
        buf_deinit(&rs.parts[i].text.b);
    free(rs.parts);
    for (size_t i = 0; i < n_rules; i++)
        rules_version_unref(sides[i].hq);
    run_free(&run);
    if (rc) {
        allocation_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int allocation_store_part(struct store *st, struct allocation *a, bool *done,
                          struct err_detail *why)
{
    *done = false;
    int rc = 0;
    if (!a->id) { /* the first part: the run's id, which ends its text */
        rc = store_share_run_reserve(st, &a->id, why);
        if (rc)
            return rc;
        char tail[48];
        snprintf(tail, sizeof tail, ",\"id\":%lld}", (long long)a->id);
        buf_str(&a->text, tail);
        if (a->text.failed)
            return err_set(why, -ERR_NOMEM, "out of memory");
    }
    size_t n = a->text.len - a->stored;
    if (n > ALLOCATION_PART_BYTES)
        n = ALLOCATION_PART_BYTES;
    rc = store_share_run_part(st, a->id, a->parts, a->text.p + a->stored, n, why);
    if (rc)
        return rc;
    if (a->stored + n < a->text.len) {
        a->stored += n;
        a->parts++;
        return 0;
    }
    rc = store_share_run_insert(st, a->id, a->period, a->pool, a->hash, a->at_ms, a->actor, why);
    if (rc)
        return rc;
    a->stored += n;
    a->parts++;
    *done = true;
    return 0;
}

char *allocation_take_text(struct allocation *a)
{
    return buf_take(&a->text, NULL);
}
