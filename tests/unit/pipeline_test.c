/* tests/unit/pipeline_test.c: the pipeline's rounding rule, the sums the
 * triggers keep (against a model recomputed from the instances), and the
 * tree's nodes adding up exactly. */
#include <stdlib.h>
#include <unistd.h>

#include "org.h"
#include "pipeline.h"
#include "store.h"
#include "store_leads.h"
#include "store_pipeline.h"
#include "test.h"

#define SCRATCH_NAME "pipeline"
#include "scratch_store.h"

TEST(weighted_values_round_half_up_in_integer_fen)
{
    CHECK(pipeline_weighted(333333335, 10) == 33333334); /* .5 up */
    CHECK(pipeline_weighted(333333334, 10) == 33333333); /* .4 down */
    CHECK(pipeline_weighted(1, 50) == 1);                /* 0.5 fen up */
    CHECK(pipeline_weighted(1, 49) == 0);
    CHECK(pipeline_weighted(0, 80) == 0);
    CHECK(pipeline_weighted((int64_t)1 << 53, 100) == (int64_t)1 << 53); /* no overflow */
    CHECK(pipeline_weighted((int64_t)1 << 53, 0) == 0);
}

/* The model: what each instance's forecast is now. */
#define N_INST 40
static const char *const offices[] = {"province-a", "province-b", "city-c"};
static const char *const cats[] = {"commit", "best_case", "pipeline", "omitted"};
struct model {
    bool in;
    char month[8];
    int office, customer, cat;
    int64_t value, weighted;
} m[N_INST + 1];

/* One cell of the sums: an office, a customer and a category. */
struct cell {
    const char *office, *customer, *category;
    int64_t n, value, weighted;
};

static int on_sum(const char *office, const char *customer, const char *category, int64_t n,
                  int64_t value, int64_t weighted, void *ctx)
{
    struct cell *c = ctx;
    if (!strcmp(office, c->office) && !strcmp(customer, c->customer) &&
        !strcmp(category, c->category)) {
        c->n += n;
        c->value += value;
        c->weighted += weighted;
    }
    return 0;
}

/* Every cell's stored sums over months [from, to) against the model. */
static bool agrees(struct store *st, const char *from, const char *to)
{
    for (int o = 0; o < 3; o++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 4; k++) {
                int64_t n = 0, v = 0, w = 0;
                for (int i = 1; i <= N_INST; i++)
                    if (m[i].in && m[i].office == o && m[i].customer == c && m[i].cat == k &&
                        strcmp(m[i].month, from) >= 0 && strcmp(m[i].month, to) < 0) {
                        n++;
                        v += m[i].value;
                        w += m[i].weighted;
                    }
                char cust[16];
                snprintf(cust, sizeof cust, "c%d", c);
                struct cell cell = {offices[o], cust, cats[k], 0, 0, 0};
                if (store_pipeline_sums(st, from, to, on_sum, &cell, NULL))
                    return false;
                if (cell.n != n || cell.value != v || cell.weighted != w) {
                    fprintf(stderr, "# %s %s %s: %lld %lld %lld, model %lld %lld %lld\n",
                            offices[o], cust, cats[k], (long long)cell.n, (long long)cell.value,
                            (long long)cell.weighted, (long long)n, (long long)v, (long long)w);
                    return false;
                }
            }
    return true;
}

TEST(the_sums_follow_every_change_of_every_instance)
{
    struct store *st = fresh();
    CHECK(st);
    struct err_detail why = {0};
    srand(7);
    CHECK(store_begin(st, &why) == 0);
    for (int i = 1; i <= N_INST; i++) {
        m[i].office = i % 3;
        m[i].customer = i % 5 % 3;
        char doc[64], cust[16];
        snprintf(doc, sizeof doc, "{\"id\":%d}", i);
        snprintf(cust, sizeof cust, "c%d", m[i].customer);
        struct store_instance in = {.id = i,
                                    .stage = "lead",
                                    .region = m[i].office < 2 ? "south" : "north",
                                    .office = offices[m[i].office],
                                    .doc = doc,
                                    .at_ms = 1,
                                    .last_seq = 0,
                                    .customer = cust};
        CHECK(store_instance_insert(st, &in, &why) == 0);
    }
    /* Random changes: into the pipeline, between months and categories, out. */
    for (int step = 0; step < 400; step++) {
        int i = 1 + rand() % N_INST;
        struct store_forecast f = {.id = i};
        if (rand() % 5 == 0)
            m[i].in = false;
        else {
            m[i].in = true;
            snprintf(m[i].month, sizeof m[i].month, "2026-%02d", 1 + rand() % 12);
            m[i].cat = rand() % 4;
            m[i].value = rand() % 1000000;
            m[i].weighted = pipeline_weighted(m[i].value, rand() % 101);
            f.month = m[i].month;
            f.value = m[i].value;
            f.weighted = m[i].weighted;
            f.category = cats[m[i].cat];
            f.rules = "hq@1";
        }
        CHECK(store_forecast_set(st, &f, &why) == 0);
        if (step % 50 == 49) {
            CHECK(agrees(st, "2026-01", "2027-01"));
            CHECK(agrees(st, "2026-04", "2026-07"));
        }
    }
    CHECK(store_commit(st, &why) == 0);
    store_close(st);
    unlink(dbpath);
}

