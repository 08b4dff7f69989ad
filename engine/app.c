/* engine/app.c: the group-commit queue. */
#include "app.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "core.h"
#include "log.h"
#include "metrics.h"

int64_t app_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void app_iso_time(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void app_today(char *buf)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, 16, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void app_write_queue(struct app *app, struct app_write *w)
{
    w->app = app;
    w->next = NULL;
    if (app->queue_tail)
        app->queue_tail->next = w;
    else
        app->queue_head = w;
    app->queue_tail = w;
    app->queued++;
    http_defer(w->req);
}

struct done {
    struct app_write *w;
    char *body; /* owned until answered */
    int status;
    struct err_detail why;
};

/* A committed batch waiting for its fsync (--sync full) before its answers. */
struct batch {
    struct app *app;
    struct app_write *list; /* owned */
    struct done *done;      /* owned, n entries */
    size_t n;
    uint64_t started_ns;
    struct batch *next; /* in a sync's list */
};

/* One fsync of the WAL, covering every batch committed before it started.
 * Only one runs at a time: the batches committed meanwhile wait for the next,
 * so under load one fsync serves many batches. */
struct sync {
    struct app *app;
    int fd;
    int sync_errno;
    struct batch *batches; /* owned */
};

/* Answer every op of a batch: the commit's failure (rc, why) overrides the
 * op's own result. Frees the batch's ops. */
static void answer(struct app *app, struct batch *b, int rc, const struct err_detail *why)
{
    for (size_t i = 0; i < b->n; i++) {
        struct done *d = &b->done[i];
        struct app_write *w = d->w;
        if (rc && !d->why.code) {
            free(d->body);
            d->body = NULL;
            d->why = *why;
        }
        if (w->again && !rc && !d->why.code)
            continue; /* goes on in the next batch */
        w->again = false;
        if (d->why.code && d->body) {
            http_set_error(w->req, err_api_code(d->why.code), d->why.msg);
            http_respond(w->req, d->status, "application/json", d->body, strlen(d->body));
        } else if (d->why.code) {
            api_error(w->req, &d->why);
        } else {
            http_respond(w->req, d->status, "application/json", d->body, strlen(d->body));
        }
    }
    uint64_t dt = http_now_ns() - b->started_ns;
    app->counters.commit_ns_total += dt;
    if (dt > app->counters.commit_ns_max)
        app->counters.commit_ns_max = dt;
    metrics_observe(METRICS_COMMIT_DURATION, NULL, dt);
    if (rc) {
        app->counters.commit_failures++;
        log_error("commit of %zu writes failed: %s", b->n, why->msg);
    } else {
        metrics_count(METRICS_COMMIT_WRITES, NULL, NULL, b->n);
    }
    for (struct app_write *w = b->list, *next; w; w = next) {
        next = w->next;
        if (w->again) {
            w->again = false;
            app_write_queue(app, w); /* the core's next turn runs it at once */
            continue;
        }
        json_decref(w->input);
        json_decref(w->shadow);
        if (w->ctx_free)
            w->ctx_free(w->ctx);
        free(w);
    }
    free(b->done);
    free(b);
}

static void sync_start(struct app *app);

/* On the core's second thread: the fsync. */
static void sync_work(void *arg)
{
    struct sync *s = arg;
    s->sync_errno = fsync(s->fd) ? errno : 0;
}

/* Back on the core thread: answer the batches it made durable, start the
 * next. */
static void sync_done(void *arg)
{
    struct sync *s = arg;
    struct app *app = s->app;
    app->syncs_in_flight--;
    struct err_detail why = {0};
    int rc = 0;
    int e = s->sync_errno;
    store_sync_done(app->st, e);
    /* The batches are committed but maybe not durable: say so, since a
     * retry could record them twice. */
    if (e)
        rc = err_set(&why, -ERR_STORE, "the commit may not be durable: fsync of the WAL failed: %s",
                     strerror(e));
    for (struct batch *b = s->batches, *next; b; b = next) {
        next = b->next;
        answer(app, b, rc, &why);
    }
    free(s);
    sync_start(app);
}

/* Start an fsync for the batches waiting, unless one is running. */
static void sync_start(struct app *app)
{
    if (app->syncs_in_flight || !app->unsynced)
        return;
    struct sync *s = calloc(1, sizeof *s);
    if (!s) {
        log_error("sync: out of memory");
        abort();
    }
    s->app = app;
    s->fd = store_sync_fd(app->st);
    s->batches = app->unsynced;
    app->unsynced = NULL;
    app->syncs_in_flight++;
    if (s->fd >= 0) {
        core_offload(app->core, sync_work, sync_done, s);
        return;
    }
    s->sync_errno = EBADF;
    sync_done(s);
}

/* The answer to every request of a batch that did not commit: nothing of
 * it was recorded (the transaction is rolled back), so a retry is safe. */
static void not_recorded(struct err_detail *why)
{
    if (why->code == -ERR_STORE_BUSY)
        return;
    char msg[ERR_DETAIL_MAX - 64];
    snprintf(msg, sizeof msg, "%s", why->msg);
    err_set(why, -ERR_UNAVAILABLE, "not recorded: the commit failed (%s); retry later", msg);
}

void app_flush(void *arg)
{
    struct app *app = arg;
    if (!app->queue_head)
        return;
    struct batch *b = calloc(1, sizeof *b);
    if (!b || !(b->done = calloc(app->queued, sizeof *b->done))) {
        log_error("flush: out of memory");
        abort();
    }
    b->app = app;
    b->list = app->queue_head;
    b->n = app->queued;
    b->started_ns = http_now_ns();
    app->queue_head = app->queue_tail = NULL;
    app->queued = 0;

    struct err_detail why = {0};
    int rc = store_begin(app->st, &why);
    size_t i = 0;
    for (struct app_write *w = b->list; w; w = w->next, i++) {
        struct done *d = &b->done[i];
        d->w = w;
        if (rc)
            continue; /* answered with the batch's failure */
        /* An op that lost a race for a row (another node moved an instance
         * on since it read it) is undone and done once more on what is
         * stored now. */
        int orc;
        for (int attempt = 0;; attempt++) {
            orc = store_savepoint(app->st, &d->why);
            if (!orc)
                orc = w->apply(w, &d->body, &d->status, &d->why);
            if (orc != -ERR_RACE || attempt == 1 || !store_in_transaction(app->st))
                break;
            store_rollback_to(app->st);
            free(d->body);
            d->body = NULL;
            d->status = 0;
            err_clear(&d->why);
            app->counters.races++;
        }
        if (!orc) {
            store_release(app->st);
            continue;
        }
        /* A rule that fails here (reevaluate, process actions, stage hooks)
         * is a runtime error of its owner, as on the handlers' paths. */
        rules_runtime_error(app->rules, &d->why, http_request_id(w->req), w->actor);
        d->why.code = orc;
        if (!d->body || d->status < 400) { /* else: the op's own error envelope */
            free(d->body);
            d->body = NULL;
        }
        if (store_in_transaction(app->st)) {
            store_rollback_to(app->st);
            continue;
        }
        /* SQLite rolled the whole transaction back (a full disk or an I/O
         * error inside a statement): the ops before this one are gone too,
         * and the ones after must not run outside the batch. */
        rc = orc;
        why = d->why;
        err_clear(&d->why);
    }
    if (!rc)
        rc = store_commit_deferred(app->st, &why);
    if (rc)
        not_recorded(&why);
    app->counters.commits++;
    app->counters.batched_writes += b->n;
    /* Group commit: the loop goes on serving while a worker fsyncs; the batch
     * is answered once its writes are durable. */
    if (!rc && store_sync_fd(app->st) >= 0) {
        struct batch **tail = &app->unsynced;
        while (*tail)
            tail = &(*tail)->next;
        *tail = b;
        sync_start(app);
        return;
    }
    answer(app, b, rc, &why);
}

/* While the store is degraded, a probe commit a tick tells when the disk
 * takes writes again, so /health recovers with no client writing (a load
 * balancer that drops a degraded node would otherwise never send one). */
static void probe(void *arg)
{
    struct app *app = arg;
    int64_t since = 0;
    const char *reason = store_degraded(app->st, &since);
    if (reason && !app->degraded_logged) {
        log_error("storage degraded: %s; writes answer 503 until a commit succeeds", reason);
        app->degraded_logged = true;
    }
    if (!app->stopping && !store_in_transaction(app->st)) {
        struct err_detail why = {0};
        if (reason && store_probe(app->st, &why) == 0)
            reason = NULL;
        else if (!reason && store_ping(app->st, &why))
            return; /* degraded from now: logged at the next tick */
    }
    if (!reason && app->degraded_logged) {
        log_info("storage: commits succeed again after %.1f s",
                 (double)(app_now_ms() - since) / 1000.0);
        app->degraded_logged = false;
    }
}

static void on_probe(uv_timer_t *t)
{
    struct app *app = t->data;
    core_call(app->core, probe, app);
}

void app_health_init(struct app *app)
{
    uv_mutex_init(&app->health.lock);
    app->health.schema = store_schema_version(app->st);
    app_health_publish(app);
}

void app_health_publish(struct app *app)
{
    int64_t since = 0;
    const char *reason = store_degraded(app->st, &since);
    struct app_health *h = &app->health;
    uv_mutex_lock(&h->lock);
    h->degraded = reason != NULL;
    h->since_ms = since;
    snprintf(h->reason, sizeof h->reason, "%s", reason && *reason ? reason : "storage failure");
    uv_mutex_unlock(&h->lock);
}

void app_health_read(struct app *app, struct app_health *out)
{
    uv_mutex_lock(&app->health.lock);
    out->degraded = app->health.degraded;
    out->since_ms = app->health.since_ms;
    out->schema = app->health.schema;
    memcpy(out->reason, app->health.reason, sizeof out->reason);
    uv_mutex_unlock(&app->health.lock);
}

void app_probe_start(struct app *app)
{
    uv_timer_init(app->loop, &app->probe);
    app->probe.data = app;
    uv_timer_start(&app->probe, on_probe, APP_PROBE_MS, APP_PROBE_MS);
}

/* Defined when jemalloc is linked in, NULL otherwise. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

void app_release_memory(void)
{
    if (mallctl)
        mallctl("arena.4096.purge", NULL, NULL, NULL, 0); /* 4096: MALLCTL_ARENAS_ALL */
    else
        malloc_trim(0);
}
