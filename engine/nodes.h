/* engine/nodes.h
 *
 * What one node learns from the others serving the same PostgreSQL database
 * (CONTRACT 8.5): a rule activation on any node is active on every node
 * within a second. Activations are told on the store's channel
 * (STORE_RULES_CHANNEL, at their commit); each node keeps one connection of
 * its own LISTENing to it, on a thread of its own that only waits, and has
 * the core thread take the activation in (rules_follow_store) when told.
 *
 * A lost connection (the server restarted) is made again every second;
 * each new one is followed by a catch-up of its own, since notifications
 * sent while none listened are gone. Nothing here runs on SQLite (one node).
 *
 * Lifetimes: owned by main; nodes_start after the core has started,
 * nodes_stop before the core stops (it joins the thread: at most
 * NODES_WAIT_MS).
 */
#ifndef ENGINE_NODES_H
#define ENGINE_NODES_H

#include "err.h"

#define NODES_WAIT_MS  200 /* one wait for a notification; also the stop's delay */
#define NODES_RETRY_MS 1000

struct app;
struct nodes;

/* 'uri' is the app's PostgreSQL database (copied). */
int nodes_start(struct app *app, const char *uri, struct nodes **out, struct err_detail *why);
void nodes_stop(struct nodes *n); /* NULL is fine */

#endif
