/* engine/core.c: the core thread (core.h): a queue of requests and calls,
 * drained in turns, each turn ending with the group commit of its writes. */
#include "core.h"

#include <stdlib.h>
#include <uv.h>

#include "app.h"
#include "log.h"

/* A request to run, or a call. */
struct item {
    struct http_req *req; /* NULL for a call */
    core_fn *fn, *done;
    void *arg;
    bool offloaded; /* the done of a core_offload */
    struct item *next;
};

/* The core's second thread: one piece of work at a time (an fsync). */
struct offload {
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    struct item *head, *tail;
    bool quit;
};

struct core {
    struct app *app;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    struct item *head, *tail; /* waiting */
    unsigned running;         /* items taken, not finished (0 or the turn's count) */
    unsigned offloaded;       /* given to the second thread, not done */
    bool writes;              /* writes that go on in the next turn (app_write.again) */
    bool quit;
    struct offload off;
};

static void push(struct core *c, struct item *it)
{
    uv_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = it;
    else
        c->head = it;
    c->tail = it;
    uv_cond_signal(&c->wake);
    uv_mutex_unlock(&c->lock);
}

static struct item *item_new(struct http_req *req, core_fn *fn, core_fn *done, void *arg)
{
    struct item *it = calloc(1, sizeof *it);
    if (!it) {
        log_error("core: out of memory");
        abort(); /* a request or a call lost would never be answered */
    }
    *it = (struct item){req, fn, done, arg, false, NULL};
    return it;
}

void core_submit(struct core *c, struct http_req *req)
{
    push(c, item_new(req, NULL, NULL, NULL));
}

void core_call(struct core *c, core_fn *fn, void *arg)
{
    push(c, item_new(NULL, fn, NULL, arg));
}

/* The second thread: work, then its done back on the core thread. */
static void offload_main(void *arg)
{
    struct core *c = arg;
    struct offload *o = &c->off;
    for (;;) {
        uv_mutex_lock(&o->lock);
        while (!o->head && !o->quit)
            uv_cond_wait(&o->wake, &o->lock);
        struct item *it = o->head;
        if (it) {
            o->head = it->next;
            if (!o->head)
                o->tail = NULL;
        }
        uv_mutex_unlock(&o->lock);
        if (!it)
            return; /* quit, with nothing left */
        it->fn(it->arg);
        it->fn = it->done;
        it->done = NULL;
        it->offloaded = true;
        it->next = NULL;
        push(c, it);
    }
}

void core_offload(struct core *c, core_fn *work, core_fn *done, void *arg)
{
    struct item *it = item_new(NULL, work, done, arg);
    struct offload *o = &c->off;
    uv_mutex_lock(&c->lock);
    c->offloaded++;
    uv_mutex_unlock(&c->lock);
    uv_mutex_lock(&o->lock);
    if (o->tail)
        o->tail->next = it;
    else
        o->head = it;
    o->tail = it;
    uv_cond_signal(&o->wake);
    uv_mutex_unlock(&o->lock);
}

static void core_main(void *arg)
{
    struct core *c = arg;
    struct app *app = c->app;
    for (;;) {
        uv_mutex_lock(&c->lock);
        /* Writes that go on in the next batch (app_write.again) need no wake-up. */
        while (!c->head && !c->writes && (!c->quit || c->offloaded))
            uv_cond_wait(&c->wake, &c->lock);
        struct item *list = c->head;
        c->head = c->tail = NULL;
        unsigned n = 0;
        for (struct item *it = list; it; it = it->next)
            n++;
        c->running = n ? n : c->writes;
        bool quit = c->quit && !list && !c->writes && !c->offloaded;
        uv_mutex_unlock(&c->lock);
        if (quit)
            return;
        unsigned offloads_done = 0;
        for (struct item *it = list, *next; it; it = next) {
            next = it->next;
            if (it->req)
                api_dispatch(app, it->req);
            else
                it->fn(it->arg);
            offloads_done += it->offloaded;
            free(it);
        }
        app_flush(app);
        app_health_publish(app);
        uv_mutex_lock(&c->lock);
        c->writes = app->queue_head != NULL;
        c->running = 0;
        c->offloaded -= offloads_done;
        uv_mutex_unlock(&c->lock);
    }
}

int core_start(struct app *app, struct core **out, struct err_detail *why)
{
    struct core *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(why, -ERR_NOMEM, "out of memory");
    c->app = app;
    uv_mutex_init(&c->lock);
    uv_cond_init(&c->wake);
    uv_mutex_init(&c->off.lock);
    uv_cond_init(&c->off.wake);
    if (uv_thread_create(&c->off.thread, offload_main, c)) {
        free(c);
        return err_set(why, -ERR_INTERNAL, "cannot start the core's second thread");
    }
    if (uv_thread_create(&c->thread, core_main, c)) {
        uv_mutex_lock(&c->off.lock);
        c->off.quit = true;
        uv_cond_signal(&c->off.wake);
        uv_mutex_unlock(&c->off.lock);
        uv_thread_join(&c->off.thread);
        free(c);
        return err_set(why, -ERR_INTERNAL, "cannot start the core thread");
    }
    *out = c;
    return 0;
}

void core_stop(struct core *c)
{
    if (!c)
        return;
    uv_mutex_lock(&c->lock);
    c->quit = true;
    uv_cond_signal(&c->wake);
    uv_mutex_unlock(&c->lock);
    uv_thread_join(&c->thread);
    uv_mutex_lock(&c->off.lock);
    c->off.quit = true;
    uv_cond_signal(&c->off.wake);
    uv_mutex_unlock(&c->off.lock);
    uv_thread_join(&c->off.thread);
    uv_cond_destroy(&c->wake);
    uv_mutex_destroy(&c->lock);
    uv_cond_destroy(&c->off.wake);
    uv_mutex_destroy(&c->off.lock);
    free(c);
}

bool core_idle(struct core *c)
{
    uv_mutex_lock(&c->lock);
    bool idle = !c->head && !c->running && !c->offloaded && !c->writes;
    uv_mutex_unlock(&c->lock);
    return idle;
}
