/* tests/unit/allocation_test.c: the allocation invariants and host.split. */
#include "allocation.h"
#include "sandbox.h"
#include "test.h"

static int check(int64_t total, size_t n, const char *const *keys, const int64_t *contrib,
                 const char *parts_json, struct err_detail *why)
{
    json_t *parts = json_loads(parts_json, 0, NULL);
    int64_t amounts[16];
    int rc = allocation_check("test", total, n, keys, contrib, parts, amounts, why);
    json_decref(parts);
    return rc;
}

static const char *const K3[] = {"a", "b", "c"};
static const int64_t C3[] = {30, 20, 10};

TEST(a_fair_exact_split_passes)
{
    struct err_detail why = {0};
    CHECK(check(101, 3, K3, C3, "{\"a\":51,\"b\":33,\"c\":17}", &why) == 0);
}

TEST(each_invariant_is_named)
{
    struct {
        const char *parts, *invariant;
    } cases[] = {
        {"{\"a\":51,\"b\":33,\"c\":16}", "sum"},      /* one fen short */
        {"{\"a\":52,\"b\":33,\"c\":17}", "sum"},      /* one fen over */
        {"{\"a\":70,\"b\":33,\"c\":-2}", "negative"}, /* a negative part */
        {"{\"a\":50.5,\"b\":33,\"c\":17.5}", "integer"},
        {"{\"a\":102,\"b\":0,\"c\":-1}", "overflow"},
        {"{\"a\":30,\"b\":40,\"c\":31}", "ordering"}, /* more contribution, less money */
        {"{\"a\":51,\"b\":50}", "units"},             /* a unit left out */
        {"{\"a\":51,\"b\":33,\"c\":17,\"d\":0}", "units"},
        {"[51,33,17]", "units"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct err_detail why = {0};
        int rc = check(101, 3, K3, C3, cases[i].parts, &why);
        CHECK_MSG(rc == -ERR_INVARIANT && !strcmp(why.field, cases[i].invariant),
                  "case %zu: rc %d field '%s' (%s)", i, rc, why.field, why.msg);
    }
}

TEST(equal_contributions_need_no_order_and_the_platform_is_outside_it)
{
    static const int64_t c[] = {-1, 10, 10};
    struct err_detail why = {0};
    CHECK(check(10, 3, K3, c, "{\"a\":9,\"b\":0,\"c\":1}", &why) == 0);
}

/* host.split through the real sandbox. */
static json_t *split(const char *call)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    if (sandbox_new("hq", 1, "hq/", NULL, &sb, &why))
        return NULL;
    char src[512];
    snprintf(src, sizeof src, "return function() return %s end", call);
    json_t *out = NULL;
    if (sandbox_load(sb, "x.lua", src, strlen(src), &why) ||
        sandbox_call(sb, "x.lua", NULL, NULL, 0, &out, &why))
        fprintf(stderr, "# %s\n", why.msg);
    sandbox_free(sb);
    return out;
}

static int64_t sum(const json_t *a)
{
    int64_t s = 0;
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) s += json_integer_value(x);
    return s;
}

TEST(host_split_is_exact_with_awkward_numbers)
{
    json_t *a = split("host.split(1000003, { 1, 1, 1 })"); /* a prime over three */
    CHECK(a && sum(a) == 1000003);
    CHECK(json_integer_value(json_array_get(a, 0)) == 333335); /* the remainder goes first */
    json_decref(a);
    a = split("host.split(1, { 3, 2, 1 })"); /* one fen */
    CHECK(a && sum(a) == 1 && json_integer_value(json_array_get(a, 0)) == 1);
    json_decref(a);
    a = split("host.split(7, { 0, 0 })"); /* no weight: equal */
    CHECK(a && sum(a) == 7 && json_integer_value(json_array_get(a, 0)) == 4);
    json_decref(a);
    /* 2^53-1 over a prime count (small enough for one call's 64 KiB of output) */
    a = split("(function() local w = {} for i = 1, 2503 do w[i] = i end"
              " return host.split(9007199254740991, w) end)()");
    CHECK(a && json_array_size(a) == 2503 && sum(a) == 9007199254740991LL);
    /* more weight never gets less */
    int64_t prev = -1;
    size_t i;
    json_t *x;
    int ordered = 1;
    json_array_foreach(a, i, x)
    {
        ordered &= json_integer_value(x) >= prev;
        prev = json_integer_value(x);
    }
    CHECK(ordered);
    json_decref(a);
    CHECK(split("host.split(10, { -1, 2 })") == NULL);
    CHECK(split("host.split(10, { 0/0 })") == NULL);
    CHECK(split("host.split(-5, { 1 })") == NULL);
}

