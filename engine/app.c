/* engine/app.c: the group-commit queue. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
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

void app_flush(void *arg)
{
    struct app *app = arg;
    if (!app->queue_head)
        return;
    struct app_write *list = app->queue_head;
    size_t n = app->queued;
    app->queue_head = app->queue_tail = NULL;
    app->queued = 0;

    struct done *done = calloc(n, sizeof *done);
    if (!done) {
        log_error("flush: out of memory");
        abort();
    }
    uint64_t t0 = http_now_ns();
    struct err_detail why = {0};
    int rc = store_begin(app->st, &why);
    size_t i = 0;
    for (struct app_write *w = list; w; w = w->next, i++) {
        done[i].w = w;
        if (rc) {
            done[i].why = why;
            continue;
        }
        int orc = store_savepoint(app->st, &done[i].why);
        if (!orc)
            orc = w->apply(w, &done[i].body, &done[i].status, &done[i].why);
        if (orc) {
            done[i].why.code = orc;
            free(done[i].body);
            done[i].body = NULL;
            store_rollback_to(app->st);
        } else {
            store_release(app->st);
        }
    }
    if (!rc)
        rc = store_commit(app->st, &why);
    uint64_t dt = http_now_ns() - t0;
    app->counters.commits++;
    app->counters.batched_writes += n;
    app->counters.commit_ns_total += dt;
    if (dt > app->counters.commit_ns_max)
        app->counters.commit_ns_max = dt;
    metrics_observe(METRICS_COMMIT_DURATION, NULL, dt);
    if (!rc)
        metrics_count(METRICS_COMMIT_WRITES, NULL, NULL, n);
    if (rc) {
        app->counters.commit_failures++;
        log_error("commit of %zu writes failed: %s", n, why.msg);
    }
    for (i = 0; i < n; i++) {
        struct app_write *w = done[i].w;
        if (rc && !done[i].why.code) {
            free(done[i].body);
            done[i].body = NULL;
            done[i].why = why;
        }
        if (done[i].why.code) {
            api_error(w->req, &done[i].why);
        } else {
            /* One line per recorded event. */
            log_msg(LOG_INFO, http_request_id(w->req), "%s %s by %s: %d", http_method(w->req),
                    http_path(w->req), w->actor, done[i].status);
            http_respond(w->req, done[i].status, "application/json", done[i].body,
                         strlen(done[i].body));
        }
    }
    for (struct app_write *w = list, *next; w; w = next) {
        next = w->next;
        json_decref(w->input);
        free(w);
    }
    free(done);
}
