/* engine/job.c: long reads on libuv's pool threads (see job.h). */
#include <stdlib.h>
#include <string.h>

#include "job.h"

#include "core.h"

struct job {
    uv_work_t work; /* first: the pool's request */
    struct jobs *jobs;
    struct rules_snapshot *snap; /* owned */
    job_work_fn *fn;
    job_done_fn *done;
    void *ctx;
    int rc;
    struct err_detail why;
    struct job *next; /* waiting list */
};

struct jobs {
    uv_loop_t *loop;
    char *db_path;   /* owned */
    uv_mutex_t lock; /* the counts and the waiting list: submitted on the core thread */
    unsigned running, waiting;
    struct job *head, *tail; /* waiting, oldest first */
    bool stopped;
    struct core *core; /* jobs_attach: submits come from it, results go to it */
    uv_async_t kick;   /* with a core: start_next on the loop */
};

int jobs_open(uv_loop_t *loop, const char *db_path, struct jobs **out, struct err_detail *why)
{
    struct jobs *j = calloc(1, sizeof *j);
    if (!j || !(j->db_path = strdup(db_path))) {
        free(j);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    j->loop = loop;
    uv_mutex_init(&j->lock);
    *out = j;
    return 0;
}

void jobs_close(struct jobs *j)
{
    if (!j)
        return;
    uv_mutex_destroy(&j->lock);
    free(j->db_path);
    free(j);
}

unsigned jobs_in_flight(struct jobs *j)
{
    uv_mutex_lock(&j->lock);
    unsigned n = j->running + j->waiting;
    uv_mutex_unlock(&j->lock);
    return n;
}

/* The pool thread: the job's own reader, snapshot and rules, then its work. */
static void run(uv_work_t *w)
{
    struct job *job = (struct job *)w;
    struct store *st = NULL;
    struct rules *r = NULL;
    int rc = store_open_reader(job->jobs->db_path, &st, &job->why);
    if (!rc)
        rc = store_snapshot_begin(st, &job->why);
    if (!rc)
        rc = rules_snapshot_open(job->snap, st, &r, &job->why);
    if (!rc) {
        struct job_env env = {.st = st, .rules = r, .job = job};
        rc = job->fn(&env, job->ctx, &job->why);
    }
    rules_close(r);
    if (st)
        store_rollback(st);
    store_close(st);
    job->rc = rc;
}

int job_rules_copy(const struct job_env *env, struct store **st, struct rules **r,
                   struct err_detail *why)
{
    *st = NULL;
    *r = NULL;
    int rc = store_open_reader(env->job->jobs->db_path, st, why);
    if (!rc)
        rc = rules_snapshot_open(env->job->snap, *st, r, why);
    if (rc) {
        store_close(*st);
        *st = NULL;
    }
    return rc;
}

static void start_next(struct jobs *j);

static void finish(void *arg)
{
    struct job *job = arg;
    job->done(job->rc, &job->why, job->ctx);
    rules_snapshot_free(job->snap);
    free(job);
}

/* The result goes where the engine runs: the core thread, or the loop. */
static void deliver(struct job *job)
{
    if (job->jobs->core)
        core_call(job->jobs->core, finish, job);
    else
        finish(job);
}

static void after(uv_work_t *w, int status)
{
    struct job *job = (struct job *)w;
    struct jobs *j = job->jobs;
    uv_mutex_lock(&j->lock);
    j->running--;
    uv_mutex_unlock(&j->lock);
    if (status && !job->rc) /* cancelled: never happens, the pool holds only running jobs */
        job->rc = err_set(&job->why, -ERR_UNAVAILABLE, "the job was cancelled");
    deliver(job);
    start_next(j);
}

/* The loop thread (uv_queue_work is the loop's). */
static void start_next(struct jobs *j)
{
    for (;;) {
        uv_mutex_lock(&j->lock);
        struct job *job = j->running < JOB_RUNNING_MAX ? j->head : NULL;
        if (job) {
            j->head = job->next;
            if (!j->head)
                j->tail = NULL;
            j->waiting--;
            job->next = NULL;
            j->running++;
        }
        uv_mutex_unlock(&j->lock);
        if (!job)
            return;
        if (uv_queue_work(j->loop, &job->work, run, after)) {
            uv_mutex_lock(&j->lock);
            j->running--;
            uv_mutex_unlock(&j->lock);
            job->rc = err_set(&job->why, -ERR_INTERNAL, "cannot start a job thread");
            deliver(job);
        }
    }
}

static void on_kick(uv_async_t *a)
{
    start_next(a->data);
}

void jobs_attach(struct jobs *j, struct core *core)
{
    j->core = core;
    uv_async_init(j->loop, &j->kick, on_kick);
    j->kick.data = j;
}

void jobs_detach(struct jobs *j)
{
    if (j->core)
        uv_close((uv_handle_t *)&j->kick, NULL);
}

int job_submit(struct jobs *j, struct rules *r, job_work_fn *work, job_done_fn *done, void *ctx,
               struct err_detail *why)
{
    uv_mutex_lock(&j->lock);
    bool stopped = j->stopped;
    unsigned n = j->running + j->waiting;
    uv_mutex_unlock(&j->lock);
    if (stopped)
        return err_set(why, -ERR_UNAVAILABLE, "ltcd is shutting down");
    if (n >= JOB_RUNNING_MAX + JOB_WAITING_MAX)
        return err_set(why, -ERR_UNAVAILABLE,
                       "%u long reads (simulations, allocation runs) are running or waiting; "
                       "try again later",
                       n);
    struct job *job = calloc(1, sizeof *job);
    if (!job)
        return err_set(why, -ERR_NOMEM, "out of memory");
    int rc = rules_snapshot_take(r, &job->snap, why);
    if (rc) {
        free(job);
        return rc;
    }
    job->jobs = j;
    job->fn = work;
    job->done = done;
    job->ctx = ctx;
    uv_mutex_lock(&j->lock);
    if (j->tail)
        j->tail->next = job;
    else
        j->head = job;
    j->tail = job;
    j->waiting++;
    uv_mutex_unlock(&j->lock);
    if (j->core)
        uv_async_send(&j->kick); /* submitted on the core thread: the loop starts it */
    else
        start_next(j);
    return 0;
}

void jobs_stop(struct jobs *j)
{
    uv_mutex_lock(&j->lock);
    j->stopped = true;
    struct job *list = j->head;
    j->waiting = 0;
    j->head = j->tail = NULL;
    uv_mutex_unlock(&j->lock);
    while (list) {
        struct job *job = list;
        list = job->next;
        job->rc = err_set(&job->why, -ERR_UNAVAILABLE, "ltcd is shutting down");
        deliver(job);
    }
}
