/* tests/unit/http_test.c: the HTTP server at the socket level. A server runs
 * on its own loop thread with a small handler; the test talks to it through
 * plain blocking sockets, byte by byte where framing matters. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "http.h"
#include "test.h"

static uv_loop_t loop;
static struct http_server *srv;
static int port;
static int calls; /* handler calls (read from the test thread after answers) */

struct held {
    uv_timer_t timer;
    struct http_req *req;
};

static void answer_held(uv_timer_t *t)
{
    struct held *h = t->data;
    char *body = strdup("held");
    http_respond(h->req, 200, "text/plain", body, 4);
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

/* Answered from a thread of its own after 50 ms. */
static void *answer_from_thread(void *arg)
{
    struct http_req *req = arg;
    usleep(50 * 1000);
    char *body = malloc(64);
    int n =
        snprintf(body, 64, "from a thread: %s", http_query(req, "a") ? http_query(req, "a") : "-");
    http_respond(req, 200, "text/plain", body, (size_t)n);
    return NULL; /* the request is no longer this thread's */
}

/* /echo answers what it saw; /hold answers after 300 ms; /big says it saw a too-large body. */
static void handler(struct http_req *req, void *ctx)
{
    (void)ctx;
    __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    if (http_body_too_large(req)) {
        http_respond(req, 413, "text/plain", strdup("too large"), 9);
        return;
    }
    if (!strcmp(http_path(req), "/thread")) {
        http_defer(req);
        pthread_t th;
        pthread_create(&th, NULL, answer_from_thread, req);
        pthread_detach(th);
        return;
    }
    if (!strcmp(http_path(req), "/hold")) {
        struct held *h = calloc(1, sizeof *h);
        h->req = req;
        uv_timer_init(&loop, &h->timer);
        h->timer.data = h;
        uv_timer_start(&h->timer, answer_held, 300, 0);
        http_defer(req);
        return;
    }
    size_t len;
    const char *body = http_body(req, &len);
    const char *a = http_query(req, "a"), *auth = http_header(req, "authorization");
    char *out = malloc(512);
    int n = snprintf(out, 512, "%s %s a=%s auth=%s body=%zu:%.40s", http_method(req),
                     http_path(req), a ? a : "-", auth ? auth : "-", len, body);
    http_respond(req, 200, "text/plain", out, (size_t)n);
}

static void *run_loop(void *arg)
{
    (void)arg;
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

static void start(unsigned max_conns, unsigned idle_s, unsigned header_s, unsigned body_s)
{
    uv_loop_init(&loop);
    struct http_config cfg = {.host = "127.0.0.1",
                              .port = 0,
                              .body_max_bytes = 1000,
                              .idle_timeout_s = idle_s,
                              .header_timeout_s = header_s,
                              .body_timeout_s = body_s,
                              .max_connections = max_conns,
                              .handler = handler};
    struct err_detail why = {0};
    if (http_start(&loop, &cfg, &srv, &why)) {
        fprintf(stderr, "# %s\n", why.msg);
        exit(1);
    }
    port = http_port(srv);
    pthread_t th;
    pthread_create(&th, NULL, run_loop, NULL);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int say(int fd, const char *s)
{
    size_t n = strlen(s);
    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Reads one response (head and Content-Length body) into buf; its status, or -1. */
static int response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    long want = -1;
    for (;;) {
        char *end = len ? strstr(buf, "\r\n\r\n") : NULL;
        if (end && want < 0) {
            const char *cl = strcasestr(buf, "Content-Length:");
            want = (long)(end + 4 - buf) + (cl ? atol(cl + 15) : 0);
        }
        if (want >= 0 && (long)len >= want)
            break;
        ssize_t n = recv(fd, buf + len, want >= 0 ? (size_t)want - len : 1, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (len + 1 >= cap)
            return -1;
    }
    int status = -1;
    sscanf(buf, "HTTP/1.1 %d", &status);
    return status;
}

/* True when the peer closes (EOF or reset) within ms. */
static bool closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c[256];
    for (;;) {
        if (poll(&p, 1, ms) <= 0)
            return false;
        ssize_t n = recv(fd, c, sizeof c, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
    }
}

static double now_s(void)
{
    return (double)http_now_ns() / 1e9;
}

TEST(keeps_alive_and_decodes_the_target)
{
    start(8, 5, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, "GET /echo%2Fx?b=1&a=x%20y+z HTTP/1.1\r\nHost: t\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200);
    CHECK_MSG(strstr(buf, "GET /echo/x a=x y z auth=- body=0"), "%s", buf);
    CHECK(strstr(buf, "X-Request-Id: r"));
    CHECK(say(fd,
              "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nAuthorization: Bearer t\r\n\r\nhello") ==
          0);
    CHECK(response(fd, buf, sizeof buf) == 200);
    CHECK_MSG(strstr(buf, "POST /echo a=- auth=Bearer t body=5:hello"), "%s", buf);
}

TEST(answers_pipelined_requests_in_order)
{
    start(8, 5, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(
        say(fd,
            "GET /echo?a=1 HTTP/1.1\r\n\r\nGET /echo?a=2 HTTP/1.1\r\n\r\n"
            "POST /echo?a=3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n") ==
        0);
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "a=1 "));
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "a=2 "));
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "a=3 ") && strstr(buf, "body=3:abc"));
}

