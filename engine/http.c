/* engine/http.c: libmicrohttpd on a libuv loop. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define HTTP_CONN_MEMORY_BYTES (64 * 1024) /* headers and MHD buffers per connection */
#define HTTP_MAX_RERUNS        4           /* MHD_run passes per wake-up after resumes */

struct http_server {
    struct MHD_Daemon *mhd;
    uv_poll_t poll;   /* on MHD's epoll fd */
    uv_timer_t timer; /* MHD's timeout */
    struct http_config cfg;
    int port;
    unsigned open_connections;
    bool need_run; /* a deferred request was answered: run MHD again */
    bool in_run;   /* re-entrancy guard */
    int closing;   /* handles left to close */
    uint64_t next_req_id;
};

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn; /* borrowed from MHD */
    const char *method, *url;    /* borrowed from MHD */
    char *body;                  /* owned */
    size_t body_len, body_cap;
    bool too_large, dispatched, deferred;
    bool answered;
    int status;
    const char *content_type;
    char *resp; /* owned until queued */
    size_t resp_len;
    char id[24];
    const char *label; /* borrowed; see http_set_label */
    uint64_t started_ns;
    void *user;
    void (*user_free)(void *);
};

uint64_t http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static enum MHD_Result queue_answer(struct http_req *req)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(req->resp_len, req->resp, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    req->resp = NULL; /* now MHD's */
    if (req->content_type)
        MHD_add_response_header(r, "Content-Type", req->content_type);
    MHD_add_response_header(r, "X-Request-Id", req->id);
    enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)req->status, r);
    MHD_destroy_response(r);
    if (req->srv->cfg.done)
        req->srv->cfg.done(req, req->status, req->srv->cfg.ctx);
    return ok;
}

static bool append_body(struct http_req *req, const char *data, size_t n)
{
    size_t max = req->srv->cfg.body_max_bytes;
    if (req->too_large || req->body_len + n > max) {
        req->too_large = true;
        return true;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        char *g = realloc(req->body, cap);
        if (!g)
            return false;
        req->body = g;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
    return true;
}

static struct http_req *req_new(struct http_server *srv, struct MHD_Connection *conn,
                                const char *url, const char *method)
{
    struct http_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->srv = srv;
    req->conn = conn;
    req->url = url;
    req->method = method;
    req->started_ns = http_now_ns();
    snprintf(req->id, sizeof req->id, "r%llx", (unsigned long long)++srv->next_req_id);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > srv->cfg.body_max_bytes)
        req->too_large = true;
    return req;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *srv = cls;
    struct http_req *req = *con_cls;
    if (!req) {
        req = req_new(srv, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!append_body(req, upload_data, *upload_data_size))
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->answered)
        return queue_answer(req);
    if (req->dispatched)
        return MHD_YES; /* resumed spuriously; still waiting */
    req->dispatched = true;
    srv->cfg.handler(req, srv->cfg.ctx);
    if (req->answered && !req->deferred)
        return queue_answer(req);
    if (!req->deferred) {
        log_error("handler neither answered nor deferred %s %s", method, url);
        return MHD_NO;
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct http_req *req = *con_cls;
    if (!req)
        return;
    if (req->user_free)
        req->user_free(req->user);
    free(req->body);
    free(req->resp);
    free(req);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn, (void)socket_context;
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        srv->open_connections++;
    else if (srv->open_connections)
        srv->open_connections--;
}

static void on_timer(uv_timer_t *h);

static void arm_timer(struct http_server *srv)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (srv->need_run)
        uv_timer_start(&srv->timer, on_timer, 0, 0);
    else if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES)
        uv_timer_start(&srv->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&srv->timer);
}

static void run(struct http_server *srv)
{
    if (srv->in_run || !srv->mhd)
        return;
    srv->in_run = true;
    for (int i = 0; i < HTTP_MAX_RERUNS; i++) {
        srv->need_run = false;
        MHD_run(srv->mhd);
        if (srv->cfg.turn)
            srv->cfg.turn(srv->cfg.ctx);
        if (!srv->need_run)
            break;
    }
    srv->in_run = false;
    arm_timer(srv);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)status, (void)events;
    run(h->data);
}

static void on_timer(uv_timer_t *h)
{
    run(h->data);
}

static int make_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    return -1;
}

int http_start(uv_loop_t *loop, const struct http_config *cfg, struct http_server **out,
               struct err_detail *why)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    const char *host = strcmp(cfg->host, "localhost") ? cfg->host : "127.0.0.1";
    if (make_addr(host, cfg->port, &ss, &sslen))
        return err_set(why, -ERR_USAGE, "listen address '%s' is not a numeric IP address",
                       cfg->host);
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return err_set(why, -ERR_NOMEM, "out of memory");
    srv->cfg = *cfg;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->mhd = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY_BYTES,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->mhd) {
        free(srv);
        return err_set(why, -ERR_IO, "cannot listen on %s:%d (in use or not permitted)", cfg->host,
                       cfg->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *pinfo = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = pinfo ? pinfo->port : cfg->port;
    uv_poll_init(loop, &srv->poll, info->epoll_fd);
    uv_timer_init(loop, &srv->timer);
    srv->poll.data = srv;
    srv->timer.data = srv;
    uv_poll_start(&srv->poll, UV_READABLE, on_poll);
    arm_timer(srv);
    *out = srv;
    return 0;
}

int http_port(const struct http_server *srv)
{
    return srv->port;
}

unsigned http_connection_count(const struct http_server *srv)
{
    return srv->open_connections;
}

void http_quiesce(struct http_server *srv)
{
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;
    if (--srv->closing == 0)
        free(srv);
}

void http_stop(struct http_server *srv)
{
    uv_poll_stop(&srv->poll);
    uv_timer_stop(&srv->timer);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    srv->closing = 2;
    uv_close((uv_handle_t *)&srv->poll, on_handle_closed);
    uv_close((uv_handle_t *)&srv->timer, on_handle_closed);
}

const char *http_method(const struct http_req *req)
{
    return req->method;
}

const char *http_path(const struct http_req *req)
{
    return req->url;
}

const char *http_header(const struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_body(const struct http_req *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body ? req->body : "";
}

bool http_body_too_large(const struct http_req *req)
{
    return req->too_large;
}

const char *http_request_id(const struct http_req *req)
{
    return req->id;
}

uint64_t http_started_ns(const struct http_req *req)
{
    return req->started_ns;
}

void http_respond(struct http_req *req, int status, const char *content_type, char *body,
                  size_t len)
{
    if (req->answered) {
        free(body);
        return;
    }
    req->answered = true;
    req->status = status;
    req->content_type = content_type;
    req->resp = body;
    req->resp_len = len;
    if (req->deferred) {
        MHD_resume_connection(req->conn);
        req->srv->need_run = true;
        if (!req->srv->in_run) /* answered from another callback: run MHD soon */
            arm_timer(req->srv);
    }
}

void http_defer(struct http_req *req)
{
    req->deferred = true;
    MHD_suspend_connection(req->conn);
}

void http_set_user(struct http_req *req, void *user, void (*free_cb)(void *))
{
    req->user = user;
    req->user_free = free_cb;
}

void http_set_label(struct http_req *req, const char *label)
{
    req->label = label;
}

const char *http_label(const struct http_req *req)
{
    return req->label;
}

void *http_user(const struct http_req *req)
{
    return req->user;
}