TEST(the_tree_adds_up_and_the_remainder_takes_what_is_not_registered)
{
    struct store *st = fresh();
    CHECK(st);
    struct err_detail why = {0};
    json_t *o = json_loads("{\"regions\":{\"south\":{\"name\":\"S\",\"offices\":[\"province-a\","
                           "\"province-b\"]},\"north\":{\"name\":\"N\",\"offices\":[\"city-c\"]}}}",
                           0, NULL);
    struct org *org = NULL;
    CHECK(org_from_json(o, &org, &why) == 0);
    json_decref(o);
    CHECK(store_begin(st, &why) == 0);
    struct store_party acme = {.id = "acme",
                               .region = "south",
                               .office = "province-a",
                               .credit_limit = -1,
                               .doc = "{}",
                               .by = "t"};
    CHECK(store_customer_put(st, &acme, &why) == 0);
    const char *custs[] = {"acme", "walk-in", "acme"};
    const char *offs[] = {"province-a", "province-a", "province-b"}; /* acme elsewhere: remainder */
    for (int i = 1; i <= 3; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "{\"id\":%d}", i);
        struct store_instance in = {.id = i,
                                    .stage = "lead",
                                    .region = "south",
                                    .office = offs[i - 1],
                                    .doc = doc,
                                    .at_ms = 1,
                                    .customer = custs[i - 1]};
        CHECK(store_instance_insert(st, &in, &why) == 0);
        struct store_forecast f = {.id = i,
                                   .month = "2026-05",
                                   .value = 100 * i,
                                   .weighted = 10 * i,
                                   .category = "pipeline",
                                   .rules = "hq@1"};
        CHECK(store_forecast_set(st, &f, &why) == 0);
    }
    CHECK(store_target_set(st, "customer/acme", "2026", "orders", 1000, 1, "t", &why) == 0);
    CHECK(store_commit(st, &why) == 0);
    char *text = NULL;
    size_t len = 0;
    CHECK(pipeline_tree(st, org, "hq", "2026", 0, &text, &len, &why) == 0);
    json_t *tree = json_loadb(text, len, 0, NULL);
    CHECK_MSG(tree, "%s", text);
    CHECK(json_integer_value(json_object_get(tree, "open")) == 600);
    CHECK(json_integer_value(json_object_get(tree, "weighted")) == 60);
    json_t *south = json_array_get(json_object_get(tree, "children"), 1);
    CHECK(!strcmp(json_string_value(json_object_get(south, "unit")), "region/south"));
    json_t *pa = json_array_get(json_object_get(south, "children"), 0);
    json_t *kids = json_object_get(pa, "children");
    CHECK(json_array_size(kids) == 2);
    json_t *c = json_array_get(kids, 0), *rest = json_array_get(kids, 1);
    CHECK(!strcmp(json_string_value(json_object_get(c, "unit")), "customer/acme"));
    CHECK(json_integer_value(json_object_get(c, "open")) == 100);
    CHECK(json_integer_value(json_object_get(c, "target")) == 1000);
    CHECK(json_integer_value(json_object_get(c, "gap")) == 990);
    CHECK(json_real_value(json_object_get(c, "coverage")) == 0.01);
    CHECK(!strcmp(json_string_value(json_object_get(rest, "unit")),
                  "office/province-a/unregistered"));
    CHECK(json_integer_value(json_object_get(rest, "open")) == 200);
    json_t *pb = json_array_get(json_object_get(south, "children"), 1);
    json_t *pbrest = json_array_get(json_object_get(pb, "children"), 0);
    CHECK(json_integer_value(json_object_get(pbrest, "open")) == 300); /* acme of province-b */
    CHECK(json_is_null(json_object_get(pb, "coverage")) &&
          json_is_null(json_object_get(pb, "gap")));
    json_decref(tree);
    free(text);
    CHECK(pipeline_tree(st, org, "customer/acme", "2026", 0, &text, &len, &why) == 0);
    tree = json_loadb(text, len, 0, NULL);
    CHECK(tree && json_integer_value(json_object_get(tree, "open")) == 100 &&
          !json_object_get(tree, "children"));
    json_decref(tree);
    free(text);
    CHECK(pipeline_tree(st, org, "customer/nobody", "2026", 0, &text, &len, &why) ==
          -ERR_NOT_FOUND);
    CHECK(pipeline_tree(st, org, "region/atlantis", "2026", 0, &text, &len, &why) ==
          -ERR_NOT_FOUND);
    CHECK(pipeline_tree(st, org, "hq", "2026-13", 0, &text, &len, &why) == -ERR_INVALID_FIELD);
    org_free(org);
    store_close(st);
    unlink(dbpath);
}

SCRATCH_BOTH(the_sums_follow_every_change_of_every_instance)
SCRATCH_BOTH(the_tree_adds_up_and_the_remainder_takes_what_is_not_registered)

TEST_MAIN(T(weighted_values_round_half_up_in_integer_fen),
          T(the_sums_follow_every_change_of_every_instance),
          T(the_tree_adds_up_and_the_remainder_takes_what_is_not_registered),
          T(pg_the_sums_follow_every_change_of_every_instance),
          T(pg_the_tree_adds_up_and_the_remainder_takes_what_is_not_registered))
