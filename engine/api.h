/* engine/api.h
 *
 * The HTTP API: a table of routes (api.c), handlers per resource
 * (api_instances.c, api_rules.c), and the helpers they share: the JSON error
 * envelope of CONTRACT section 3, authentication, scope checks.
 *
 * A handler receives a struct api_call describing the matched request. It
 * either answers (api_json, api_error, api_raw) or queues a write
 * (app_write_queue), which answers after the group commit.
 */
#ifndef ENGINE_API_H
#define ENGINE_API_H

#include <jansson.h>

#include "app.h"
#include "auth.h"
#include "err.h"
#include "http.h"

#define API_PARAMS_MAX         4
#define API_LIST_LIMIT_DEFAULT 50
#define API_LIST_LIMIT_MAX     500

struct api_call {
    struct app *app;
    struct http_req *req;
    const struct auth_principal *principal; /* NULL on public routes */
    char actor[AUTH_UNIT_MAX + 16];         /* "UNIT:ROLE" */
    char params[API_PARAMS_MAX][128];       /* path parameters, in order */
};

typedef void api_handler_fn(struct api_call *c);

/* http_config.done: counts each answer by route and status, and its latency. */
void api_done(struct http_req *req, int status, void *app);

/* Answer with JSON; 'body' is borrowed (may be NULL for an empty object). */
void api_json(struct http_req *req, int status, json_t *body);
/* Answer with already-serialised bytes (copied). */
void api_raw(struct http_req *req, int status, const char *content_type, const char *body,
             size_t len);
/* Answer 200 with the JSON text built in 'b' (its memory is taken; b is left
 * empty), or with 'why' when rc is an error, or 500 when 'b' ran out of
 * memory. For listings written as text as they are read. */
struct buf;
void api_respond_buf(struct http_req *req, int rc, const struct err_detail *why, struct buf *b);

/* Answer with the error envelope for why->code. */
void api_error(struct http_req *req, const struct err_detail *why);
/* Shorthand: api_error with a formatted message. */
void api_fail(struct http_req *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every key of 'body' must be in 'accepted' (NULL-terminated): otherwise
 * answer 400 invalid_field naming the key and listing the accepted ones, and
 * return -1. */
int api_body_keys(struct api_call *c, const json_t *body, const char *const *accepted);
/* For requests that take no fields: an empty body or {} is fine; anything
 * else is answered 400 (as api_body_keys) and -1 returned. */
int api_body_none(struct api_call *c);

/* Parse the body as a JSON object, or answer 400 and return NULL. */
json_t *api_body_object(struct api_call *c);
/* As api_body_object with more jansson decoding flags (JSON_ALLOW_NUL: a
 * handler that checks its strings' bytes itself, and names what is wrong). */
json_t *api_body_object_flags(struct api_call *c, size_t flags);

/* Handlers. */
api_handler_fn api_metrics, api_me, api_funnel, api_events_recent, api_static;

/* Load the dashboard's files from 'dir' (missing files answer 404). */
void api_static_load(const char *dir);
void api_static_free(void);
/* Frees the work lists' memo of per-instance items (api_worklist.c). */
void api_worklist_free(void);
api_handler_fn api_health, api_lead_create, api_instance_list, api_instance_get,
    api_instance_events, api_instance_action, api_instance_document, api_instance_receivables;
api_handler_fn api_rules_status, api_rules_put, api_rules_delete, api_rules_approve,
    api_rules_reject, api_rules_versions, api_rules_version_get, api_rules_reload,
    api_rules_rollback, api_rules_simulate, api_rules_events, api_rules_bundle;
api_handler_fn api_rules_shadow_start, api_rules_shadow_get;   /* api_shadow.c */
api_handler_fn api_rules_diff;                                 /* lineage and review */
api_handler_fn api_decisions_waiting, api_receivables_overdue; /* api_worklist.c */
api_handler_fn api_share_run_create, api_share_run_get, api_target_put, api_targets_get;
api_handler_fn api_openapi; /* api_openapi.c */

/* The OpenAPI document served at /v1/openapi.json (static, never freed). */
const char *api_openapi_text(size_t *len);

/* Every route of the table, in order: method, pattern ("{}" one segment,
 * "{owner}" hq, region/ID or office/ID), whether it needs no token and the
 * query parameters it takes (space separated; NULL: none). */
typedef void api_route_fn(const char *method, const char *pattern, bool public_route,
                          const char *query, void *ctx);
void api_routes_each(api_route_fn *fn, void *ctx);

#endif
