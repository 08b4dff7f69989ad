/* engine/http.c: HTTP/1.1 on libuv with http-parser. See http.h for the policy. */
#include "http.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"

#define HTTP_READ_BYTES    (64 * 1024) /* one read from a socket */
#define HTTP_PENDING_MAX   (64 * 1024) /* input buffered while a request is handled */
#define HTTP_BODY_KEEP_MAX (64 * 1024) /* a body buffer kept for the next request */
#define HTTP_SWEEP_MS      250         /* how often deadlines are checked */
#define HTTP_BACKLOG       1024

/* Where a connection is; each phase has its own deadline (see http.h). */
enum phase {
    PHASE_HEAD,     /* waiting for or reading a request's head */
    PHASE_BODY,     /* reading its body */
    PHASE_HANDLING, /* the handler has it (perhaps deferred) */
    PHASE_WRITING,  /* the answer is queued on the socket */
    PHASE_IDLE,     /* kept alive between requests */
    PHASE_LINGER,   /* answered with close: discarding input until EOF */
    PHASE_CLOSED,   /* uv_close called */
};

/* Which http-parser callback ran last while collecting the head. */
enum last_cb { LAST_NONE, LAST_URL, LAST_FIELD, LAST_VALUE };

struct http_req {
    struct http_conn *conn;
    const char *method;
    const char *path; /* decoded, in head */
    char *head;       /* owned: raw url, header names and values, decoded path and query */
    size_t head_len, head_cap;
    size_t url_len; /* raw url at head[0] */
    unsigned nheaders, nparams;
    size_t name_off[HTTP_HEADERS_MAX], value_off[HTTP_HEADERS_MAX];
    const char *param_name[HTTP_PARAMS_MAX], *param_value[HTTP_PARAMS_MAX];
    enum last_cb last;
    struct buf body; /* owned; its memory is kept for the next request */
    bool too_large, answered, deferred;
    /* An answer given on another thread, until the loop sends it. */
    bool answered_off_loop;
    int x_status;
    const char *x_content_type;
    char *x_body;
    size_t x_len;
    struct http_req *x_next;
    int status;
    char id[24];
    const char *label; /* borrowed; see http_set_label */
    char actor[80], error_code[32], error_message[300];
    uint64_t started_ns;
    void *user;
    void (*user_free)(void *);
};

struct http_conn {
    uv_tcp_t tcp;
    struct http_server *srv;
    struct http_conn *prev, *next; /* srv->conns */
    http_parser parser;
    enum phase phase;
    uint64_t phase_ms, deadline_ms; /* uv_now when the phase began; when it must end */
    struct http_req req;            /* the request being read or handled */
    struct buf pending;             /* owned: input not parsed yet */
    bool keep_alive;                /* after this answer */
    bool peer_gone;                 /* EOF or error seen while the handler had the request */
    bool dispatch;                  /* a whole request (or a too-large head) is ready */
    bool pumping;                   /* re-entrancy guard of pump() */
    bool reading;                   /* uv_read_start is in effect */
    int fail_status;                /* a framing error found by a parser callback */
    const char *fail_msg;
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    char out_head[512];
    char *out_body; /* owned until written */
    size_t linger_bytes;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweep;
    /* Answers given on other threads (http_respond off the loop), sent by
     * the loop when 'answers' wakes it. */
    uv_thread_t loop_thread;
    uv_async_t answers;
    uv_mutex_t answers_lock;
    struct http_req *answers_head, *answers_tail;
    struct http_config cfg;
    http_parser_settings settings;
    int port;
    unsigned open; /* connections not yet closed */
    int handles;   /* uv handles not yet closed (server and connections) */
    bool listening, waiting_accept, stopping;
    struct http_conn *conns;
    uint64_t next_req_id;
    char readbuf[HTTP_READ_BYTES];
    time_t date_at;
    char date[40];
};

static void on_answers(uv_async_t *a);
static void on_answers_closed(uv_handle_t *h);

static void conn_close(struct http_conn *c);
static void pump(struct http_conn *c);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void read_start(struct http_conn *c);

uint64_t http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- phases and deadlines ---- */

