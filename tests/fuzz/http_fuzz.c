/* tests/fuzz/http_fuzz.c: the HTTP server's request path, bytes in over a
 * real loopback socket: framing, header collection, target decoding,
 * pipelining, limits. The handler reads every accessor so that whatever
 * the server hands over is touched; the server must answer or close, never
 * crash, leak or hang. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

static uv_loop_t loop;
static struct http_server *srv;
static int port;

static void handler(struct http_req *req, void *ctx)
{
    (void)ctx;
    size_t len = 0, sum = strlen(http_method(req)) + strlen(http_path(req));
    const char *body = http_body(req, &len);
    for (size_t i = 0; i < len; i++)
        sum += (unsigned char)body[i];
    const char *h = http_header(req, "authorization");
    const char *q = http_query(req, "limit");
    sum += (h ? strlen(h) : 0) + (q ? strlen(q) : 0) + http_body_too_large(req);
    char *out = malloc(32);
    int n = snprintf(out, 32, "%zu", sum);
    http_respond(req, 200, "text/plain", out, (size_t)n);
}

static void setup(void)
{
    uv_loop_init(&loop);
    struct http_config cfg = {.host = "127.0.0.1",
                              .body_max_bytes = 4096,
                              .idle_timeout_s = 5,
                              .max_connections = 8,
                              .handler = handler};
    struct err_detail why = {0};
    if (http_start(&loop, &cfg, &srv, &why))
        abort();
    port = http_port(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        setup();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, (struct sockaddr *)&a, sizeof a); /* EINPROGRESS; completes as the loop runs */
    size_t sent = 0;
    bool shut = false, eof = false;
    char buf[65536];
    /* A wall-clock bound, not a number of turns: on a loaded machine a
     * connect can wait a SYN retransmit (1 s) when the port pair is still
     * in TIME_WAIT from an earlier input; libFuzzer's -timeout is 10 s. */
    uint64_t deadline = http_now_ns() + 5000000000ull;
    while (!eof && http_now_ns() < deadline) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        } else if (!shut) {
            shut = shutdown(fd, SHUT_WR) == 0; /* ENOTCONN until the connect completes */
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN))
            eof = true;
    }
    close(fd);
    for (int i = 0; i < 100 && http_connection_count(srv); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    if (!eof) { /* the server neither answered to the end nor closed */
        fprintf(stderr, "http_fuzz: no end after 5 s: sent %zu of %zu, %s, %u connections\n", sent,
                size, shut ? "shut down" : "still sending", http_connection_count(srv));
        abort();
    }
    return 0;
}
