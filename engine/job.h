/* engine/job.h
 *
 * Long reads off the loop: a what-if simulation over every stored lead, an
 * allocation run over the ledger. Run on the loop they would hold every other
 * request, /health included, for seconds; a job runs instead on one of
 * libuv's pool threads with nothing shared with the loop:
 *   - its own read-only connection to the database (store_open_reader), all
 *     of its reads inside one snapshot transaction taken when it starts, so
 *     it sees one consistent state while the loop goes on committing;
 *   - its own copy of the rules that were active when it was submitted
 *     (rules_snapshot_take on the loop, rules_snapshot_open on the thread):
 *     its own Lua states, compiled from the stored, hash-checked sources.
 * What a job produces (a result) is handed to its done callback on the loop
 * thread, which answers the request and does any write (through the daemon's
 * own connection: writes stay on the loop).
 *
 * At most JOB_RUNNING_MAX jobs run at once, so that the pool keeps threads for
 * the WAL fsyncs of group commit (app.h); up to JOB_WAITING_MAX more wait, in
 * submission order; past that job_submit refuses with -ERR_UNAVAILABLE (503),
 * and so it does once jobs_stop was called (waiting jobs then end with that
 * error too; running ones finish).
 *
 * What a job's work may call: the store through env->st (reads), the rules
 * through env->rules, jansson, the log (log.h is thread-safe). Not: app,
 * http, metrics, or anything else of the loop's.
 *
 * job_submit runs where the engine runs; jobs_open, jobs_stop, jobs_attach
 * and jobs_detach on the loop thread.
 *
 * Lifetimes: struct jobs is owned by main (jobs_open / jobs_close, with no
 * job in flight). 'ctx' belongs to the caller; it must live until 'done' has
 * run, and 'done' runs exactly once for every job_submit that returned 0.
 */
#ifndef ENGINE_JOB_H
#define ENGINE_JOB_H

#include <uv.h>

#include "err.h"
#include "rules.h"
#include "store.h"

#define JOB_RUNNING_MAX 2  /* jobs on pool threads at once (libuv's pool has 4) */
#define JOB_WAITING_MAX 16 /* jobs waiting their turn */

struct jobs;

struct job;

struct job_env {
    struct store *st;    /* the job's reader, in its snapshot */
    struct rules *rules; /* the job's copy of the active rules */
    const struct job *job;
};

/* For work that shares itself out over a second thread: another copy of the
 * job's rules, with a reader of its own (not in the job's snapshot: for the
 * rule versions the copy loads, which never change once stored). Both are
 * owned by the caller (rules_close, then store_close), on the job's thread. */
int job_rules_copy(const struct job_env *env, struct store **st, struct rules **r,
                   struct err_detail *why);

/* On the job's thread: returns 0 or an error in *why. */
typedef int job_work_fn(const struct job_env *env, void *ctx, struct err_detail *why);
/* Where the engine runs (the core thread once jobs_attach was called, else
 * the loop thread), once: the work's result (rc, why), or why it did not
 * run (the database or the rules could not be opened, shutting down). */
typedef void job_done_fn(int rc, const struct err_detail *why, void *ctx);

/* 'db_path' is copied. */
int jobs_open(uv_loop_t *loop, const char *db_path, struct jobs **out, struct err_detail *why);
void jobs_close(struct jobs *j);

/* Copy the active rules of 'r' now and queue the job. */
int job_submit(struct jobs *j, struct rules *r, job_work_fn *work, job_done_fn *done, void *ctx,
               struct err_detail *why);

/* Refuse new jobs and end the waiting ones (-ERR_UNAVAILABLE). */
void jobs_stop(struct jobs *j);

/* Jobs running or waiting (main's drain waits for 0). Any thread. */
unsigned jobs_in_flight(struct jobs *j);

/* With a core (core.h): job_submit is called on the core thread, and each
 * 'done' runs there; the loop still starts the pool's work. jobs_detach
 * closes what jobs_attach opened on the loop (before the loop ends). */
struct core;
void jobs_attach(struct jobs *j, struct core *core);
void jobs_detach(struct jobs *j);

#endif