static void set_phase(struct http_conn *c, enum phase p)
{
    const struct http_config *cfg = &c->srv->cfg;
    uint64_t now = uv_now(c->srv->loop), ms = 0; /* 0: no deadline */
    switch (p) {
    case PHASE_HEAD:
        ms = cfg->header_timeout_s * 1000ull;
        break;
    case PHASE_BODY:
        ms = cfg->body_timeout_s * 1000ull;
        break;
    case PHASE_WRITING:
    case PHASE_IDLE:
        ms = cfg->idle_timeout_s * 1000ull;
        break;
    case PHASE_LINGER:
        ms = HTTP_LINGER_MS;
        break;
    case PHASE_HANDLING: /* the handler answers; the client cannot stall it */
    case PHASE_CLOSED:
        break;
    }
    c->phase = p;
    c->phase_ms = now;
    c->deadline_ms = ms ? now + ms : 0;
}

static void on_sweep(uv_timer_t *t)
{
    struct http_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    for (struct http_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline_ms && now >= c->deadline_ms)
            conn_close(c);
    }
}

/* ---- the request's head ---- */

static bool head_append(struct http_req *r, const char *at, size_t n, size_t max)
{
    if (r->head_len + n + 1 > max)
        return false;
    if (r->head_len + n + 1 > r->head_cap) {
        size_t cap = r->head_cap ? r->head_cap : 1024;
        while (cap < r->head_len + n + 1)
            cap *= 2;
        char *g = realloc(r->head, cap);
        if (!g)
            return false;
        r->head = g;
        r->head_cap = cap;
    }
    memcpy(r->head + r->head_len, at, n);
    r->head_len += n;
    return true;
}

static int fail(struct http_conn *c, int status, const char *msg)
{
    if (!c->fail_status) {
        c->fail_status = status;
        c->fail_msg = msg;
    }
    return -1;
}

static int head_bytes(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = p->data;
    if (!head_append(&c->req, at, n, HTTP_HEAD_MAX_BYTES))
        return fail(c, 431, "request head over the limit");
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = p->data;
    c->req.last = LAST_URL;
    if (head_bytes(p, at, n))
        return -1;
    c->req.url_len += n;
    return 0;
}

