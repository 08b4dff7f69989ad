/* engine/err.h
 *
 * The one error vocabulary of ltcd. Every fallible function returns 0 or a
 * negative ERR_x code and, when given a struct err_detail, fills it with a
 * human message. Each code carries the API error code string and the HTTP
 * status it maps to, so handlers never choose statuses by hand.
 *
 * A message and a field set through err_set/err_field are always valid UTF-8
 * without NUL (utf8_clean: bad bytes become U+FFFD, the cut falls on a
 * character boundary), whatever rule text they quote.
 *
 * Leaf module: includes nothing from the engine but the leaf utf8.
 */
#ifndef ENGINE_ERR_H
#define ENGINE_ERR_H

#include <stdarg.h>

/* XX(NAME, api code, http status, text) */
#define ERR_MAP(XX)                                                                                \
    XX(BAD_REQUEST, "bad_request", 400, "malformed request")                                       \
    XX(INVALID_JSON, "invalid_json", 400, "body is not valid JSON")                                \
    XX(INVALID_FIELD, "invalid_field", 400, "invalid field")                                       \
    XX(UNAUTHENTICATED, "unauthenticated", 401, "missing or unknown token")                        \
    XX(FORBIDDEN, "forbidden", 403, "not allowed for this principal")                              \
    XX(INSUFFICIENT_AUTHORITY, "insufficient_authority", 403, "insufficient authority")            \
    XX(NOT_FOUND, "not_found", 404, "not found")                                                   \
    XX(METHOD, "method_not_allowed", 405, "method not allowed")                                    \
    XX(CONFLICT, "conflict", 409, "state conflict")                                                \
    /* A write lost a race for the same row to another node or request: done                       \
     * again once by the batch (app.c), answered 409 when it loses again. */                       \
    XX(RACE, "conflict", 409, "changed meanwhile by another request")                              \
    XX(TOO_LARGE, "payload_too_large", 413, "body over the limit")                                 \
    XX(RULE_REJECTED, "rule_rejected", 422, "rule rejected")                                       \
    XX(RULE_SYNTAX, "rule_syntax", 422, "rule failed to compile")                                  \
    XX(RULE_RUNTIME, "rule_error", 422, "rule raised an error")                                    \
    XX(RULE_SOURCE, "rule_error", 422, "rule source is not UTF-8 text within the size limit")      \
    XX(RULE_BUDGET, "rule_budget", 422, "rule exceeded its budget")                                \
    XX(RULE_MEMORY, "rule_memory", 422, "rule exceeded its memory cap")                            \
    XX(RULE_OUTPUT, "rule_output", 422, "rule returned an invalid value")                          \
    XX(KCP, "kcp_failed", 422, "key control point failed")                                         \
    XX(INVARIANT, "invariant_broken", 422, "an allocation invariant does not hold")                \
    XX(REFUSED_ITEMS, "items_refused", 422, "items of an all-or-nothing batch were refused")       \
    XX(INTERNAL, "internal", 500, "internal error")                                                \
    XX(NOMEM, "internal", 500, "out of memory")                                                    \
    XX(STORE, "storage", 500, "storage error")                                                     \
    XX(STORE_BUSY, "overloaded", 503, "storage busy")                                              \
    XX(UNAVAILABLE, "unavailable", 503, "shutting down or overloaded")                             \
    XX(IO, "io", 500, "input/output error")                                                        \
    XX(USAGE, "usage", 400, "bad usage")

enum err_code {
    ERR_OK = 0,
#define XX(name, code, http, text) ERR_##name,
    ERR_MAP(XX)
#undef XX
        ERR__COUNT
};

#define ERR_DETAIL_MAX 512 /* bytes of message kept, including the NUL */

struct err_detail {           /* caller-owned storage; never freed */
    int code;                 /* 0 or -ERR_x */
    char msg[ERR_DETAIL_MAX]; /* e.g. "rules/hq/lead.lua:12: ..." */
    char field[64];           /* the offending field or KCP name, or "" */
};

/* Constant strings for -ERR_x (or ERR_x); "ok" for 0, "internal" for unknown. */
const char *err_api_code(int code);
const char *err_str(int code);
int err_http_status(int code);

/* Record (when why != NULL) and return 'code' (negative), so callers can write
 * `return err_set(why, -ERR_X, "...")`. The message is truncated to fit. */
int err_set(struct err_detail *why, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As err_set, and also name the field (or KCP) the error is about. */
int err_field(struct err_detail *why, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void err_clear(struct err_detail *why);

#endif
