/* engine/http.h
 *
 * HTTP/1.1 for ltcd, on the libuv loop: connections are uv_tcp_t, requests
 * are parsed by http-parser (Debian's libhttp-parser, the parser Node.js used
 * for years). This module owns framing and connection policy and nothing
 * else: it collects a request's head and body (up to limits), hands each
 * complete request to one handler, and sends what the handler answers.
 *
 * A handler either answers at once (http_respond) or defers (http_defer) and
 * answers later, from the loop or from another thread: http_respond off the
 * loop hands the answer to the loop, which sends it (answers keep their
 * order). A deferred request belongs to whoever answers it until then, and
 * is answered once: after http_respond it is no longer the caller's.
 *
 * Connection policy (each rule closes a way to starve the server):
 * - A request's head (request line and headers) must arrive within
 *   header_timeout_s of its first byte (of the accept, for a new connection),
 *   its body within body_timeout_s of the head, a response must be taken by
 *   the client within idle_timeout_s, and a kept-alive connection may sit idle
 *   for idle_timeout_s. Past a deadline the connection is closed.
 * - At max_connections a new client evicts the connection that has shown the
 *   least progress: an idle kept-alive one first, then the oldest one still
 *   sending its head, then the oldest one still sending its body. Requests the
 *   handler holds are never evicted. When nothing can be evicted the new
 *   client waits in the kernel's backlog and is accepted as soon as any
 *   connection closes, whatever closed it.
 * - Framing that two parties could read differently is refused with 400 and
 *   the connection closed: two Content-Length headers, Content-Length with
 *   Transfer-Encoding, a transfer coding other than chunked; so are two
 *   Authorization headers. Heads over HTTP_HEAD_MAX_BYTES get 431, bodies
 *   over body_max_bytes are not read: the handler sees http_body_too_large.
 * - An answer that closes the connection half-closes it and discards what the
 *   client still sends (for at most HTTP_LINGER_MS), so the client reads the
 *   answer instead of a reset.
 *
 * Lifetimes: struct http_req belongs to this module and lives from the first
 * byte of a request until its response is handed to the socket; a deferred
 * request stays alive until answered, even if the client has gone. All
 * functions run on the loop thread, but http_respond and the accessors of a
 * request handed to another thread, which that thread may call until it
 * answers.
 */
#ifndef ENGINE_HTTP_H
#define ENGINE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"

#define HTTP_HEAD_MAX_BYTES (16 * 1024) /* request line and headers */
#define HTTP_HEADERS_MAX    64          /* header lines in one request */
#define HTTP_PARAMS_MAX     32          /* query parameters in one request */
#define HTTP_LINGER_MS      2000        /* discarding input after a closing answer */

struct http_server;
struct http_req;

typedef void http_handler_cb(struct http_req *req, void *ctx);

struct http_config {
    const char *host;          /* numeric IPv4 or IPv6 address, or "localhost" */
    int port;                  /* 0: the kernel chooses (see http_port) */
    size_t body_max_bytes;     /* larger bodies get 413 */
    unsigned idle_timeout_s;   /* kept-alive idle connections and slow readers */
    unsigned header_timeout_s; /* the whole head of a request; 0: idle_timeout_s */
    unsigned body_timeout_s;   /* the whole body of a request; 0: idle_timeout_s */
    unsigned max_connections;
    http_handler_cb *handler;                                  /* a complete request */
    void (*done)(struct http_req *req, int status, void *ctx); /* answered; may be NULL */
    void *ctx;                                                 /* passed to both */
};

/* Bind and start serving on 'loop'. On success *out is owned by the caller
 * (http_stop, then let the loop close the handles). Errors: -ERR_USAGE (not a
 * numeric address), -ERR_IO (cannot listen), -ERR_NOMEM. */
int http_start(uv_loop_t *loop, const struct http_config *cfg, struct http_server **out,
               struct err_detail *why);

/* The bound port (useful with port 0). */
int http_port(const struct http_server *srv);

/* Stop accepting; idle connections are closed, the others after their answer. */
void http_quiesce(struct http_server *srv);

/* Close every connection and free the server once its handles are closed.
 * No deferred request may be pending. */
void http_stop(struct http_server *srv);

/* Number of connections open (for draining at shutdown). */
unsigned http_connection_count(const struct http_server *srv);

/* Request accessors; strings are borrowed for the life of the request. The
 * path and query values are percent-decoded (a query's '+' is a space); a
 * request whose path or query decodes to a NUL byte is refused with 400. */
const char *http_method(const struct http_req *req);
const char *http_path(const struct http_req *req);
const char *http_header(const struct http_req *req, const char *name); /* case-insensitive */
const char *http_query(const struct http_req *req, const char *name);  /* the first one */
/* The name of the i-th query parameter in the order given, NULL past the last
 * (routes check every name against the ones they take). */
const char *http_query_name(const struct http_req *req, unsigned i);
const char *http_body(const struct http_req *req, size_t *len); /* NUL-terminated */
bool http_body_too_large(const struct http_req *req);
const char *http_request_id(const struct http_req *req);
uint64_t http_started_ns(const struct http_req *req);

/* Answer. Takes ownership of 'body' (malloc'd, may be NULL when len is 0). A
 * second answer to the same request is dropped. */
void http_respond(struct http_req *req, int status, const char *content_type, char *body,
                  size_t len);

/* Promise to answer later (from any loop callback, or the thread the
 * request was handed to). */
void http_defer(struct http_req *req);

/* Per-request slot for the handler's own state, freed with 'free_cb' when the
 * request ends. */
void http_set_user(struct http_req *req, void *user, void (*free_cb)(void *));
void *http_user(const struct http_req *req);

/* A label for the request (e.g. its route), kept for the done callback;
 * 'label' must outlive the request (a literal or a route table entry). */
void http_set_label(struct http_req *req, const char *label);
const char *http_label(const struct http_req *req);

/* What the request log says beyond method, path and status: who made the
 * request and why it failed. Copied, truncated to fit; "" until set. */
void http_set_actor(struct http_req *req, const char *actor);
void http_set_error(struct http_req *req, const char *code, const char *message);
const char *http_actor(const struct http_req *req);
const char *http_error_code(const struct http_req *req);
const char *http_error_message(const struct http_req *req);

/* Monotonic nanoseconds. */
uint64_t http_now_ns(void);

#endif