/* Ends the piece collected before: the url, a name (with an empty value) or a value. */
static int end_piece(struct http_conn *c)
{
    struct http_req *r = &c->req;
    if (r->last == LAST_NONE)
        return 0;
    if (head_bytes(&c->parser, "", 1))
        return -1;
    if (r->last == LAST_FIELD) { /* a header with no value bytes */
        r->value_off[r->nheaders - 1] = r->head_len;
        if (head_bytes(&c->parser, "", 1))
            return -1;
    }
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = p->data;
    struct http_req *r = &c->req;
    if (r->last != LAST_FIELD) {
        if (end_piece(c))
            return -1;
        if (r->nheaders == HTTP_HEADERS_MAX)
            return fail(c, 431, "too many header lines");
        r->name_off[r->nheaders++] = r->head_len;
        r->last = LAST_FIELD;
    }
    return head_bytes(p, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = p->data;
    struct http_req *r = &c->req;
    if (r->last != LAST_VALUE) {
        if (head_bytes(p, "", 1))
            return -1;
        r->value_off[r->nheaders - 1] = r->head_len;
        r->last = LAST_VALUE;
    }
    return head_bytes(p, at, n);
}

static int hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Appends the decoded form of head[s_off..s_off+n) and a NUL to the head (whose
 * room parse_target reserved); its offset goes to *off. */
static int decode(struct http_conn *c, size_t s_off, size_t n, bool plus, size_t *off)
{
    struct http_req *r = &c->req;
    *off = r->head_len;
    const char *s = r->head + s_off;
    char *o = r->head + r->head_len;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hex((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hex((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return fail(c, 400, "bad percent escape in the request target");
            ch = hi * 16 + lo;
            i += 2;
            if (ch == 0)
                return fail(c, 400, "the request target decodes to a NUL byte");
        } else if (ch == '+' && plus) {
            ch = ' ';
        }
        *o++ = (char)ch;
    }
    *o++ = '\0';
    r->head_len = (size_t)(o - r->head);
    return 0;
}

/* Splits the raw url into the decoded path and query parameters. */
static int parse_target(struct http_conn *c)
{
    struct http_req *r = &c->req;
    size_t n = r->url_len;
    const char *u = r->head;
    if (n == 0 || u[0] != '/')
        return fail(c, 400, "the request target must be an absolute path");
    /* Decoding never lengthens: the path, names and values fit in the raw
     * url's length plus their NULs. Reserve that once so the head stays put. */
    size_t need = r->head_len + n + 2 * HTTP_PARAMS_MAX + 2;
    if (need > r->head_cap) {
        char *g = realloc(r->head, need);
        if (!g)
            return fail(c, 500, "out of memory");
        r->head = g;
        r->head_cap = need;
        u = r->head;
    }
    size_t q = 0;
    while (q < n && u[q] != '?' && u[q] != '#')
        q++;
    size_t path_off;
    if (decode(c, 0, q, false, &path_off))
        return -1;
    size_t end = q;
    while (end < n && u[end] != '#')
        end++;
    size_t pos = q < n && u[q] == '?' ? q + 1 : end;
    size_t offs[HTTP_PARAMS_MAX][2];
    while (pos < end) {
        size_t amp = pos;
        while (amp < end && u[amp] != '&')
            amp++;
        if (amp > pos) {
            size_t eq = pos;
            while (eq < amp && u[eq] != '=')
                eq++;
            if (r->nparams == HTTP_PARAMS_MAX)
                return fail(c, 400, "too many query parameters");
            size_t *o = offs[r->nparams++];
            if (decode(c, pos, eq - pos, true, &o[0]) ||
                decode(c, eq < amp ? eq + 1 : amp, eq < amp ? amp - eq - 1 : 0, true, &o[1]))
                return -1;
        }
        pos = amp + 1;
    }
    /* The head no longer moves: pointers into it are stable from here on. */
    r->path = r->head + path_off;
    for (unsigned i = 0; i < r->nparams; i++) {
        r->param_name[i] = r->head + offs[i][0];
        r->param_value[i] = r->head + offs[i][1];
    }
    return 0;
}

static unsigned count_header(const struct http_req *r, const char *name)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->nheaders; i++)
        n += !strcasecmp(r->head + r->name_off[i], name);
    return n;
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    struct http_req *r = &c->req;
    if (end_piece(c))
        return -1;
    r->last = LAST_NONE;
    if (count_header(r, "Content-Length") > 1)
        return fail(c, 400, "ambiguous framing: more than one Content-Length header");
    if (count_header(r, "Content-Length") && count_header(r, "Transfer-Encoding"))
        return fail(c, 400, "ambiguous framing: Content-Length with Transfer-Encoding");
    if (count_header(r, "Transfer-Encoding") > 1)
        return fail(c, 400, "ambiguous framing: more than one Transfer-Encoding header");
    if (count_header(r, "Transfer-Encoding") && !(p->flags & F_CHUNKED))
        return fail(c, 400, "unsupported transfer coding (only chunked)");
    if (count_header(r, "Authorization") > 1)
        return fail(c, 400, "more than one Authorization header");
    if (p->method == HTTP_CONNECT || p->upgrade)
        return fail(c, 400, "protocol upgrades are not supported");
    if (parse_target(c))
        return -1;
    r->method = http_method_str((enum http_method)p->method);
    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length);
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->srv->cfg.body_max_bytes) {
        /* Not worth reading: answer now and close. */
        r->too_large = true;
        c->dispatch = true;
        http_parser_pause(p, 1);
        return 0;
    }
    const char *expect = http_header(r, "Expect");
    if (expect && has_body && !strcasecmp(expect, "100-continue")) {
        static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        uv_buf_t b = uv_buf_init(cont, sizeof cont - 1);
        if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) != (int)b.len)
            return fail(c, 400, "cannot send 100 Continue");
    }
    if (has_body)
        set_phase(c, PHASE_BODY);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = p->data;
    struct http_req *r = &c->req;
    if (r->body.len + n > c->srv->cfg.body_max_bytes) {
        r->too_large = true;
        c->dispatch = true;
        http_parser_pause(p, 1);
        return 0;
    }
    buf_put(&r->body, at, n);
    return r->body.failed ? fail(c, 500, "out of memory") : 0;
}

static int on_message_begin(http_parser *p)
{
    struct http_conn *c = p->data;
    if (c->phase == PHASE_IDLE)
        set_phase(c, PHASE_HEAD);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    c->dispatch = true;
    http_parser_pause(p, 1);
    return 0;
}

/* ---- answering ---- */