/* An answer given on another thread is sent by the loop, in order with the
 * connection's other answers; a client gone before the answer costs nothing. */
TEST(answers_from_another_thread)
{
    start(32, 5, 5, 5); /* room for all: an idle connection is evicted at the limit */
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, "GET /thread?a=1 HTTP/1.1\r\n\r\nGET /echo?a=2 HTTP/1.1\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "from a thread: 1"));
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "a=2 "));
    for (int i = 0; i < 20; i++) {
        int g = dial();
        CHECK(say(g, "GET /thread HTTP/1.1\r\n\r\n") == 0);
        close(g); /* gone before the answer */
    }
    usleep(200 * 1000);
    CHECK(say(fd, "GET /thread?a=3 HTTP/1.1\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "from a thread: 3"));
    CHECK(!closed_within(fd, 100));
}

/* Each ambiguous head: 400, the connection closed, the smuggled request never handled. */
static void refused(const char *req, int status)
{
    start(8, 5, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, req) == 0);
    int st = response(fd, buf, sizeof buf);
    CHECK_MSG(st == status, "status %d: %s", st, buf);
    CHECK(strstr(buf, "Connection: close"));
    CHECK(strstr(buf, "{\"error\":{\"code\":"));
    CHECK(closed_within(fd, 3000));
    CHECK_MSG(__atomic_load_n(&calls, __ATOMIC_SEQ_CST) == 0, "handler ran %d times", calls);
}

TEST(refuses_two_content_lengths)
{
    refused("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\n"
            "helloGET /echo?a=smuggled HTTP/1.1\r\n\r\n",
            400);
}

TEST(refuses_content_length_with_transfer_encoding)
{
    refused("POST /echo HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\n\r\nGET /echo?a=smuggled HTTP/1.1\r\n\r\n",
            400);
}

TEST(refuses_transfer_encoding_with_content_length_after)
{
    refused("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
            "0\r\n\r\n",
            400);
}

TEST(refuses_an_unknown_transfer_coding)
{
    refused("POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx", 400);
}

TEST(refuses_two_authorization_headers)
{
    refused("GET /echo HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
            400);
}

TEST(refuses_a_nul_in_the_target)
{
    refused("GET /echo?a=x%00y HTTP/1.1\r\n\r\n", 400);
}

TEST(refuses_a_bad_escape_and_a_relative_target)
{
    refused("GET /echo?a=%zz HTTP/1.1\r\n\r\n", 400);
}

TEST(refuses_a_malformed_request_line)
{
    refused("GET /echo HTTP/1.1 extra\r\n\r\n", 400);
}

