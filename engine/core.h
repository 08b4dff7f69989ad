/* engine/core.h
 *
 * The core thread: where the engine runs (every API handler, the rules and
 * their Lua states, the store's connection, group commit), while the loop
 * thread only speaks HTTP. The loop hands each complete request over
 * (core_submit) and goes on reading and writing sockets; the core runs the
 * requests it has, in arrival order, then commits their writes in one
 * transaction (app_flush), and answers through http_respond, which hands the
 * answer back to the loop. So neither waits for the other: the loop never
 * waits for a statement (on PostgreSQL: for the server), and the engine
 * never waits for a socket.
 *
 * Anything else that touches the engine's state is run on the core thread
 * too, through core_call: reloads (SIGHUP, the rules directory), the
 * store's probe, writes that go on (app_write.again) or that a job's result
 * queues, the drain at shutdown. WAL fsyncs of group commit run on a second
 * thread of the core's (core_offload), so the core commits the next batch
 * while one is being made durable.
 *
 * Lifetimes: the core is owned by main (core_start, core_stop on the loop
 * thread); core_stop finishes what is queued and joins both threads.
 */
#ifndef ENGINE_CORE_H
#define ENGINE_CORE_H

#include <stdbool.h>

#include "err.h"

struct app;
struct core;
struct http_req;

typedef void core_fn(void *arg);

int core_start(struct app *app, struct core **out, struct err_detail *why);
void core_stop(struct core *c);

/* Loop thread: a complete request, to run on the core thread. */
void core_submit(struct core *c, struct http_req *req);

/* Any thread: run fn(arg) on the core thread, after what is queued. */
void core_call(struct core *c, core_fn *fn, void *arg);

/* Core thread: run work(arg) on the core's second thread, then done(arg) on
 * the core thread. */
void core_offload(struct core *c, core_fn *work, core_fn *done, void *arg);

/* Nothing queued, running or offloaded (the drain at shutdown). */
bool core_idle(struct core *c);

#endif