static const char *date_header(struct http_server *srv)
{
    time_t now = time(NULL);
    if (now != srv->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(srv->date, sizeof srv->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv->date_at = now;
    }
    return srv->date;
}

static void request_reset(struct http_req *r)
{
    if (r->user_free)
        r->user_free(r->user);
    r->user = NULL;
    r->user_free = NULL;
    if (r->body.cap > HTTP_BODY_KEEP_MAX || r->body.failed)
        buf_deinit(&r->body);
    r->body.len = 0;
    if (r->body.p)
        r->body.p[0] = '\0';
    r->head_len = r->url_len = 0;
    r->nheaders = r->nparams = 0;
    r->last = LAST_NONE;
    r->method = "-";
    r->path = "-";
    r->too_large = r->answered = r->deferred = r->answered_off_loop = false;
    r->status = 0;
    r->label = NULL;
    r->actor[0] = r->error_code[0] = r->error_message[0] = '\0';
}

/* The answer has left: close, linger, or wait for the next request. */
static void answer_sent(struct http_conn *c)
{
    free(c->out_body);
    c->out_body = NULL;
    if (c->phase == PHASE_CLOSED)
        return;
    request_reset(&c->req);
    if (c->peer_gone) {
        conn_close(c);
        return;
    }
    if (!c->keep_alive || c->srv->stopping) {
        set_phase(c, PHASE_LINGER);
        c->pending.len = 0;
        uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, NULL);
        read_start(c);
        return;
    }
    set_phase(c, PHASE_IDLE);
    read_start(c);
    pump(c);
}

static void on_written(uv_write_t *w, int status)
{
    struct http_conn *c = w->data;
    if (status < 0 && c->phase != PHASE_CLOSED) {
        free(c->out_body);
        c->out_body = NULL;
        conn_close(c);
        return;
    }
    answer_sent(c);
}

static void send_answer(struct http_conn *c, int status, const char *ctype, char *body, size_t len)
{
    struct http_req *r = &c->req;
    bool head_only = !strcmp(r->method, "HEAD");
    int n = snprintf(c->out_head, sizeof c->out_head,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: %zu\r\n%s%s%s"
                     "X-Request-Id: %s\r\n%s\r\n",
                     status, http_status_str((enum http_status)status), date_header(c->srv), len,
                     ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                     r->id[0] ? r->id : "-", c->keep_alive ? "" : "Connection: close\r\n");
    c->out_body = body;
    set_phase(c, PHASE_WRITING);
    uv_buf_t b[2] = {
        uv_buf_init(c->out_head, (unsigned)n),
        uv_buf_init(body ? body : c->out_head, head_only || !body ? 0 : (unsigned)len)};
    size_t total = b[0].len + b[1].len;
    int w = uv_try_write((uv_stream_t *)&c->tcp, b, 2);
    if (w == (int)total) {
        answer_sent(c);
        return;
    }
    if (w < 0 && w != UV_EAGAIN) {
        free(c->out_body);
        c->out_body = NULL;
        conn_close(c);
        return;
    }
    size_t done = w > 0 ? (size_t)w : 0;
    if (done >= b[0].len) {
        b[1].base += done - b[0].len;
        b[1].len -= (unsigned)(done - b[0].len);
        b[0].len = 0;
    } else {
        b[0].base += done;
        b[0].len -= (unsigned)done;
    }
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, b[0].len ? b : b + 1, b[0].len ? 2 : 1,
                 on_written)) {
        free(c->out_body);
        c->out_body = NULL;
        conn_close(c);
    }
}

/* A framing error: answer it ourselves in the API's error envelope, then close. */
static void refuse(struct http_conn *c)
{
    const char *code = c->fail_status == 431   ? "header_too_large"
                       : c->fail_status >= 500 ? "internal"
                                               : "bad_request";
    char *body = malloc(400); /* fail_msg is one of this file's literals: no escaping needed */
    int n = body ? snprintf(body, 400,
                            "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"details\":{}}}", code,
                            c->fail_msg)
                 : 0;
    c->keep_alive = false;
    c->pending.len = 0;
    struct http_req *r = &c->req;
    if (!r->id[0])
        snprintf(r->id, sizeof r->id, "r%llx", (unsigned long long)++c->srv->next_req_id);
    r->answered = true;
    r->status = c->fail_status;
    http_set_error(r, code, c->fail_msg);
    if (c->srv->cfg.done)
        c->srv->cfg.done(r, c->fail_status, c->srv->cfg.ctx);
    send_answer(c, c->fail_status, "application/json", body, body ? (size_t)n : 0);
}