TEST(refuses_heads_over_the_limit)
{
    char *req = malloc(HTTP_HEAD_MAX_BYTES + 200);
    strcpy(req, "GET /echo HTTP/1.1\r\nX-Big: ");
    size_t n = strlen(req);
    memset(req + n, 'x', HTTP_HEAD_MAX_BYTES);
    strcpy(req + n + HTTP_HEAD_MAX_BYTES, "\r\n\r\n");
    refused(req, 431);
}

TEST(refuses_too_many_header_lines)
{
    char req[8192] = "GET /echo HTTP/1.1\r\n";
    for (int i = 0; i <= HTTP_HEADERS_MAX; i++)
        sprintf(req + strlen(req), "X-%d: y\r\n", i);
    strcat(req, "\r\n");
    refused(req, 431);
}

TEST(a_body_over_the_limit_is_not_read)
{
    start(8, 5, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, "POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\nxxxx") == 0);
    CHECK(response(fd, buf, sizeof buf) == 413);
    CHECK(closed_within(fd, 3000));
    fd = dial(); /* chunked: noticed as the body grows */
    CHECK(say(fd, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 0);
    char chunk[600]; /* 512 bytes: two of them pass the 1000-byte limit */
    int n = sprintf(chunk, "200\r\n");
    memset(chunk + n, 'y', 0x200);
    strcpy(chunk + n + 0x200, "\r\n");
    CHECK(say(fd, chunk) == 0 && say(fd, chunk) == 0);
    CHECK(response(fd, buf, sizeof buf) == 413);
}

TEST(answers_expect_100_continue)
{
    start(8, 5, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n") == 0);
    ssize_t n = recv(fd, buf, 25, MSG_WAITALL);
    CHECK(n == 25 && !strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25));
    CHECK(say(fd, "abc") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200 && strstr(buf, "body=3:abc"));
}

TEST(head_answers_carry_no_body)
{
    start(8, 5, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, "HEAD /echo HTTP/1.1\r\n\r\nGET /echo?a=next HTTP/1.1\r\n\r\n") == 0);
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    CHECK(n > 0);
    buf[n] = '\0';
    /* The HEAD answer ends at its blank line; what follows is the next answer. */
    char *end = strstr(buf, "\r\n\r\n");
    CHECK(end);
    if (end[4] == '\0') {
        CHECK(response(fd, buf, sizeof buf) == 200);
        CHECK(strstr(buf, "a=next"));
    } else {
        CHECK(!strncmp(end + 4, "HTTP/1.1 200", 12));
    }
}

/* The listener never dies: a flood of clients that send a byte and stall
 * fills every slot, yet a new client is served at once (it evicts the oldest
 * stalled one), and after the stalled ones time out every slot is free. */
