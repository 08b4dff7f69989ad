/* tests/unit/openapi_test.c: the OpenAPI document the daemon serves
 * (engine/openapi.json, compiled in) and the route table of api.c describe
 * the same API: every route is an operation of the document and every
 * operation a route, with the same need for a token and the same query
 * parameters. Adding a route without documenting it (or the reverse) fails
 * here. */
#include <jansson.h>

#include "api.h"
#include "test.h"

#define ROUTES_MAX 256

/* "METHOD /path/{}" keys: a route's "{owner}" is one of hq, region/{} or
 * office/{}, its "{unit}" one of those or customer/{} (the document lists
 * each), every "{name}" is "{}". */
struct keys {
    char key[ROUTES_MAX * 4][160];
    bool public_route[ROUTES_MAX * 4];
    char query[ROUTES_MAX * 4][160]; /* the query parameters, space separated */
    size_t n;
};

static void add_key(struct keys *k, const char *method, const char *path, bool pub,
                    const char *query)
{
    if (k->n == sizeof k->key / sizeof *k->key)
        return;
    char norm[140];
    size_t o = 0;
    for (const char *p = path; *p && o + 3 < sizeof norm; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            norm[o++] = '{';
            norm[o++] = '}';
            p = end ? end : p + strlen(p) - 1;
            continue;
        }
        norm[o++] = *p;
    }
    norm[o] = '\0';
    snprintf(k->key[k->n], sizeof k->key[0], "%s %s", method, norm);
    snprintf(k->query[k->n], sizeof k->query[0], "%s", query ? query : "");
    k->public_route[k->n++] = pub;
}

static void on_route(const char *method, const char *pattern, bool pub, const char *query,
                     void *ctx)
{
    static const char *const kinds[] = {"hq", "region/{}", "office/{}", "customer/{}"};
    const char *owner = strstr(pattern, "{owner}"), *unit = strstr(pattern, "{unit}");
    const char *at = owner ? owner : unit;
    if (!at) {
        add_key(ctx, method, pattern, pub, query);
        return;
    }
    size_t n = owner ? 3 : 4; /* an owner is never a customer */
    for (size_t i = 0; i < n; i++) {
        char path[160];
        snprintf(path, sizeof path, "%.*s%s%s", (int)(at - pattern), pattern, kinds[i],
                 strchr(at, '}') + 1);
        add_key(ctx, method, path, pub, query);
    }
}

static void upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

static json_t *document(void)
{
    size_t len;
    const char *text = api_openapi_text(&len);
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
}

static void document_keys(const json_t *doc, struct keys *k)
{
    const char *path, *method;
    json_t *item, *op;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            if (!strcmp(method, "parameters") || !strcmp(method, "summary") ||
                !strcmp(method, "description"))
                continue;
            char m[16];
            snprintf(m, sizeof m, "%s", method);
            upper(m);
            const json_t *sec = json_object_get(op, "security");
            char query[160] = "";
            size_t i, off = 0;
            json_t *par;
            json_array_foreach(json_object_get(op, "parameters"), i, par)
            {
                const char *in = json_string_value(json_object_get(par, "in"));
                if (in && !strcmp(in, "query") && off < sizeof query)
                    off += (size_t)snprintf(query + off, sizeof query - off, "%s%s", off ? " " : "",
                                            json_string_value(json_object_get(par, "name")));
            }
            add_key(k, m, path, json_is_array(sec) && json_array_size(sec) == 0, query);
        }
    }
}

static size_t find(const struct keys *k, const char *key)
{
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->key[i], key))
            return i;
    return (size_t)-1;
}

TEST(the_document_is_openapi_3_1_json)
{
    json_t *doc = document();
    CHECK(doc != NULL);
    CHECK(!strcmp(json_string_value(json_object_get(doc, "openapi")), "3.1.0"));
    CHECK(json_is_object(json_object_get(json_object_get(doc, "components"), "schemas")));
    CHECK(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                          "Error") != NULL);
    json_decref(doc);
}

TEST(every_route_is_documented_and_every_operation_is_a_route)
{
    static struct keys routes, ops;
    api_routes_each(on_route, &routes);
    json_t *doc = document();
    CHECK(doc != NULL);
    document_keys(doc, &ops);
    json_decref(doc);
    CHECK(routes.n > 30 && routes.n < sizeof routes.key / sizeof *routes.key);
    int missing = 0;
    for (size_t i = 0; i < routes.n; i++) {
        size_t j = find(&ops, routes.key[i]);
        if (j == (size_t)-1) {
            fprintf(stderr, "# route not in engine/openapi.json: %s\n", routes.key[i]);
            missing++;
        } else if (ops.public_route[j] != routes.public_route[i]) {
            fprintf(stderr, "# %s: the document says %s, the route table %s\n", routes.key[i],
                    ops.public_route[j] ? "public" : "token",
                    routes.public_route[i] ? "public" : "token");
            missing++;
        } else if (!routes.public_route[i] && strcmp(ops.query[j], routes.query[i])) {
            fprintf(stderr, "# %s: the document's query parameters are '%s', the route's '%s'\n",
                    routes.key[i], ops.query[j], routes.query[i]);
            missing++;
        }
    }
    for (size_t i = 0; i < ops.n; i++)
        if (find(&routes, ops.key[i]) == (size_t)-1) {
            fprintf(stderr, "# operation without a route: %s\n", ops.key[i]);
            missing++;
        }
    CHECK(missing == 0);
    CHECK(routes.n == ops.n);
}

TEST(the_error_envelope_is_every_operations_default)
{
    json_t *doc = document();
    CHECK(doc != NULL);
    const char *path, *method;
    json_t *item, *op;
    int bad = 0;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            const json_t *def = json_object_get(json_object_get(op, "responses"), "default");
            const char *ref = json_string_value(json_object_get(def, "$ref"));
            if (!ref || strcmp(ref, "#/components/responses/default")) {
                fprintf(stderr, "# %s %s: no default error response\n", method, path);
                bad++;
            }
        }
    }
    json_decref(doc);
    CHECK(bad == 0);
}

TEST_MAIN(T(the_document_is_openapi_3_1_json),
          T(every_route_is_documented_and_every_operation_is_a_route),
          T(the_error_envelope_is_every_operations_default))
