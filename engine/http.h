/* engine/http.h
 *
 * HTTP/1.1 for ltcd: libmicrohttpd in "external polling" mode, driven by the
 * libuv loop. MHD's epoll fd sits on a uv_poll_t and MHD_get_timeout on a
 * uv_timer_t, so one loop thread owns every connection. This module parses
 * nothing itself; it collects the body (up to a limit), hands each complete
 * request to one handler, and sends what the handler answers.
 *
 * A handler either answers at once (http_respond) or defers (http_defer) and
 * answers later from the same loop, e.g. after a group commit. After every
 * batch of network work, the 'turn' callback runs: that is where deferred
 * requests are completed. Requests answered after a defer are sent before the
 * loop sleeps again.
 *
 * Lifetimes: struct http_req belongs to this module and lives from the first
 * byte of a request until its response is sent or the client goes away; a
 * deferred request stays alive until answered (MHD does not notice a client
 * leaving while a request is deferred). All functions run on the loop thread.
 */
#ifndef ENGINE_HTTP_H
#define ENGINE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"

struct http_server;
struct http_req;

typedef void http_handler_cb(struct http_req *req, void *ctx);
typedef void http_turn_cb(void *ctx);

struct http_config {
    const char *host;        /* numeric IPv4 or IPv6 address */
    int port;                /* 0: the kernel chooses (see http_port) */
    size_t body_max_bytes;   /* larger bodies get 413 */
    unsigned idle_timeout_s; /* idle or stalled clients are dropped */
    unsigned max_connections;
    http_handler_cb *handler; /* a complete request */
    http_turn_cb *turn;       /* after each batch of network work; may be NULL */
    void (*done)(struct http_req *req, int status, void *ctx); /* answered; may be NULL */
    void *ctx;                                                 /* passed to both */
};

/* Bind and start serving on 'loop'. On success *out is owned by the caller
 * (http_stop, then wait for the loop to close the handles). */
int http_start(uv_loop_t *loop, const struct http_config *cfg, struct http_server **out,
               struct err_detail *why);

/* The bound port (useful with port 0). */
int http_port(const struct http_server *srv);

/* Stop accepting new connections; connections already open are served. */
void http_quiesce(struct http_server *srv);

/* Close every connection and free the server once its handles are closed.
 * No deferred request may be pending. */
void http_stop(struct http_server *srv);

/* Number of connections open (for draining at shutdown). */
unsigned http_connection_count(const struct http_server *srv);

/* Request accessors; strings are borrowed for the life of the request. */
const char *http_method(const struct http_req *req);
const char *http_path(const struct http_req *req);
const char *http_header(const struct http_req *req, const char *name);
const char *http_query(const struct http_req *req, const char *name);
const char *http_body(const struct http_req *req, size_t *len); /* NUL-terminated */
bool http_body_too_large(const struct http_req *req);
const char *http_request_id(const struct http_req *req);
uint64_t http_started_ns(const struct http_req *req);

/* Answer. Takes ownership of 'body' (malloc'd, may be NULL when len is 0). */
void http_respond(struct http_req *req, int status, const char *content_type, char *body,
                  size_t len);

/* Promise to answer later (from the turn callback or any loop callback). */
void http_defer(struct http_req *req);

/* Per-request slot for the handler's own state, freed with 'free_cb' when the
 * request ends. */
void http_set_user(struct http_req *req, void *user, void (*free_cb)(void *));
void *http_user(const struct http_req *req);

/* A label for the request (e.g. its route), kept for the done callback;
 * 'label' must outlive the request (a literal or a route table entry). */
void http_set_label(struct http_req *req, const char *label);
const char *http_label(const struct http_req *req);

/* Monotonic nanoseconds. */
uint64_t http_now_ns(void);

#endif
