/* engine/api_openapi.c: GET /v1/openapi.json, the OpenAPI 3.1 document of
 * the whole API. The document is engine/openapi.json, compiled into the
 * daemon (the Makefile turns it into build/openapi_doc.c), so what is served
 * is exactly the file of the tree it was built from; nothing is read or
 * fetched at run time. tests/unit/openapi_test.c keeps it in step with the
 * route table; tests/browser/openapi.sh validates it and every route's
 * sample response against it. */
#include "api.h"

/* build/openapi_doc.c: the bytes of engine/openapi.json. */
extern const char api_openapi_doc[];
extern const unsigned long api_openapi_len;

const char *api_openapi_text(size_t *len)
{
    *len = (size_t)api_openapi_len;
    return api_openapi_doc;
}

void api_openapi(struct api_call *c)
{
    api_raw(c->req, 200, "application/json", api_openapi_doc, (size_t)api_openapi_len);
}