TEST(a_stalled_flood_neither_blocks_nor_kills_the_listener)
{
    start(4, 1, 1, 1);
    int flood[4];
    for (int i = 0; i < 4; i++) {
        flood[i] = dial();
        CHECK(flood[i] >= 0 && say(flood[i], "G") == 0);
    }
    usleep(100000);
    char buf[4096];
    double t0 = now_s();
    int fd = dial();
    CHECK(say(fd, "GET /echo?a=health HTTP/1.1\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200);
    CHECK_MSG(now_s() - t0 < 0.5, "took %.2f s", now_s() - t0);
    CHECK(closed_within(flood[0], 100)); /* the oldest stalled client was evicted */
    close(fd);
    for (int round = 0; round < 3; round++) { /* the timeouts close the others, again and again */
        for (int i = 0; i < 4; i++) {
            flood[i] = dial();
            say(flood[i], "G");
        }
        for (int i = 0; i < 4; i++)
            CHECK(closed_within(flood[i], 2500));
        CHECK(http_connection_count(srv) == 0 || round < 2);
    }
    fd = dial();
    CHECK(say(fd, "GET /echo HTTP/1.1\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200);
}

/* Slots held by requests the handler has are never evicted; a new client
 * waits, and is accepted the moment one of them closes. */
TEST(accepting_resumes_when_a_busy_slot_frees)
{
    start(2, 5, 5, 5);
    int a = dial(), b = dial();
    CHECK(say(a, "GET /hold HTTP/1.1\r\nConnection: close\r\n\r\n") == 0);
    CHECK(say(b, "GET /hold HTTP/1.1\r\nConnection: close\r\n\r\n") == 0);
    usleep(50000);
    int c = dial(); /* in the kernel's backlog */
    CHECK(c >= 0 && say(c, "GET /echo?a=late HTTP/1.1\r\n\r\n") == 0);
    char buf[4096];
    CHECK(response(a, buf, sizeof buf) == 200 && strstr(buf, "held"));
    CHECK(response(b, buf, sizeof buf) == 200);
    CHECK(response(c, buf, sizeof buf) == 200 && strstr(buf, "a=late"));
}

TEST(slow_headers_meet_their_deadline)
{
    start(8, 30, 1, 30);
    int fd = dial();
    double t0 = now_s();
    CHECK(say(fd, "GET /echo HTTP/1.1\r\n") == 0);
    bool cut = false;
    for (int i = 0; i < 12 && !cut; i++) { /* one header line every 250 ms */
        usleep(250000);
        cut = say(fd, "X-Slow: y\r\n") != 0 || closed_within(fd, 1);
    }
    if (!cut)
        cut = closed_within(fd, 1000);
    CHECK_MSG(cut, "still open after %.1f s", now_s() - t0);
    CHECK_MSG(now_s() - t0 < 2.0, "cut after %.1f s", now_s() - t0);
    CHECK(__atomic_load_n(&calls, __ATOMIC_SEQ_CST) == 0);
}

TEST(slow_bodies_meet_their_deadline)
{
    start(8, 30, 30, 1);
    int fd = dial();
    double t0 = now_s();
    CHECK(say(fd, "POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc") == 0);
    bool cut = false;
    for (int i = 0; i < 12 && !cut; i++) {
        usleep(250000);
        cut = say(fd, "x") != 0 || closed_within(fd, 1);
    }
    CHECK_MSG(cut, "still open after %.1f s", now_s() - t0);
    CHECK(now_s() - t0 < 2.0);
}

TEST(idle_kept_alive_connections_are_closed)
{
    start(8, 1, 5, 5);
    int fd = dial();
    char buf[4096];
    CHECK(say(fd, "GET /echo HTTP/1.1\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200);
    CHECK(closed_within(fd, 2500));
}

TEST(a_client_leaving_a_held_request_is_harmless)
{
    start(8, 5, 5, 5);
    int fd = dial();
    CHECK(say(fd, "GET /hold HTTP/1.1\r\n\r\n") == 0);
    usleep(50000);
    close(fd);
    usleep(500000); /* the answer comes after the client left */
    fd = dial();
    char buf[4096];
    CHECK(say(fd, "GET /echo HTTP/1.1\r\n\r\n") == 0);
    CHECK(response(fd, buf, sizeof buf) == 200);
    CHECK(http_connection_count(srv) == 1);
}

TEST_MAIN(T(keeps_alive_and_decodes_the_target), T(answers_pipelined_requests_in_order),
          T(answers_from_another_thread), T(refuses_two_content_lengths),
          T(refuses_content_length_with_transfer_encoding),
          T(refuses_transfer_encoding_with_content_length_after),
          T(refuses_an_unknown_transfer_coding), T(refuses_two_authorization_headers),
          T(refuses_a_nul_in_the_target), T(refuses_a_bad_escape_and_a_relative_target),
          T(refuses_a_malformed_request_line), T(refuses_heads_over_the_limit),
          T(refuses_too_many_header_lines), T(a_body_over_the_limit_is_not_read),
          T(answers_expect_100_continue), T(head_answers_carry_no_body),
          T(a_stalled_flood_neither_blocks_nor_kills_the_listener),
          T(accepting_resumes_when_a_busy_slot_frees), T(slow_headers_meet_their_deadline),
          T(slow_bodies_meet_their_deadline), T(idle_kept_alive_connections_are_closed),
          T(a_client_leaving_a_held_request_is_harmless))
