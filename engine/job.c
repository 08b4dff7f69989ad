/* engine/job.c: long reads on libuv's pool threads (see job.h). */
#include <stdlib.h>
#include <string.h>

#include "job.h"

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
    char *db_path; /* owned */
    unsigned running, waiting;
    struct job *head, *tail; /* waiting, oldest first */
    bool stopped;
};

int jobs_open(uv_loop_t *loop, const char *db_path, struct jobs **out, struct err_detail *why)
{
    struct jobs *j = calloc(1, sizeof *j);
    if (!j || !(j->db_path = strdup(db_path))) {
        free(j);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    j->loop = loop;
    *out = j;
    return 0;
}

void jobs_close(struct jobs *j)
{
    if (!j)
        return;
    free(j->db_path);
    free(j);
}

unsigned jobs_in_flight(const struct jobs *j)
{
    return j->running + j->waiting;
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

static void finish(struct job *job)
{
    job->done(job->rc, &job->why, job->ctx);
    rules_snapshot_free(job->snap);
    free(job);
}

static void after(uv_work_t *w, int status)
{
    struct job *job = (struct job *)w;
    struct jobs *j = job->jobs;
    j->running--;
    if (status && !job->rc) /* cancelled: never happens, the pool holds only running jobs */
        job->rc = err_set(&job->why, -ERR_UNAVAILABLE, "the job was cancelled");
    finish(job);
    start_next(j);
}

static void start_next(struct jobs *j)
{
    while (j->head && j->running < JOB_RUNNING_MAX) {
        struct job *job = j->head;
        j->head = job->next;
        if (!j->head)
            j->tail = NULL;
        j->waiting--;
        job->next = NULL;
        j->running++;
        if (uv_queue_work(j->loop, &job->work, run, after)) {
            j->running--;
            job->rc = err_set(&job->why, -ERR_INTERNAL, "cannot start a job thread");
            finish(job);
        }
    }
}

int job_submit(struct jobs *j, struct rules *r, job_work_fn *work, job_done_fn *done, void *ctx,
               struct err_detail *why)
{
    if (j->stopped)
        return err_set(why, -ERR_UNAVAILABLE, "ltcd is shutting down");
    if (jobs_in_flight(j) >= JOB_RUNNING_MAX + JOB_WAITING_MAX)
        return err_set(why, -ERR_UNAVAILABLE,
                       "%u long reads (simulations, allocation runs) are running or waiting; "
                       "try again later",
                       jobs_in_flight(j));
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
    if (j->tail)
        j->tail->next = job;
    else
        j->head = job;
    j->tail = job;
    j->waiting++;
    start_next(j);
    return 0;
}

void jobs_stop(struct jobs *j)
{
    j->stopped = true;
    while (j->head) {
        struct job *job = j->head;
        j->head = job->next;
        j->waiting--;
        job->rc = err_set(&job->why, -ERR_UNAVAILABLE, "ltcd is shutting down");
        finish(job);
    }
    j->tail = NULL;
}
