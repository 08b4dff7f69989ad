/* tests/unit/org_test.c: the org tree from HQ's org.lua (as JSON). */
#include "org.h"
#include "test.h"

static int build(const char *json, struct org **org, struct err_detail *why)
{
    json_t *t = json_loads(json, 0, NULL);
    int rc = org_from_json(t, org, why);
    json_decref(t);
    return rc;
}

TEST(offices_belong_to_their_region)
{
    struct org *org;
    struct err_detail why = {0};
    CHECK(build("{\"regions\":{\"south\":{\"name\":\"S\",\"offices\":[\"b\",\"a\"]},"
                "\"north\":{\"offices\":[\"c\"]}}}",
                &org, &why) == 0);
    CHECK(org->n_regions == 2 && org->n_offices == 3);
    CHECK(!strcmp(org_region_of(org, "a"), "south") && !strcmp(org_region_of(org, "c"), "north"));
    CHECK(org_region_of(org, "z") == NULL);
    CHECK(org_has_region(org, "north") && !org_has_region(org, "east"));
    CHECK(!strcmp(org->regions[0].id, "north")); /* sorted */
    org_free(org);
}

TEST(malformed_trees_are_refused)
{
    const char *bad[] = {
        "{}",
        "{\"regions\":{}}",
        "{\"regions\":{\"South\":{\"offices\":[]}}}",
        "{\"regions\":{\"south\":{}}}",
        "{\"regions\":{\"south\":{\"offices\":[1]}}}",
        "{\"regions\":{\"south\":{\"offices\":[\"a\"]},\"north\":{\"offices\":[\"a\"]}}}",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        struct org *org = NULL;
        struct err_detail why = {0};
        CHECK_MSG(build(bad[i], &org, &why) != 0 && why.msg[0], "%s", bad[i]);
    }
}

TEST_MAIN(T(offices_belong_to_their_region), T(malformed_trees_are_refused))
