/* engine/app.h
 *
 * The daemon's state, shared by the API handlers: configuration, store, rules,
 * principals, the HTTP server, and the group-commit queue. One per process,
 * owned by main.c; everything here runs on the core thread (core.h), where
 * the handlers run, but for main's start-up and shutdown.
 *
 * Group commit: a handler that writes queues an op (app_write) and defers its
 * request. At the end of each of the core's turns (the requests that arrived
 * meanwhile), app_flush runs every queued op in one transaction, each inside
 * its own savepoint (a refused op leaves nothing), and commits once. With
 * --sync full the core's second thread then fsyncs the WAL while the core
 * goes on (and commits later batches); each request is answered only once
 * its batch is durable.
 *
 * A batch that does not commit (full disk, I/O error) is rolled back whole:
 * each of its requests gets 503 "not recorded", instance ids are given back,
 * and the store reports degraded (GET /health 503) until a commit succeeds;
 * a probe commit every APP_PROBE_MS finds out when the disk has room again.
 */
#ifndef ENGINE_APP_H
#define ENGINE_APP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "auth.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "rules.h"
#include "store.h"

struct app_write;

/* Runs inside the batch transaction and its own savepoint. Returns 0 and sets
 * *body (malloc'd JSON text of the response, handed over) and *status, or an
 * error (and leaves *body NULL, or sets it to a whole error envelope with a
 * *status >= 400 when the error needs more details than why holds: an
 * all-or-nothing batch listing every refused item). */
typedef int app_apply_cb(struct app_write *w, char **body, int *status, struct err_detail *why);

struct app_write {
    struct app *app;
    struct http_req *req; /* deferred until the commit */
    app_apply_cb *apply;
    json_t *input;       /* owned: what the handler prepared */
    int64_t instance_id; /* the instance the op is about, or 0 */
    char actor[AUTH_UNIT_MAX + 16];
    const struct auth_principal *principal; /* borrowed from app->auth */
    json_t *shadow; /* owned: shadow results to record with the write, or NULL */
    /* Set by apply (which then returns 0 and leaves *body NULL): this op did
     * one part of its work and goes on in a later batch once this one is
     * committed, so a large write never holds the loop for long. Its input
     * carries its progress; the request is answered by its last part, or
     * with the failure of any part's batch. */
    bool again;
    void *ctx;                   /* owned: the op's own state, or NULL */
    void (*ctx_free)(void *ctx); /* frees ctx when the op is done */
    struct app_write *next;
};

struct batch;

struct app_counters {
    uint64_t requests, commits, batched_writes, commit_failures;
    uint64_t races; /* ops done again after losing a race for a row (app_flush) */
    uint64_t commit_ns_total, commit_ns_max;
};

/* What /health answers (api_health): published by the core thread at the end
 * of each of its turns (app_health_publish) and read on the loop thread
 * (app_health_read), so that /health never waits behind the core's work. On
 * PostgreSQL each batch waits for the server, and a /health queued behind
 * 64 connections of creates waited with it (p99 236 ms). */
struct app_health {
    uv_mutex_t lock;
    bool degraded;
    int64_t since_ms;
    int schema; /* the store's schema version, read at open */
    char reason[ERR_DETAIL_MAX];
};

struct app {
    const struct config *cfg; /* borrowed from main */
    uv_loop_t *loop;
    struct store *st;         /* owned by main */
    struct rules *rules;      /* owned by main */
    struct auth_set *auth;    /* owned by main */
    struct http_server *http; /* owned by main */
    struct jobs *jobs;        /* owned by main: simulations and allocation runs (job.h) */
    struct core *core;        /* owned by main: the thread everything here runs on (core.h) */
    atomic_bool stopping;     /* set by the loop at SIGTERM, read by the core */
    struct app_write *queue_head, *queue_tail; /* owned ops waiting for the flush */
    size_t queued;
    unsigned syncs_in_flight; /* fsyncs running (at most one) */
    struct batch *unsynced;   /* owned: committed batches waiting for the next fsync */
    struct app_counters counters;
    uv_timer_t probe;     /* app_probe_start; closed by main with the other handles */
    bool degraded_logged; /* the current degraded spell was logged */
    struct app_health health;
};

/* app_health_init: once, after app->st is open and before the core starts.
 * app_health_publish: the core thread, at the end of each turn (and after
 * the store's state may have changed). app_health_read: any thread, a copy. */
void app_health_init(struct app *app);
void app_health_publish(struct app *app);
void app_health_read(struct app *app, struct app_health *out);

#define APP_PROBE_MS 1000 /* while degraded, one probe commit this often */

/* The HTTP handler (http_config.handler, loop thread): hands the request to
 * the core thread, which runs it with api_dispatch. */
void api_handle(struct http_req *req, void *app);
void api_dispatch(struct app *app, struct http_req *req);
/* Commit the queued writes: at the end of each of the core's turns. */
void app_flush(void *app);

/* Start the timer that logs the store's degraded spells and probes whether
 * commits work again (see above). Call once, after app->loop and app->st. */
void app_probe_start(struct app *app);

/* Queue a write op (ownership passes to the queue) and defer its request;
 * on the core thread (handlers, and jobs' results, which run there). */
void app_write_queue(struct app *app, struct app_write *w);

/* Give the scratch memory of a large request (a simulation, an allocation
 * run) back to the system: jemalloc's purge when it is the allocator (see the
 * Makefile's MALLOC), glibc's malloc_trim otherwise. */
void app_release_memory(void);

/* Wall-clock milliseconds since the epoch. */
int64_t app_now_ms(void);

/* Today's UTC date, "2026-11-27", into buf (>= 16 bytes). */
void app_today(char *buf);

/* "2026-11-27T03:04:05.678Z" for ms since the epoch, into buf (>= 32 bytes). */
void app_iso_time(int64_t ms, char *buf, size_t n);

#endif