static void dispatch(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    struct http_req *r = &c->req;
    c->dispatch = false;
    c->keep_alive = !r->too_large && !srv->stopping && http_should_keep_alive(&c->parser);
    r->started_ns = http_now_ns();
    snprintf(r->id, sizeof r->id, "r%llx", (unsigned long long)++srv->next_req_id);
    set_phase(c, PHASE_HANDLING);
    srv->cfg.handler(r, srv->cfg.ctx);
    if (!r->answered && !r->deferred)
        http_respond(r, 500, NULL, NULL, 0);
}

/* Parse what is pending; dispatch each complete request in turn. */
static void pump(struct http_conn *c)
{
    if (c->pumping)
        return;
    c->pumping = true;
    while (c->phase == PHASE_HEAD || c->phase == PHASE_BODY || c->phase == PHASE_IDLE) {
        if (!c->pending.len)
            break;
        if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED)
            http_parser_pause(&c->parser, 0);
        size_t used =
            http_parser_execute(&c->parser, &c->srv->settings, c->pending.p, c->pending.len);
        if (used > c->pending.len)
            used = c->pending.len;
        memmove(c->pending.p, c->pending.p + used, c->pending.len - used);
        c->pending.len -= used;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (c->fail_status || (e != HPE_OK && e != HPE_PAUSED)) {
            if (!c->fail_status)
                fail(c, 400, http_errno_description(e));
            refuse(c);
            break;
        }
        if (c->dispatch) {
            if (c->req.too_large)
                c->pending.len = 0;
            dispatch(c);
        } else if (used == 0) {
            break;
        }
    }
    c->pumping = false;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct http_conn *c = h->data;
    *buf = uv_buf_init(c->srv->readbuf, sizeof c->srv->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct http_conn *c = s->data;
    if (n == 0)
        return;
    if (n < 0) {
        c->reading = false; /* libuv stops reading at EOF or error */
        uv_read_stop(s);
        if (c->phase == PHASE_HANDLING || c->phase == PHASE_WRITING)
            c->peer_gone = true; /* the handler still holds the request */
        else
            conn_close(c);
        return;
    }
    if (c->phase == PHASE_LINGER) {
        c->linger_bytes += (size_t)n;
        if (c->linger_bytes > c->srv->cfg.body_max_bytes + HTTP_HEAD_MAX_BYTES)
            conn_close(c);
        return;
    }
    buf_put(&c->pending, buf->base, (size_t)n);
    if (c->pending.failed) {
        conn_close(c);
        return;
    }
    if (c->phase == PHASE_HANDLING || c->phase == PHASE_WRITING) {
        /* Pipelined input: keep it for later, but not without bound. */
        if (c->pending.len > HTTP_PENDING_MAX) {
            uv_read_stop(s);
            c->reading = false;
        }
        return;
    }
    if (c->phase == PHASE_IDLE)
        set_phase(c, PHASE_HEAD);
    pump(c);
}

static void read_start(struct http_conn *c)
{
    if (!c->reading && c->phase != PHASE_CLOSED) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    }
}

/* ---- connections ---- */

static void server_release(struct http_server *srv);

static void conn_free(struct http_conn *c)
{
    request_reset(&c->req);
    free(c->req.head);
    buf_deinit(&c->req.body);
    buf_deinit(&c->pending);
    free(c->out_body);
    free(c);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    struct http_server *srv = c->srv;
    conn_free(c);
    server_release(srv);
}

static void accept_one(struct http_server *srv);

static void conn_close(struct http_conn *c)
{
    if (c->phase == PHASE_CLOSED)
        return;
    struct http_server *srv = c->srv;
    c->phase = PHASE_CLOSED;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->open--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    if (srv->waiting_accept && !srv->stopping)
        accept_one(srv);
}

/* At the limit: the connection with the least progress, or NULL. */
static struct http_conn *eviction_candidate(struct http_server *srv)
{
    static const enum phase order[] = {PHASE_IDLE, PHASE_HEAD, PHASE_BODY};
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        struct http_conn *best = NULL;
        for (struct http_conn *c = srv->conns; c; c = c->next)
            if (c->phase == order[k] && (!best || c->phase_ms <= best->phase_ms))
                best = c;
        if (best)
            return best;
    }
    return NULL;
}

