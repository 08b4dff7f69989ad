/* engine/nodes.c: the listener of nodes.h. */
#include "nodes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "core.h"
#include "db.h"
#include "log.h"
#include "rules.h"
#include "store.h"

struct nodes {
    struct app *app;
    char *uri;
    pthread_t thread;
    atomic_bool stop;
};

/* Core thread: what the other nodes activated, taken in. */
static void follow(void *arg)
{
    struct app *app = arg;
    struct err_detail why = {0};
    int loaded = 0;
    if (rules_follow_store(app->rules, &loaded, &why))
        log_warn("nodes: activations of other nodes not taken in: %s", why.msg);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A listening connection, or NULL (logged once until one succeeds). */
static struct db *listen_on(struct nodes *n, bool *warned)
{
    struct db *db = NULL;
    struct err_detail why = {0};
    if (!db_open(n->uri, true, &db, &why) && !db_exec(db, "LISTEN " STORE_RULES_CHANNEL)) {
        if (*warned)
            log_info("nodes: listening for activations again");
        *warned = false;
        return db;
    }
    if (!*warned)
        log_warn("nodes: cannot listen for activations of other nodes (retrying every %d ms): %s",
                 NODES_RETRY_MS, db ? db_message(db) : why.msg);
    *warned = true;
    db_close(db);
    return NULL;
}

static void *run(void *arg)
{
    struct nodes *n = arg;
    struct db *db = NULL;
    bool warned = false;
    while (!atomic_load(&n->stop)) {
        if (!db) {
            if (!(db = listen_on(n, &warned))) {
                for (int t = 0; t < NODES_RETRY_MS && !atomic_load(&n->stop); t += NODES_WAIT_MS)
                    sleep_ms(NODES_WAIT_MS);
                continue;
            }
            core_call(n->app->core, follow, n->app); /* what came while none listened */
        }
        int told = db_wait_notified(db, NODES_WAIT_MS);
        if (told > 0)
            core_call(n->app->core, follow, n->app);
        else if (told < 0) {
            log_warn("nodes: the listening connection was lost: %s", db_message(db));
            warned = true;
            db_close(db);
            db = NULL;
        }
    }
    db_close(db);
    return NULL;
}

int nodes_start(struct app *app, const char *uri, struct nodes **out, struct err_detail *why)
{
    struct nodes *n = calloc(1, sizeof *n);
    if (!n || !(n->uri = strdup(uri))) {
        free(n);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    n->app = app;
    if (pthread_create(&n->thread, NULL, run, n)) {
        free(n->uri);
        free(n);
        return err_set(why, -ERR_INTERNAL, "nodes: cannot start the listening thread");
    }
    *out = n;
    return 0;
}

void nodes_stop(struct nodes *n)
{
    if (!n)
        return;
    atomic_store(&n->stop, true);
    pthread_join(n->thread, NULL);
    free(n->uri);
    free(n);
}