/* Hardening issue, class 6: person/Li works in both regions (and on two
 * projects in the south); each view holds exactly its own lines. */
static const char two_regions[] =
    "{\"lines\":["
    "{\"unit\":\"region/south\",\"parent\":\"hq\",\"level\":\"region\",\"amount\":60},"
    "{\"unit\":\"region/north\",\"parent\":\"hq\",\"level\":\"region\",\"amount\":40},"
    "{\"unit\":\"platform/south\",\"parent\":\"region/south\",\"level\":\"platform\","
    "\"amount\":0},"
    "{\"unit\":\"office/pa\",\"parent\":\"region/south\",\"level\":\"office\",\"amount\":60},"
    "{\"unit\":\"office/nc\",\"parent\":\"region/north\",\"level\":\"office\",\"amount\":40},"
    "{\"unit\":\"project/1\",\"parent\":\"office/pa\",\"level\":\"project\",\"amount\":50},"
    "{\"unit\":\"project/3\",\"parent\":\"office/pa\",\"level\":\"project\",\"amount\":10},"
    "{\"unit\":\"project/2\",\"parent\":\"office/nc\",\"level\":\"project\",\"amount\":40},"
    "{\"unit\":\"person/Li\",\"parent\":\"project/1\",\"level\":\"person\",\"amount\":50},"
    "{\"unit\":\"person/Li\",\"parent\":\"project/3\",\"level\":\"person\",\"amount\":10},"
    "{\"unit\":\"person/Li\",\"parent\":\"project/2\",\"level\":\"person\",\"amount\":40}]}";

/* The parents of the lines a view of 'unit' keeps, in order, e.g. "hq,region/south,...". */
static char *view(const char *unit)
{
    static char out[512];
    json_t *run = json_loads(two_regions, 0, NULL);
    allocation_scope(run, unit);
    size_t i, n = 0;
    json_t *l;
    out[0] = '\0';
    json_array_foreach(json_object_get(run, "lines"), i, l)
    {
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s>%s", n ? "," : "",
                              json_string_value(json_object_get(l, "unit")),
                              json_string_value(json_object_get(l, "parent")));
    }
    json_decref(run);
    return out;
}

TEST(a_view_follows_each_lines_parent_not_the_persons_name)
{
    CHECK_MSG(!strcmp(view("region/south"),
                      "region/south>hq,platform/south>region/south,office/pa>region/south,"
                      "project/1>office/pa,project/3>office/pa,person/Li>project/1,"
                      "person/Li>project/3"),
              "%s", view("region/south"));
    CHECK_MSG(!strcmp(view("region/north"), "region/north>hq,office/nc>region/north,"
                                            "project/2>office/nc,person/Li>project/2"),
              "%s", view("region/north"));
    CHECK_MSG(!strcmp(view("office/nc"), "office/nc>region/north,project/2>office/nc,"
                                         "person/Li>project/2"),
              "%s", view("office/nc"));
    CHECK(!strcmp(view("office/none"), ""));
}

TEST_MAIN(T(a_fair_exact_split_passes), T(each_invariant_is_named),
          T(equal_contributions_need_no_order_and_the_platform_is_outside_it),
          T(host_split_is_exact_with_awkward_numbers),
          T(a_view_follows_each_lines_parent_not_the_persons_name))