static void accept_one(struct http_server *srv)
{
    if (srv->open >= srv->cfg.max_connections) {
        struct http_conn *victim = eviction_candidate(srv);
        if (!victim) {
            srv->waiting_accept = true; /* accepted when a connection closes */
            return;
        }
        srv->waiting_accept = false;
        conn_close(victim); /* may call accept_one again */
        if (srv->open >= srv->cfg.max_connections)
            return;
    }
    struct http_conn *c = calloc(1, sizeof *c);
    if (!c) {
        srv->waiting_accept = true;
        return;
    }
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    srv->handles++;
    if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp)) {
        srv->waiting_accept = false;
        c->phase = PHASE_CLOSED;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    srv->waiting_accept = false;
    srv->open++;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->req.conn = c;
    request_reset(&c->req);
    uv_tcp_nodelay(&c->tcp, 1);
    set_phase(c, PHASE_HEAD);
    read_start(c);
}

static void on_handle_closed(uv_handle_t *h);

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    if (status < 0 || srv->stopping)
        return; /* e.g. EMFILE: libuv has already shed the connection */
    accept_one(srv);
}

/* ---- the server ---- */

static int make_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return -1;
}

int http_start(uv_loop_t *loop, const struct http_config *cfg, struct http_server **out,
               struct err_detail *why)
{
    struct sockaddr_storage ss;
    const char *host = strcmp(cfg->host, "localhost") ? cfg->host : "127.0.0.1";
    if (make_addr(host, cfg->port, &ss))
        return err_set(why, -ERR_USAGE, "listen address '%s' is not a numeric IP address",
                       cfg->host);
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return err_set(why, -ERR_NOMEM, "out of memory");
    srv->loop = loop;
    srv->cfg = *cfg;
    if (!srv->cfg.header_timeout_s)
        srv->cfg.header_timeout_s = cfg->idle_timeout_s;
    if (!srv->cfg.body_timeout_s)
        srv->cfg.body_timeout_s = cfg->idle_timeout_s;
    if (!srv->cfg.max_connections)
        srv->cfg.max_connections = 1;
    http_parser_settings_init(&srv->settings);
    srv->settings.on_message_begin = on_message_begin;
    srv->settings.on_url = on_url;
    srv->settings.on_header_field = on_header_field;
    srv->settings.on_header_value = on_header_value;
    srv->settings.on_headers_complete = on_headers_complete;
    srv->settings.on_body = on_body;
    srv->settings.on_message_complete = on_message_complete;
    http_parser_set_max_header_size(HTTP_HEAD_MAX_BYTES);
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    srv->handles = 1;
    int rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&srv->listener, HTTP_BACKLOG, on_connection);
    if (rc) {
        srv->stopping = true;
        uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
        return err_set(why, -ERR_IO, "cannot listen on %s:%d: %s", cfg->host, cfg->port,
                       uv_strerror(rc));
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &blen);
    srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    srv->listening = true;
    uv_timer_init(loop, &srv->sweep);
    srv->loop_thread = uv_thread_self();
    uv_mutex_init(&srv->answers_lock);
    uv_async_init(loop, &srv->answers, on_answers);
    srv->sweep.data = srv->answers.data = srv;
    srv->handles += 2;
    uv_timer_start(&srv->sweep, on_sweep, HTTP_SWEEP_MS, HTTP_SWEEP_MS);
    *out = srv;
    return 0;
}

int http_port(const struct http_server *srv)
{
    return srv->port;
}

unsigned http_connection_count(const struct http_server *srv)
{
    return srv->open;
}

void http_quiesce(struct http_server *srv)
{
    if (srv->listening) {
        srv->listening = false;
        uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
    }
    srv->stopping = true;
    for (struct http_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->phase == PHASE_IDLE)
            conn_close(c);
    }
}

/* One of the server's handles (its own or a connection's) is closed. */
static void server_release(struct http_server *srv)
{
    if (--srv->handles == 0)
        free(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    server_release(h->data);
}

void http_stop(struct http_server *srv)
{
    http_quiesce(srv);
    on_answers(&srv->answers); /* whatever was answered before the stop is sent */
    while (srv->conns)
        conn_close(srv->conns);
    uv_timer_stop(&srv->sweep);
    uv_close((uv_handle_t *)&srv->sweep, on_handle_closed);
    uv_close((uv_handle_t *)&srv->answers, on_answers_closed);
}

/* ---- requests ---- */

const char *http_method(const struct http_req *req)
{
    return req->method;
}

const char *http_path(const struct http_req *req)
{
    return req->path;
}

const char *http_header(const struct http_req *req, const char *name)
{
    for (unsigned i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->head + req->name_off[i], name))
            return req->head + req->value_off[i];
    return NULL;
}

const char *http_query(const struct http_req *req, const char *name)
{
    for (unsigned i = 0; i < req->nparams; i++)
        if (!strcmp(req->param_name[i], name))
            return req->param_value[i];
    return NULL;
}

const char *http_query_name(const struct http_req *req, unsigned i)
{
    return i < req->nparams ? req->param_name[i] : NULL;
}

const char *http_body(const struct http_req *req, size_t *len)
{
    if (len)
        *len = req->too_large ? 0 : req->body.len;
    return req->body.p && !req->too_large ? req->body.p : "";
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

static void respond_on_loop(struct http_req *req, int status, const char *content_type, char *body,
                            size_t len);

/* The loop sends what other threads answered, in the order they did. */
static void on_answers(uv_async_t *a)
{
    struct http_server *srv = a->data;
    uv_mutex_lock(&srv->answers_lock);
    struct http_req *r = srv->answers_head;
    srv->answers_head = srv->answers_tail = NULL;
    uv_mutex_unlock(&srv->answers_lock);
    while (r) {
        struct http_req *next = r->x_next;
        r->x_next = NULL;
        respond_on_loop(r, r->x_status, r->x_content_type, r->x_body, r->x_len);
        r = next;
    }
}

static void on_answers_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;
    uv_mutex_destroy(&srv->answers_lock);
    server_release(srv);
}

void http_respond(struct http_req *req, int status, const char *content_type, char *body,
                  size_t len)
{
    struct http_server *srv = req->conn->srv;
    uv_thread_t self = uv_thread_self();
    if (uv_thread_equal(&self, &srv->loop_thread)) {
        respond_on_loop(req, status, content_type, body, len);
        return;
    }
    /* Off the loop: the request is the answering thread's until the loop
     * takes the answer; a second answer is dropped, as on the loop. */
    if (req->answered_off_loop) {
        free(body);
        return;
    }
    req->answered_off_loop = true;
    req->x_status = status;
    req->x_content_type = content_type;
    req->x_body = body;
    req->x_len = len;
    req->x_next = NULL;
    uv_mutex_lock(&srv->answers_lock);
    if (srv->answers_tail)
        srv->answers_tail->x_next = req;
    else
        srv->answers_head = req;
    srv->answers_tail = req;
    uv_mutex_unlock(&srv->answers_lock);
    uv_async_send(&srv->answers);
}

static void respond_on_loop(struct http_req *req, int status, const char *content_type, char *body,
                            size_t len)
{
    struct http_conn *c = req->conn;
    if (req->answered || c->phase != PHASE_HANDLING) {
        free(body);
        return;
    }
    req->answered = true;
    req->status = status;
    struct http_server *srv = c->srv;
    if (srv->cfg.done)
        srv->cfg.done(req, status, srv->cfg.ctx);
    if (c->peer_gone) {
        free(body);
        request_reset(req);
        conn_close(c);
        return;
    }
    send_answer(c, status, content_type, body, len);
}

void http_defer(struct http_req *req)
{
    /* Written once, before the request is handed to another thread (which
     * then only reads it): the loop reads it meanwhile. */
    if (!req->deferred)
        req->deferred = true;
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

void http_set_actor(struct http_req *req, const char *actor)
{
    snprintf(req->actor, sizeof req->actor, "%s", actor);
}

void http_set_error(struct http_req *req, const char *code, const char *message)
{
    snprintf(req->error_code, sizeof req->error_code, "%s", code);
    snprintf(req->error_message, sizeof req->error_message, "%s", message);
}

const char *http_actor(const struct http_req *req)
{
    return req->actor;
}

const char *http_error_code(const struct http_req *req)
{
    return req->error_code;
}

const char *http_error_message(const struct http_req *req)
{
    return req->error_message;
}
